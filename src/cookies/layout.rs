//! How a token is laid out over cookies (FORMAT.md §11): one cookie holding
//! the token when it fits, otherwise chunks `name`, `name.1`, ... whose
//! headers say how many there are and tie each one to the token.
//!
//! Only arithmetic and framing: no header parsing or formatting.

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::error::CookieError;

/// The cookie values of one token, in order: the token itself when one
/// cookie carries it (the usual case, kept off the heap), else its chunks.
pub(crate) type Chunks<'t> = SmallVec<[Cow<'t, str>; 2]>;

/// Browsers drop a cookie whose name and value together exceed this many
/// bytes (RFC 6265bis §5.6, and every current browser).
pub const COOKIE_LIMIT: usize = 4096;
/// Browsers ignore an attribute whose value exceeds this many bytes
/// (RFC 6265bis §5.6).
pub const ATTRIBUTE_LIMIT: usize = 1024;
/// Most chunks a session may be split into: the count is one digit.
pub const MAX_CHUNKS: usize = 9;

/// Characters of the token copied into every chunk header: 24 bits of its
/// authentication tag, which differ between any two sealed tokens.
const FINGERPRINT_LEN: usize = 4;
/// `{count}.{fingerprint}.` before the first chunk's part of the token.
const FIRST_HEADER_LEN: usize = 1 + 1 + FINGERPRINT_LEN + 1;
/// `{fingerprint}.` before every other chunk's part.
const NEXT_HEADER_LEN: usize = FINGERPRINT_LEN + 1;
/// `=` between name and value, and `; ` between cookies in a `Cookie`
/// header (counted for every cookie, so the figure is an upper bound).
const PAIR_OVERHEAD: usize = 1 + 2;

/// The cookie name and limits that decide how a token is split.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    name: Box<str>,
    max_chunks: usize,
    request_budget: usize,
    /// Most bytes of name and value per cookie.
    cookie_limit: usize,
    /// Largest token carried by one cookie without a chunk header.
    single: usize,
    /// Largest token carried at all.
    budget: usize,
}

/// The longest piece of a token that chunk `index` carries, and the bytes of
/// `Cookie` request header it takes besides that piece.
struct Room {
    piece: usize,
    overhead: usize,
}

impl Layout {
    /// A layout for checked settings: `max_chunks` in `1..=MAX_CHUNKS`,
    /// `cookie_limit` at most [`COOKIE_LIMIT`].
    pub(crate) fn new(
        name: &str,
        max_chunks: usize,
        request_budget: usize,
        cookie_limit: usize,
    ) -> Self {
        let single = (cookie_limit.saturating_sub(name.len()))
            .min(request_budget.saturating_sub(name.len() + PAIR_OVERHEAD));
        let mut layout = Self {
            name: name.into(),
            max_chunks,
            request_budget,
            cookie_limit,
            single,
            budget: single,
        };
        if max_chunks > 1 {
            layout.budget = single.max(layout.chunked_capacity(max_chunks));
        }
        layout
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn max_chunks(&self) -> usize {
        self.max_chunks
    }

    pub(crate) fn request_budget(&self) -> usize {
        self.request_budget
    }

    pub(crate) fn cookie_limit(&self) -> usize {
        self.cookie_limit
    }

    /// Largest token this layout carries.
    pub(crate) fn budget(&self) -> usize {
        self.budget
    }

    /// How many cookies the largest token takes: fewer than `max_chunks`
    /// when the request budget runs out first.
    pub(crate) fn usable_chunks(&self) -> usize {
        if self.budget <= self.single {
            return 1;
        }
        (2..=self.max_chunks)
            .find(|&n| self.chunked_capacity(n) >= self.budget)
            .unwrap_or(self.max_chunks)
    }

    /// The name of chunk `index`: `name`, then `name.1`, `name.2`, ...
    pub(crate) fn chunk_name(&self, index: usize) -> String {
        if index == 0 {
            self.name.to_string()
        } else {
            format!("{}.{index}", self.name)
        }
    }

    fn room(&self, index: usize) -> Room {
        // Indexes stay below MAX_CHUNKS: one digit after the dot.
        let name = if index == 0 {
            self.name.len()
        } else {
            self.name.len() + 2
        };
        let header = if index == 0 {
            FIRST_HEADER_LEN
        } else {
            NEXT_HEADER_LEN
        };
        Room {
            piece: self.cookie_limit.saturating_sub(name + header),
            overhead: name + header + PAIR_OVERHEAD,
        }
    }

    /// Pieces of a token split over `chunks` chunks, filling each in turn
    /// as far as the cookie limit and what is left of the request budget
    /// allow; `None` if even the headers do not fit.
    fn pieces(&self, chunks: usize) -> impl Iterator<Item = usize> + '_ {
        let mut left = self.request_budget;
        (0..chunks).map(move |index| {
            let room = self.room(index);
            let piece = room.piece.min(left.saturating_sub(room.overhead));
            left = left.saturating_sub(room.overhead + piece);
            piece
        })
    }

    fn chunked_capacity(&self, chunks: usize) -> usize {
        self.pieces(chunks).sum()
    }

    /// Splits `token` (ASCII) into the cookie values to set, in chunk order.
    ///
    /// # Errors
    /// [`CookieError::TooLarge`] if it does not fit.
    pub(crate) fn split<'t>(&self, token: &'t str) -> Result<Chunks<'t>, CookieError> {
        if token.len() <= self.single {
            // One cookie: the token itself, neither copied nor listed on
            // the heap.
            return Ok(smallvec::smallvec![Cow::Borrowed(token)]);
        }
        let chunks = (2..=self.max_chunks)
            .find(|&n| self.chunked_capacity(n) >= token.len())
            .ok_or(CookieError::TooLarge {
                size: token.len(),
                limit: self.budget,
                max_chunks: self.max_chunks,
                request_budget: self.request_budget,
            })?;
        let fingerprint = fingerprint(token).unwrap_or_default();
        let mut rest = token;
        let mut values = Chunks::with_capacity(chunks);
        for (index, piece) in self.pieces(chunks).enumerate() {
            let (part, tail) = rest.split_at(piece.min(rest.len()));
            rest = tail;
            values.push(Cow::Owned(if index == 0 {
                format!("{chunks}.{fingerprint}.{part}")
            } else {
                format!("{fingerprint}.{part}")
            }));
        }
        debug_assert!(rest.is_empty());
        Ok(values)
    }
}

/// The characters of `token` that every chunk header repeats: four from its
/// authentication tag (the last 16 or 32 bytes), skipping the final
/// character, which may hold fewer than 6 bits.
fn fingerprint(token: &str) -> Option<&str> {
    let end = token.len().checked_sub(1)?;
    token.get(end.checked_sub(FINGERPRINT_LEN)?..end)
}

fn is_fingerprint(text: &str) -> bool {
    text.len() == FINGERPRINT_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The first cookie's value: a whole token, or the first chunk.
pub(crate) enum First<'v> {
    Whole(&'v str),
    Chunk {
        count: usize,
        fingerprint: &'v str,
        piece: &'v str,
    },
}

/// Reads the first cookie's value. A token never holds a `.`, so a value
/// that does is a chunk header; `None` if that header is not well formed.
pub(crate) fn parse_first(value: &str) -> Option<First<'_>> {
    // memchr: a token is a few hundred bytes to search, at every request.
    if memchr::memchr(b'.', value.as_bytes()).is_none() {
        return Some(First::Whole(value));
    }
    let (count, rest) = value.split_once('.')?;
    let (fingerprint, piece) = rest.split_once('.')?;
    let count = match count.as_bytes() {
        &[d @ b'2'..=b'9'] => usize::from(d - b'0'),
        _ => return None,
    };
    (is_fingerprint(fingerprint) && !piece.is_empty()).then_some(First::Chunk {
        count,
        fingerprint,
        piece,
    })
}

/// Reads a later chunk's value: its fingerprint and piece of the token.
pub(crate) fn parse_next(value: &str) -> Option<(&str, &str)> {
    let (fingerprint, piece) = value.split_once('.')?;
    (is_fingerprint(fingerprint) && !piece.is_empty()).then_some((fingerprint, piece))
}

/// Whether the joined `token` is the one whose fingerprint the chunks carry.
pub(crate) fn fingerprint_matches(token: &str, carried: &str) -> bool {
    fingerprint(token) == Some(carried)
}

/// The chunk index in a cookie name `name.{index}`, 1 to 8 written plainly
/// (no sign, no leading zero); `None` for any other name, such as
/// `name.sig` or `name.10`: another cookie's.
pub(crate) fn chunk_index(session: &str, cookie: &str) -> Option<usize> {
    let suffix = cookie.strip_prefix(session)?.strip_prefix('.')?;
    match suffix.as_bytes() {
        &[d @ b'1'..=b'8'] => Some(usize::from(d - b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cookie_carries_the_cookie_limit_less_the_name() {
        let layout = Layout::new("session", 1, 6144, COOKIE_LIMIT);
        assert_eq!(layout.budget(), 4096 - 7);
        assert_eq!(layout.split(&"A".repeat(4089)).unwrap().len(), 1);
        let e = layout.split(&"A".repeat(4090)).unwrap_err();
        assert_eq!(
            e,
            CookieError::TooLarge {
                size: 4090,
                limit: 4089,
                max_chunks: 1,
                request_budget: 6144
            }
        );
    }

    #[test]
    fn a_small_request_budget_binds_before_the_cookie_limit() {
        let layout = Layout::new("session", 1, 1000, COOKIE_LIMIT);
        assert_eq!(layout.budget(), 1000 - 7 - 3);
    }

    #[test]
    fn chunks_fill_up_to_the_request_budget() {
        let layout = Layout::new("session", 4, 6144, COOKIE_LIMIT);
        // First chunk: 4096 - 7 (name) - 7 (header); its share of the
        // request header: 7 + 7 + 3 = 17 more. Second: what is left.
        let first = 4096 - 7 - 7;
        let second = 6144 - (first + 17) - (9 + 5 + 3);
        assert_eq!(layout.budget(), first + second);
        let token = "A".repeat(layout.budget());
        let values = layout.split(&token).unwrap();
        assert_eq!(values.len(), 2);
        assert!(layout.split(&"A".repeat(layout.budget() + 1)).is_err());
    }

    #[test]
    fn a_lower_cookie_limit_makes_more_chunks() {
        let layout = Layout::new("s", 9, 8182, 1024);
        // Every chunk carries 1016 bytes of token and takes 1027 of the
        // request budget: 7 whole chunks, then 8182 - 7 * 1027 - 11.
        assert_eq!(layout.budget(), 7 * 1016 + (8182 - 7 * 1027 - 11));
        let token = "A".repeat(3000);
        let values = layout.split(&token).unwrap();
        assert_eq!(values.len(), 3);
        for (index, value) in values.iter().enumerate() {
            assert!(layout.chunk_name(index).len() + value.len() <= 1024);
        }
    }

    #[test]
    fn chunk_names_are_plain_indexes() {
        assert_eq!(chunk_index("s", "s.1"), Some(1));
        assert_eq!(chunk_index("s", "s.8"), Some(8));
        for other in ["s.0", "s.9", "s.01", "s.+1", "s.", "s.1x", "s.10", "s.sig"] {
            assert_eq!(chunk_index("s", other), None, "{other}");
        }
        assert_eq!(chunk_index("s", "s"), None);
        assert_eq!(chunk_index("s", "sx.1"), None);
        assert_eq!(chunk_index("s", "other"), None);
    }

    #[test]
    fn chunk_headers_parse_strictly() {
        assert!(matches!(parse_first("AQID"), Some(First::Whole("AQID"))));
        assert!(matches!(
            parse_first("2.abcd.xyz"),
            Some(First::Chunk {
                count: 2,
                fingerprint: "abcd",
                piece: "xyz"
            })
        ));
        for bad in [
            "1.abcd.x",
            "10.abcd.x",
            "2.abc.x",
            "2.abcd.",
            "2.ab+d.x",
            "2abcd.x",
            ".",
        ] {
            assert!(parse_first(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_next("abcd.xyz"), Some(("abcd", "xyz")));
        assert!(parse_next("abcd.").is_none());
        assert!(parse_next("abcde.x").is_none());
    }
}
