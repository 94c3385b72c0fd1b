//! Reading a session from a request's `Cookie` headers, split as the
//! `cookie` crate's parser splits them.

use std::borrow::Cow;
use std::fmt;

use crate::error::{CookieError, Error};

use super::layout::{self, First, Layout, MAX_CHUNKS};

/// The session's cookies a request carried, by name only (see
/// [`RequestCookies::presence`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Presence {
    /// By chunk index: index 0 is the cookie called `name`.
    seen: [bool; MAX_CHUNKS],
}

impl Presence {
    /// The chunk indexes that were seen.
    pub(crate) fn seen_indexes(&self) -> impl Iterator<Item = usize> + '_ {
        self.seen
            .iter()
            .enumerate()
            .filter_map(|(i, &seen)| seen.then_some(i))
    }
}

/// The session cookies of one request: what [`SessionCookie::read`] found
/// in its `Cookie` headers, not yet joined or checked.
///
/// Cookies named like the session but that cannot be one of its chunks in
/// this configuration (`session.sig`, `session.10`, `session.3` when
/// sessions take at most 3 cookies) are someone else's, and are skipped:
/// a sibling domain that sets them cannot empty the session.
///
/// Borrows the header text; never allocates unless a chunked session is
/// joined.
///
/// ```
/// use sealed_session::SessionCookie;
/// let cookie = SessionCookie::builder("session").build()?;
/// let request = cookie.read(["theme=dark; session=AQID"]);
/// assert_eq!(request.token()?.as_deref(), Some("AQID"));
/// assert_eq!(cookie.read(["theme=dark"]).token()?, None);
/// # Ok::<(), sealed_session::Error>(())
/// ```
///
/// [`SessionCookie::read`]: crate::SessionCookie::read
#[derive(Clone)]
pub struct RequestCookies<'a> {
    /// The reading configuration's chunk limit and token budget.
    max_chunks: usize,
    budget: usize,
    /// Values by chunk index: index 0 is the cookie called `name`.
    values: [Option<&'a str>; MAX_CHUNKS],
    /// By chunk index: the name, if it appeared more than once.
    duplicated: [Option<&'a str>; MAX_CHUNKS],
}

impl<'a> RequestCookies<'a> {
    pub(crate) fn new(layout: &Layout) -> Self {
        Self {
            max_chunks: layout.max_chunks(),
            budget: layout.budget(),
            values: [None; MAX_CHUNKS],
            duplicated: [None; MAX_CHUNKS],
        }
    }

    /// Reads `headers` (one or several `Cookie` header values; HTTP/2 sends
    /// one per cookie). Taking them in turn is joining them with `"; "`, as
    /// RFC 9113 §8.2.3 says. Cookies of other names are skipped, and so are
    /// pairs the parser refuses.
    pub(crate) fn read(layout: &Layout, headers: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut found = Self::new(layout);
        let session = layout.name();
        for header in headers {
            for (name, raw) in pairs(header) {
                // Most of a site's cookies are not the session's.
                if name.starts_with(session) {
                    if let Some(value) = value(raw) {
                        found.add(session, name, unquote(value));
                    }
                }
            }
        }
        found
    }

    fn add(&mut self, session: &str, name: &'a str, value: &'a str) {
        let index = if name == session {
            0
        } else {
            match layout::chunk_index(session, name) {
                Some(index) if index < self.max_chunks => index,
                // Not a chunk this configuration writes: another cookie.
                _ => return,
            }
        };
        if let (Some(slot), Some(twice)) =
            (self.values.get_mut(index), self.duplicated.get_mut(index))
        {
            if slot.is_some() {
                *twice = Some(name);
            }
            *slot = Some(value);
        }
    }

    /// Whether the request carries any cookie of the session's name or its
    /// chunks' names.
    ///
    /// ```
    /// # use sealed_session::SessionCookie;
    /// let cookie = SessionCookie::builder("session").build()?;
    /// assert!(cookie.read(["session=x"]).is_present());
    /// assert!(!cookie.read(["sessions=x"]).is_present());
    /// // Not a chunk of a session kept in one cookie: someone else's.
    /// assert!(!cookie.read(["session.1=x; session.sig=y"]).is_present());
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn is_present(&self) -> bool {
        self.values.iter().any(Option::is_some)
    }

    /// The session's token: `None` if the request carries no session
    /// cookie; borrowed when it sits in one cookie, joined when chunked.
    /// Chunks are joined by their index, whatever order they came in.
    ///
    /// ```
    /// use sealed_session::{CookieError, Error, SessionCookie};
    /// let cookie = SessionCookie::builder("session").chunked(3).build()?;
    /// let token = "A".repeat(5000); // any base64url text; too long for one cookie
    /// let set = cookie.set(&token, None, &cookie.read([]))?;
    /// let pairs: Vec<&str> = set.headers().iter().map(|h| h.split(';').next().unwrap()).collect();
    /// assert_eq!(pairs.len(), 2);
    /// // The browser may send chunk 1 first, and in a header of its own.
    /// let request = cookie.read([pairs[1], pairs[0]]);
    /// assert_eq!(request.token()?.as_deref(), Some(token.as_str()));
    ///
    /// // A chunk left behind by a session that has since shrunk to one
    /// // cookie is not read (the next write deletes it)...
    /// let stale = cookie.read(["session=AQID", pairs[1]]);
    /// assert_eq!(stale.token()?.as_deref(), Some("AQID"));
    /// // ...but a session cookie sent twice is refused: which one is ours?
    /// let twice = cookie.read(["session=AQID; session=AQIE"]);
    /// assert!(matches!(twice.token(), Err(Error::Cookie(CookieError::Duplicate { .. }))));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Cookie`] when the cookies do not form one session of this
    /// configuration: a cookie of the session sent twice
    /// ([`CookieError::Duplicate`]), a bad chunk header, a chunk missing or
    /// from another session, more chunks than allowed, or more bytes than
    /// this configuration writes. Chunks beyond those the first cookie
    /// announces are left over from a larger session, and are not read.
    pub fn token(&self) -> Result<Option<Cow<'a, str>>, Error> {
        let Some(first) = self.values.first().copied().flatten() else {
            return match self.seen_indexes().next_back() {
                Some(highest) => Err(CookieError::MissingChunk {
                    index: 0,
                    count: highest + 1,
                }
                .into()),
                None => Ok(None),
            };
        };
        let too_large = |size| {
            Error::from(CookieError::RequestTooLarge {
                size,
                limit: self.budget,
            })
        };
        // `name` twice is refused first, whatever its values (FORMAT.md
        // §11.3 step 2).
        self.refuse_duplicates(1)?;
        let (count, fingerprint, piece) = match layout::parse_first(first) {
            None => return Err(CookieError::ChunkHeader { index: 0 }.into()),
            Some(First::Whole(token)) => {
                if token.len() > self.budget {
                    return Err(too_large(token.len()));
                }
                return Ok(Some(Cow::Borrowed(token)));
            }
            Some(First::Chunk {
                count,
                fingerprint,
                piece,
            }) => (count, fingerprint, piece),
        };
        if count > self.max_chunks {
            return Err(CookieError::TooManyChunks {
                count,
                max: self.max_chunks,
            }
            .into());
        }
        self.refuse_duplicates(count)?;
        let mut pieces = [""; MAX_CHUNKS];
        let mut size = piece.len();
        if let Some(slot) = pieces.first_mut() {
            *slot = piece;
        }
        for index in 1..count {
            let value = self
                .values
                .get(index)
                .copied()
                .flatten()
                .ok_or(CookieError::MissingChunk { index, count })?;
            let (carried, piece) =
                layout::parse_next(value).ok_or(CookieError::ChunkHeader { index })?;
            if carried != fingerprint {
                return Err(CookieError::MixedChunks { index }.into());
            }
            size += piece.len();
            if let Some(slot) = pieces.get_mut(index) {
                *slot = piece;
            }
        }
        if size > self.budget {
            return Err(too_large(size));
        }
        let token = pieces.concat();
        if !layout::fingerprint_matches(&token, fingerprint) {
            return Err(CookieError::MixedChunks { index: count - 1 }.into());
        }
        Ok(Some(Cow::Owned(token)))
    }

    /// Refuses a request that carries one of the first `count` chunks
    /// twice (from two paths or domains, or tossed by a sibling domain):
    /// which one is the session's cannot be told.
    fn refuse_duplicates(&self, count: usize) -> Result<(), CookieError> {
        match self.duplicated.iter().take(count).find_map(|&twice| twice) {
            Some(name) => Err(CookieError::Duplicate {
                name: name.to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// The chunk indexes this request carries.
    fn seen_indexes(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        self.values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|_| i))
    }

    /// Which of the session's cookies this request carries, apart from the
    /// header text: what a response needs to delete the ones it no longer
    /// uses.
    pub(crate) fn presence(&self) -> Presence {
        let mut seen = [false; MAX_CHUNKS];
        for (slot, value) in seen.iter_mut().zip(&self.values) {
            *slot = value.is_some();
        }
        Presence { seen }
    }
}

/// Shows which chunks are present and their lengths, never their values: a
/// session token in a log is a session anyone reading the log can use.
impl fmt::Debug for RequestCookies<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lengths: Vec<(usize, usize)> = self
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v.len())))
            .collect();
        f.debug_struct("RequestCookies")
            .field("chunk_lengths", &lengths)
            .field("duplicated", &self.duplicated)
            .field("max_chunks", &self.max_chunks)
            .field("budget", &self.budget)
            .finish()
    }
}

/// A cookie value may be quoted (RFC 6265 §4.1.1); the quotes are not part
/// of it.
/// The name-value pairs of a `Cookie` header, as the `cookie` crate's
/// `Cookie::split_parse` reads them (pieces split at `;`, name and value
/// split at the first `=` and trimmed, pieces without `=` or with an empty
/// name skipped) without building a `Cookie` per pair: that took 4,000
/// instructions for a three-cookie header, a quarter of a request through
/// the axum layer. `splits_as_the_cookie_crate_does` holds the two
/// together. From bytes: a piece that is not UTF-8 is skipped alone, so a
/// stray byte in another cookie never hides the session. The value comes
/// raw, for [`value`]: only the session's own values are checked.
fn pairs(header: &[u8]) -> impl Iterator<Item = (&str, &[u8])> {
    // memchr's vectorised search: the token is most of the header.
    let ends = memchr::memchr_iter(b';', header).chain([header.len()]);
    let mut start = 0;
    ends.filter_map(move |end| {
        let piece = header.get(start..end)?;
        start = end + 1;
        // `=` is ASCII: the piece is text exactly when both sides are.
        let eq = memchr::memchr(b'=', piece)?;
        let name = std::str::from_utf8(piece.get(..eq)?).ok()?.trim();
        (!name.is_empty()).then_some((name, piece.get(eq + 1..)?))
    })
}

/// A pair's value as text, trimmed; `None` if it is not UTF-8 (the pair
/// is then skipped, as the `cookie` crate skips it). Only the values that
/// are read pay for the check: most of a header is other cookies.
fn value(raw: &[u8]) -> Option<&str> {
    Some(std::str::from_utf8(raw).ok()?.trim())
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{pairs, value};

    fn by_the_cookie_crate(header: &str) -> Vec<(String, String)> {
        cookie::Cookie::split_parse(header)
            .flatten()
            .filter_map(|c| Some((c.name_raw()?.to_owned(), c.value_raw()?.to_owned())))
            .collect()
    }

    fn ours(header: &str) -> Vec<(String, String)> {
        pairs(header.as_bytes())
            .filter_map(|(n, v)| Some((n.to_owned(), value(v)?.to_owned())))
            .collect()
    }

    #[test]
    fn splits_known_headers_as_the_cookie_crate_does() {
        for header in [
            "",
            ";",
            "a=1",
            " a = 1 ; b=2;c=",
            "=x; a=1; noequals; ;; b==2; \t c=\"q\" ",
            "session=2.abcd.x; session.1=abcd.y",
            "a=1;\u{a0}b=2\u{3000}",
        ] {
            assert_eq!(ours(header), by_the_cookie_crate(header), "{header:?}");
        }
    }

    #[test]
    fn a_byte_that_is_not_utf8_hides_only_its_own_pair() {
        let header = b"theme=\xff\xfe; session=AQID; lang=en";
        let found: Vec<_> = pairs(header)
            .filter_map(|(n, v)| Some((n, value(v)?)))
            .collect();
        assert_eq!(found, [("session", "AQID"), ("lang", "en")]);
    }

    proptest! {
        #[test]
        fn splits_as_the_cookie_crate_does(header in "[a-c=; \t\"\u{a0}.]{0,40}") {
            prop_assert_eq!(ours(&header), by_the_cookie_crate(&header));
        }

        #[test]
        fn splits_any_text_as_the_cookie_crate_does(header in any::<String>()) {
            prop_assert_eq!(ours(&header), by_the_cookie_crate(&header));
        }
    }
}
