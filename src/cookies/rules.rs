//! What a cookie name and its attributes may hold, and the rules of the
//! `__Host-` and `__Secure-` prefixes: checked once, when a
//! [`SessionCookie`](crate::SessionCookie) is built, so that no setting can
//! end an attribute early and inject another (CVE-2024-47764).

use crate::error::CookieConfigError;

use super::layout::ATTRIBUTE_LIMIT;

/// RFC 6265 §4.1.1: a cookie name is an RFC 2616 token, visible ASCII
/// except the separators.
pub(crate) fn check_name(name: &str) -> Result<(), CookieConfigError> {
    if name.is_empty() {
        return Err(CookieConfigError::EmptyName);
    }
    match name.char_indices().find(|&(_, c)| !is_token_char(c)) {
        Some((at, found)) => Err(CookieConfigError::Name { found, at }),
        None => Ok(()),
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c)
}

/// RFC 6265 §4.1.1 `path-value`, stricter: visible ASCII without `;` or
/// `,`, starting with `/` (browsers replace any other path with a default).
pub(crate) fn check_path(path: &str) -> Result<(), CookieConfigError> {
    check_attribute("Path", path, |c| {
        c.is_ascii_graphic() && c != ';' && c != ','
    })?;
    if !path.starts_with('/') {
        return Err(CookieConfigError::AttributeShape {
            attribute: "Path",
            reason: "must start with '/'",
        });
    }
    Ok(())
}

/// The longest label of a host name, in bytes (RFC 1034 §3.1).
const LABEL_LIMIT: usize = 63;

/// The longest host name, in bytes, without a trailing dot (RFC 1034 §3.1).
const HOST_NAME_LIMIT: usize = 253;

/// A host name (RFC 1034 §3.1, RFC 1123 §2.1): labels of 1 to 63 letters,
/// digits and `-`, no `-` at either end of a label, at most 253 bytes in
/// all, with an optional leading `.`. Browsers ignore a cookie whose
/// `Domain` is anything else, so the session would be lost silently.
pub(crate) fn check_domain(domain: &str) -> Result<(), CookieConfigError> {
    check_attribute("Domain", domain, |c| {
        c.is_ascii_alphanumeric() || c == '-' || c == '.'
    })?;
    let (mut at, labels) = match domain.strip_prefix('.') {
        Some(rest) => (1, rest),
        None => (0, domain),
    };
    for label in labels.split('.') {
        if label.is_empty() {
            return Err(CookieConfigError::AttributeShape {
                attribute: "Domain",
                reason: "has an empty label",
            });
        }
        if label.len() > LABEL_LIMIT {
            return Err(CookieConfigError::DomainLabel {
                at,
                len: label.len(),
                max: LABEL_LIMIT,
            });
        }
        if label.starts_with('-') {
            return Err(CookieConfigError::DomainHyphen { at });
        }
        if label.ends_with('-') {
            return Err(CookieConfigError::DomainHyphen {
                at: at + label.len() - 1,
            });
        }
        at += label.len() + 1;
    }
    if labels.len() > HOST_NAME_LIMIT {
        return Err(CookieConfigError::DomainTooLong {
            len: labels.len(),
            max: HOST_NAME_LIMIT,
        });
    }
    Ok(())
}

fn check_attribute(
    attribute: &'static str,
    value: &str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), CookieConfigError> {
    if value.is_empty() {
        return Err(CookieConfigError::AttributeShape {
            attribute,
            reason: "is empty",
        });
    }
    if let Some((at, found)) = value.char_indices().find(|&(_, c)| !allowed(c)) {
        return Err(CookieConfigError::Attribute {
            attribute,
            found,
            at,
        });
    }
    if value.len() > ATTRIBUTE_LIMIT {
        return Err(CookieConfigError::AttributeTooLong {
            attribute,
            len: value.len(),
            max: ATTRIBUTE_LIMIT,
        });
    }
    Ok(())
}

/// The attributes the prefix rules look at.
pub(crate) struct PrefixedAttributes<'a> {
    pub(crate) name: &'a str,
    pub(crate) secure: bool,
    pub(crate) path: &'a str,
    pub(crate) has_domain: bool,
}

/// RFC 6265bis §4.1.3: a `__Secure-` cookie must be `Secure`; a `__Host-`
/// cookie must also have `Path=/` and no `Domain`. Browsers match the
/// prefixes without regard to case.
pub(crate) fn check_prefix(cookie: &PrefixedAttributes<'_>) -> Result<(), CookieConfigError> {
    let has_prefix = |prefix: &str| {
        cookie
            .name
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    let broken = |prefix, rule| Err(CookieConfigError::Prefix { prefix, rule });
    if has_prefix("__Host-") {
        if !cookie.secure {
            return broken("__Host-", "must be Secure");
        }
        if cookie.path != "/" {
            return broken("__Host-", "must have Path=/");
        }
        if cookie.has_domain {
            return broken("__Host-", "must not have a Domain");
        }
    } else if has_prefix("__Secure-") && !cookie.secure {
        return broken("__Secure-", "must be Secure");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tokens() {
        assert_eq!(check_name("session"), Ok(()));
        assert_eq!(check_name("__Host-id.v2"), Ok(()));
        assert_eq!(check_name(""), Err(CookieConfigError::EmptyName));
        for (name, found, at) in [
            ("a b", ' ', 1),
            ("a;b", ';', 1),
            ("a=b", '=', 1),
            ("a,b", ',', 1),
            ("sé", 'é', 1),
            ("a\r\nSet-Cookie", '\r', 1),
            ("\"q\"", '"', 0),
        ] {
            assert_eq!(
                check_name(name),
                Err(CookieConfigError::Name { found, at }),
                "{name:?}"
            );
        }
    }

    #[test]
    fn attributes_cannot_carry_another_attribute() {
        assert_eq!(check_path("/app"), Ok(()));
        assert!(matches!(
            check_path("/; Domain=evil.example"),
            Err(CookieConfigError::Attribute {
                found: ';',
                at: 1,
                ..
            })
        ));
        assert!(matches!(
            check_path("/a\nb"),
            Err(CookieConfigError::Attribute { found: '\n', .. })
        ));
        assert!(check_path("/a,b").is_err());
        assert!(check_path("app").is_err());
        assert_eq!(check_domain("example.com"), Ok(()));
        assert_eq!(check_domain(".example.com"), Ok(()));
        assert!(check_domain("example.com; Secure").is_err());
        assert!(check_domain("a..b").is_err());
        assert!(check_domain("exa_mple.com").is_err());
        assert!(check_domain("").is_err());
    }

    #[test]
    fn attribute_values_stop_at_the_browser_limit() {
        let path = format!("/{}", "a".repeat(ATTRIBUTE_LIMIT - 1));
        assert_eq!(check_path(&path), Ok(()));
        assert_eq!(
            check_path(&format!("{path}a")),
            Err(CookieConfigError::AttributeTooLong {
                attribute: "Path",
                len: ATTRIBUTE_LIMIT + 1,
                max: ATTRIBUTE_LIMIT
            })
        );
    }
}
