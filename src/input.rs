//! Finding a token in what a person pastes: a bare token, a `Cookie:` request
//! header (a chunked session is joined), or a `Set-Cookie:` response line.
//! For tools such as the CLI; a web app reads requests with
//! [`SessionCookie::read`](crate::SessionCookie::read).

use std::borrow::Cow;
use std::fmt;

use cookie::Cookie;

use crate::cookies::{MAX_CHUNKS, MAX_REQUEST_BUDGET, SessionCookie};
use crate::error::{CookieError, Error};

/// Why no token could be taken from an input.
///
/// ```
/// use sealed_session::{InputError, extract_token};
/// let e = extract_token("Cookie: theme=dark", "session").unwrap_err();
/// assert!(matches!(e, InputError::CookieNotFound { .. }));
/// assert_eq!(e.to_string(), "no cookie named \"session\"; present: theme");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// Nothing but whitespace or quotes.
    Empty,
    /// Not a token, a `Cookie:` header, a `Set-Cookie:` line or `name=value`
    /// pairs.
    Unrecognised {
        /// The first offending character.
        found: char,
        /// Its byte offset in the trimmed input.
        at: usize,
    },
    /// The cookie header or line has no cookie of the wanted name.
    CookieNotFound {
        /// The wanted name.
        name: String,
        /// The names that were present.
        present: Vec<String>,
    },
    /// The header's session cookies do not form one session: a chunk
    /// missing, repeated, left over or from another session.
    Chunks(CookieError),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str(
                "input is empty: expected a token, a `Cookie:` header or a `Set-Cookie:` line",
            ),
            Self::Unrecognised { found, at } => write!(
                f,
                "unexpected {found:?} at byte {at}: expected a base64url token, a `Cookie:` header or a `Set-Cookie:` line"
            ),
            Self::CookieNotFound { name, present } if present.is_empty() => {
                write!(f, "no cookie named {name:?}: the input holds no cookies")
            }
            Self::CookieNotFound { name, present } => {
                // Escaped: pasted cookie names may hold control characters.
                write!(f, "no cookie named {name:?}; present: ")?;
                for (i, p) in present.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{}", p.escape_debug())?;
                }
                Ok(())
            }
            Self::Chunks(e) => write!(f, "session cookie: {e}"),
        }
    }
}

impl std::error::Error for InputError {}

/// Longest input considered, in bytes: a request header beyond 64 KiB is
/// refused by every common server anyway.
const MAX_INPUT: usize = 64 * 1024;

/// Takes the token out of `input`, which may be:
/// - a bare token (surrounding whitespace and quotes are ignored);
/// - a `Cookie:` request header, or its value (`a=1; session=...`): the
///   cookie called `name` is taken, joined with its chunks `name.1`, ...
///   if the session is chunked; several `Cookie:` lines (as HTTP/2 sends
///   them) are read as one request;
/// - a `Set-Cookie:` line: its cookie must be called `name`; attributes are
///   ignored.
///
/// Only locates the token: whether it is one is for [`Codec::open`] to say
/// (a padded token, `...=`, is passed on as it is, for the codec to refuse
/// as malformed). Lenient, for text a person pastes; a web app reads
/// requests with [`SessionCookie::read`], which this uses for `Cookie:`
/// headers. [`extract_session`] also says the budget that applies.
///
/// ```
/// use sealed_session::extract_token;
/// assert_eq!(extract_token(" 'AQID' ", "session").as_deref(), Ok("AQID"));
/// assert_eq!(extract_token("Cookie: a=1; session=AQID", "session").as_deref(), Ok("AQID"));
/// assert_eq!(extract_token("Set-Cookie: session=AQID; Path=/; HttpOnly", "session").as_deref(), Ok("AQID"));
/// assert!(extract_token("Cookie: a=1", "session").is_err());
/// ```
///
/// # Errors
/// [`InputError`] when the input is empty, is none of the above, has no
/// cookie called `name`, or has chunks that do not form one session.
///
/// [`Codec::open`]: crate::Codec::open
/// [`SessionCookie::read`]: crate::SessionCookie::read
pub fn extract_token<'a>(input: &'a str, name: &str) -> Result<Cow<'a, str>, InputError> {
    extract_session(input, name).map(|found| found.token)
}

/// A token found by [`extract_session`], with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extracted<'a> {
    /// The token text.
    pub token: Cow<'a, str>,
    /// For a token carried in cookies, the largest token those cookies can
    /// carry (FORMAT.md §7: a cookie-carried token has its cookie
    /// configuration's budget): one 4096-byte cookie for a `Set-Cookie:`
    /// line; for a `Cookie:` header, the widest configuration (9 chunks
    /// within the largest request budget, [`MAX_REQUEST_BUDGET`]). `None`
    /// for a bare token: the tool's own budget applies.
    pub cookie_budget: Option<usize>,
}

/// [`extract_token`], saying also which budget the token's carrier allows.
///
/// ```
/// use sealed_session::extract_session;
/// // An all-`A` token's fingerprint (FORMAT.md §11.2) is `AAAA`.
/// let chunked = format!("Cookie: session=2.AAAA.{}; session.1=AAAA.AA", "A".repeat(4000));
/// let found = extract_session(&chunked, "session")?;
/// assert_eq!(found.token.len(), 4002);
/// assert_eq!(found.cookie_budget, Some(8148)); // not the codec's default 3840
/// assert_eq!(extract_session("AQID", "session")?.cookie_budget, None);
/// # Ok::<(), sealed_session::InputError>(())
/// ```
///
/// # Errors
/// As [`extract_token`].
pub fn extract_session<'a>(input: &'a str, name: &str) -> Result<Extracted<'a>, InputError> {
    // Cut at a character boundary at or below the cap, never past it.
    let mut end = MAX_INPUT.min(input.len());
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    let input = input.get(..end).unwrap_or_default();
    let text = unquote(input.trim());
    if text.is_empty() {
        return Err(InputError::Empty);
    }
    if let Some(rest) = strip_prefix_ignore_case(text, "set-cookie:") {
        let first = rest.split(';').next().unwrap_or_default();
        return find_cookie([first], name, 1);
    }
    if strip_prefix_ignore_case(text, "cookie:").is_some() {
        // One header per line: a line's last value must not run into the
        // next line's first name.
        let headers = text
            .lines()
            .map(|line| {
                let line = line.trim();
                strip_prefix_ignore_case(line, "cookie:").unwrap_or(line)
            })
            .filter(|line| !line.trim().is_empty());
        return find_cookie(headers, name, MAX_CHUNKS);
    }
    let unpadded = text.trim_end_matches('=');
    let padding = text.len() - unpadded.len();
    // Shaped like a token with base64 padding (one or two `=` where a
    // length not a multiple of 4 needs them, and far longer than a cookie
    // name, as every token is): a malformed token, not a pasted `name=`.
    if (1..=2).contains(&padding)
        && unpadded.len() >= MIN_PADDED_TOKEN
        && (unpadded.len() + padding) % 4 == 0
        && is_base64url(unpadded)
    {
        return Ok(bare(text));
    }
    if text.contains('=') {
        // Base64url never contains '=': these are `name=value` pairs.
        return find_cookie(text.lines(), name, MAX_CHUNKS);
    }
    match text
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        Some((at, found)) => Err(InputError::Unrecognised { found, at }),
        None => Ok(bare(text)),
    }
}

/// The shortest token is 38 bytes (signed mode, FORMAT.md §2.3): 51
/// characters of base64url.
const MIN_PADDED_TOKEN: usize = 51;

fn bare(text: &str) -> Extracted<'_> {
    Extracted {
        token: Cow::Borrowed(text),
        cookie_budget: None,
    }
}

fn is_base64url(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The session called `name` in `headers`, read as a web app reads `Cookie`
/// headers, with up to `max_chunks` chunks (1 for a `Set-Cookie` line).
fn find_cookie<'a>(
    headers: impl IntoIterator<Item = &'a str> + Clone,
    name: &str,
    max_chunks: usize,
) -> Result<Extracted<'a>, InputError> {
    let not_found = || InputError::CookieNotFound {
        name: name.to_owned(),
        present: headers
            .clone()
            .into_iter()
            .flat_map(Cookie::split_parse)
            .flatten()
            .filter_map(|c| c.name_raw())
            .take(16)
            .map(str::to_owned)
            .collect(),
    };
    // A name no browser would store (spaces, `;`...) is never found.
    let Ok(cookie) = SessionCookie::builder(name)
        .chunked(max_chunks)
        .request_budget(MAX_REQUEST_BUDGET)
        .build()
    else {
        return Err(not_found());
    };
    let found = |token| Extracted {
        token,
        cookie_budget: Some(cookie.token_budget()),
    };
    match cookie.read(headers.clone()).token() {
        Ok(Some(token)) if token.trim().is_empty() => Err(InputError::Empty),
        Ok(Some(token)) => Ok(found(token)),
        Ok(None) => Err(not_found()),
        Err(Error::Cookie(e)) => Err(InputError::Chunks(e)),
        // `token` fails with cookie errors only.
        Err(_) => Err(not_found()),
    }
}

fn unquote(text: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return inner.trim();
        }
    }
    text
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tokens_in_every_accepted_shape() {
        for input in [
            "AQID",
            "  AQID\n",
            "\"AQID\"",
            "'AQID'",
            "Cookie: session=AQID",
            "cookie:session=AQID",
            "COOKIE: theme=dark; session=\"AQID\"; lang=en",
            "theme=dark; session=AQID",
            "Set-Cookie: session=AQID; Path=/; Secure; HttpOnly; SameSite=Lax",
            "set-cookie: session=AQID",
        ] {
            assert_eq!(
                extract_token(input, "session").as_deref(),
                Ok("AQID"),
                "{input:?}"
            );
        }
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(extract_token("  ", "session"), Err(InputError::Empty));
        assert_eq!(extract_token("''", "session"), Err(InputError::Empty));
        assert_eq!(
            extract_token("AQ ID", "session"),
            Err(InputError::Unrecognised { found: ' ', at: 2 })
        );
        let e = extract_token("Cookie: a=1; b=2", "session").expect_err("absent");
        assert_eq!(e.to_string(), "no cookie named \"session\"; present: a, b");
        let e = extract_token("Set-Cookie: other=AQID; Path=/", "session").expect_err("name");
        assert_eq!(e.to_string(), "no cookie named \"session\"; present: other");
        assert!(extract_token("Set-Cookie: session=; Path=/", "session").is_err());
        assert!(extract_token("AQ+D", "session").is_err());
        let e = extract_token("Cookie: a\x1b[2J=1", "session").expect_err("absent");
        assert_eq!(
            e.to_string(),
            "no cookie named \"session\"; present: a\\u{1b}[2J"
        );
    }

    /// HTTP/2 sends one `Cookie` header per cookie: pasted as lines, each
    /// is its own header, so a chunk on the next line is found.
    #[test]
    fn several_cookie_lines_are_one_request() {
        // An all-`A` token's fingerprint is `AAAA`.
        let first = format!("2.AAAA.{}", "A".repeat(10));
        let input = format!("Cookie: theme=dark; session={first}\ncookie: session.1=AAAA.AA\n");
        let found = extract_session(&input, "session").expect("joined");
        assert_eq!(found.token, "A".repeat(12));
        // The same pairs without the prefix, one per line.
        let pairs = format!("session={first}\nsession.1=AAAA.AA");
        assert_eq!(
            extract_token(&pairs, "session").as_deref(),
            Ok(found.token.as_ref())
        );
    }

    /// A token pasted with base64 padding is a malformed token (for the
    /// codec to say so), not a cookie that is absent.
    #[test]
    fn a_padded_token_is_passed_on_as_a_token() {
        let token = "A".repeat(62);
        for padded in [format!("{token}=="), format!("'{token}A='")] {
            let found = extract_session(&padded, "session").expect("a token");
            assert!(found.token.ends_with('='), "{padded}");
            assert_eq!(found.cookie_budget, None);
        }
        // Still pairs: a name and a value, or an empty cookie pasted.
        assert!(matches!(
            extract_token("AQID=x", "session"),
            Err(InputError::CookieNotFound { .. })
        ));
        assert_eq!(extract_token("session=", "session"), Err(InputError::Empty));
    }

    /// A token from cookies gets its carrier's budget: one cookie for a
    /// `Set-Cookie:` line, the widest chunked configuration for a header.
    #[test]
    fn a_cookie_carried_token_has_its_cookies_budget() {
        let line = extract_session("Set-Cookie: session=AQID; Path=/", "session").expect("found");
        assert_eq!(line.cookie_budget, Some(4096 - "session".len()));
        let header = extract_session("Cookie: session=AQID", "session").expect("found");
        let widest = SessionCookie::builder("session")
            .chunked(MAX_CHUNKS)
            .request_budget(MAX_REQUEST_BUDGET)
            .build()
            .expect("cookie");
        assert_eq!(header.cookie_budget, Some(widest.token_budget()));
        assert!(header.cookie_budget > Some(crate::DEFAULT_BUDGET));
    }

    #[test]
    fn the_input_cap_holds_for_multibyte_text() {
        // Byte 65536 falls inside a two-byte character: the cut steps back
        // to a boundary instead of giving up the cap.
        let text = format!("x{}", "é".repeat(MAX_INPUT));
        let e = extract_token(&text, "session").expect_err("not a token");
        assert!(matches!(e, InputError::Unrecognised { at: 1, .. }), "{e:?}");
        let pairs = format!("a=1; b={}; session=AQID", "é".repeat(MAX_INPUT));
        assert!(matches!(
            extract_token(&pairs, "session"),
            Err(InputError::CookieNotFound { .. })
        ));
    }
}
