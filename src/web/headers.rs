//! The HTTP header rules, on header values as bytes, so that every
//! framework's adapter shares them: which `Cache-Control` already keeps a
//! response out of shared caches, whether `Vary` lists a header, and where
//! a token header's token is.

/// What a response that sets or deletes a session says to caches, unless
/// its own `Cache-Control` already keeps it out of shared ones.
pub(crate) const NO_STORE: &str = "no-store";

/// A header value as text, if it is visible ASCII (what `http` accepts as
/// a string); any other value is ignored, as if absent.
fn visible_ascii(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

/// A shared cache must never store one user's `Set-Cookie` (or token) for
/// another (Flask CVE-2023-30861): true if the response's `Cache-Control`
/// values already say `no-store` or `private`; else the adapter sets
/// [`NO_STORE`].
pub(crate) fn keeps_out_of_shared_caches<'v>(
    cache_control: impl IntoIterator<Item = &'v [u8]>,
) -> bool {
    cache_control.into_iter().any(|value| {
        visible_ascii(value).is_some_and(|v| {
            v.split(',').any(|directive| {
                let directive = directive.trim();
                directive.eq_ignore_ascii_case("no-store")
                    || directive.eq_ignore_ascii_case("private")
            })
        })
    })
}

/// True if the response's `Vary` values already list `name` (or `*`);
/// else the adapter appends `Vary: name`.
pub(crate) fn varies_on<'v>(vary: impl IntoIterator<Item = &'v [u8]>, name: &str) -> bool {
    vary.into_iter().any(|value| {
        visible_ascii(value).is_some_and(|v| {
            v.split(',')
                .any(|listed| listed.trim() == "*" || listed.trim().eq_ignore_ascii_case(name))
        })
    })
}

/// The token of `Authorization: Bearer <token>`, if the value is one.
pub(crate) fn bearer_token(authorization: &[u8]) -> Option<&str> {
    let (scheme, token) = visible_ascii(authorization)?.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// The token of a header that carries nothing else.
pub(crate) fn named_token(value: &[u8]) -> Option<&str> {
    Some(visible_ascii(value)?.trim()).filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_directives_are_read_case_insensitively_among_others() {
        assert!(keeps_out_of_shared_caches([&b"max-age=0, Private"[..]]));
        assert!(keeps_out_of_shared_caches([&b"public"[..], b"NO-STORE"]));
        assert!(!keeps_out_of_shared_caches([&b"public, max-age=60"[..]]));
        assert!(!keeps_out_of_shared_caches([&b"priv\xffate"[..]]));
        assert!(!keeps_out_of_shared_caches(std::iter::empty()));
    }

    #[test]
    fn vary_lists_a_name_or_a_star() {
        assert!(varies_on([&b"Accept, cookie"[..]], "cookie"));
        assert!(varies_on([&b"*"[..]], "cookie"));
        assert!(!varies_on([&b"Accept"[..]], "cookie"));
    }

    #[test]
    fn token_headers() {
        assert_eq!(bearer_token(b"Bearer abc "), Some("abc"));
        assert_eq!(bearer_token(b"bearer abc"), Some("abc"));
        assert_eq!(bearer_token(b"Basic abc"), None);
        assert_eq!(bearer_token(b"Bearer  "), None);
        assert_eq!(named_token(b" abc "), Some("abc"));
        assert_eq!(named_token(b" "), None);
    }
}
