//! The structural pass over a payload (FORMAT.md §5.2), run before any value
//! is built, on open and on seal alike: one well-formed CBOR item of the
//! kinds a v1 payload may hold, nested at most [`RECURSION_LIMIT`] deep,
//! text valid UTF-8, no map with two equal keys, and every declared length
//! backed by bytes actually present.
//!
//! Two passes decide together. A fast path for what sessions usually hold
//! (definite lengths, integer and string keys, at most 16 keys open) is a
//! recursive descent, bounded by [`RECURSION_LIMIT`], that only ever answers
//! "certainly valid"; anything else goes to the general pass, which decides
//! and names the fault. A seal skips the fast path's UTF-8 check: its
//! serializer writes text only from `&str`.
//!
//! The general pass is iterative, with the open containers kept in fixed
//! arrays: no recursion whatever the input, and no allocation unless the
//! open maps hold more than 16 keys between them (or a key is a chunked
//! string). (cbor4ii's own skipper does part of this job recursively at
//! several times the cost, and lets malformed chunks and invalid UTF-8
//! through inside ignored fields.)

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::error::Error;

use super::RECURSION_LIMIT;

/// What an indefinite-length container expects next, kept where a definite
/// one keeps its count of items left. Definite counts never reach these
/// values: they are at most the bytes left.
/// An array: any item, or its break.
const ARRAY: u64 = u64::MAX;
/// A map: a key, or its break.
const MAP_KEY: u64 = u64::MAX - 1;
/// A map: the value of the key just read; no break.
const MAP_VALUE: u64 = u64::MAX - 2;
/// A byte string: a definite byte string chunk, or its break.
const BYTE_CHUNKS: u64 = u64::MAX - 3;
/// A text string: a definite text string chunk, or its break.
const TEXT_CHUNKS: u64 = u64::MAX - 4;

/// Maps with more keys than this are checked for duplicates by sorting
/// rather than pairwise.
const PAIRWISE_KEYS: usize = 16;

/// The keys of the open maps; beyond 16 they move to the heap.
type Keys<'a> = SmallVec<[Key<'a>; 16]>;

/// The open containers that enclose the current one; beyond 16 levels they
/// move to the heap. (Uninitialised until used: a fixed array of 64 would be
/// written in full on every call.)
type Enclosing = SmallVec<[Open; 16]>;

/// An open container: what it still expects and, for a map, where its keys
/// start in the list of keys seen.
#[derive(Clone, Copy)]
struct Open {
    need: u64,
    is_map: bool,
    keys_from: usize,
    key_start: usize,
}

impl Open {
    const TOP: Self = Self {
        need: 1,
        is_map: false,
        keys_from: 0,
        key_start: 0,
    };

    /// Whether the next item of this container is a map key.
    fn expects_key(&self) -> bool {
        // A definite map counts down from an even number of items; MAP_KEY
        // is even and MAP_VALUE odd.
        self.is_map && self.need % 2 == 0
    }
}

/// The general pass's reason for invalid UTF-8: the one fault that a
/// seal's fast path leaves to it.
const INVALID_UTF8: &str = "a text string is not valid UTF-8";

/// Checks `bytes` as a v1 payload.
///
/// # Errors
/// [`Error::PayloadTooDeep`] beyond the nesting limit, [`Error::Payload`]
/// for anything else, with the reason.
pub(crate) fn check(bytes: &[u8]) -> Result<(), Error> {
    if usual::accepts::<true>(bytes) {
        return Ok(());
    }
    check_any(bytes)
}

/// [`check`] of what this library's serializer just wrote: the fast path
/// does not validate text strings as UTF-8 again, since cbor4ii writes a
/// text string only from a `&str` (serde's byte strings are major type 2).
/// Everything else is checked as on open, and what the fast path leaves
/// to the general pass is checked in full.
pub(crate) fn check_serialized(bytes: &[u8]) -> Result<(), Error> {
    if usual::accepts::<false>(bytes) {
        return Ok(());
    }
    check_any(bytes)
}

/// [`check`] without the fast path: the pass that decides, and names what
/// is wrong, for every input.
fn check_any(bytes: &[u8]) -> Result<(), Error> {
    let malformed = |what: &str| Error::Payload(format!("invalid CBOR: {what}"));
    // The containers that enclose `open`, outermost first; its length is the
    // depth, and depth 0 is the payload itself, one item.
    let mut outer = Enclosing::new();
    let mut open = Open::TOP;
    let mut keys = Keys::new();
    let mut rest = bytes;
    loop {
        while open.need == 0 {
            if open.is_map {
                check_unique(&mut keys, open.keys_from)?;
            }
            let Some(up) = outer.pop() else {
                return match rest.len() {
                    0 => Ok(()),
                    n => Err(Error::Payload(format!(
                        "{n} bytes after the payload's CBOR item"
                    ))),
                };
            };
            open = up;
        }
        let start = bytes.len() - rest.len();
        let (&initial, tail) = rest
            .split_first()
            .ok_or_else(|| malformed("the payload ends inside an item"))?;
        rest = tail;
        if initial == 0xff {
            open.need = match open.need {
                ARRAY | MAP_KEY | BYTE_CHUNKS | TEXT_CHUNKS => 0,
                MAP_VALUE => return Err(malformed("a map key without a value")),
                _ => return Err(malformed("a break outside an indefinite-length item")),
            };
            continue;
        }
        // An item at depth `d` is at nesting level `d + 1`; a break, which
        // closes its container, is not an item.
        if outer.len() >= RECURSION_LIMIT {
            return Err(Error::PayloadTooDeep {
                limit: RECURSION_LIMIT,
            });
        }
        if open.is_map {
            if open.expects_key() {
                open.key_start = start;
            } else {
                // The key ends where its value starts.
                let key = bytes.get(open.key_start..start).unwrap_or_default();
                keys.push(Key::of(key));
            }
        }
        let major = initial >> 5;
        let info = initial & 0x1f;
        open.need = match open.need {
            ARRAY => ARRAY,
            MAP_KEY => MAP_VALUE,
            MAP_VALUE => MAP_KEY,
            BYTE_CHUNKS | TEXT_CHUNKS => {
                let chunk_major = if open.need == BYTE_CHUNKS { 2 } else { 3 };
                if major != chunk_major || info == 31 {
                    return Err(malformed(
                        "an indefinite-length string chunk that is not a definite string of its type",
                    ));
                }
                open.need
            }
            left => left - 1,
        };
        let argument = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let (arg, tail) = rest
                    .split_at_checked(1 << (info - 24))
                    .ok_or_else(|| malformed("the payload ends inside an item head"))?;
                rest = tail;
                arg.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b))
            }
            // Indefinite length (strings, arrays and maps only): no
            // argument; the container ends at its break.
            31 if matches!(major, 2..=5) => 0,
            _ => return Err(malformed("a reserved item head")),
        };
        // What the new container expects, if this item opens one.
        let (items, is_map) = match (major, info) {
            // false, true, null, undefined and the three float widths.
            (7, 20..=23 | 25..=27) => continue,
            (7, 24) if argument < 32 => {
                return Err(malformed("a two-byte simple value below 32"));
            }
            (7, _) => {
                return Err(Error::Payload(format!(
                    "simple value {argument} has no meaning in a payload"
                )));
            }
            (0 | 1, _) => continue,
            (2, 31) => (BYTE_CHUNKS, false),
            (3, 31) => (TEXT_CHUNKS, false),
            (4, 31) => (ARRAY, false),
            (5, 31) => (MAP_KEY, true),
            (2 | 3, _) => {
                let (content, tail) = usize::try_from(argument)
                    .ok()
                    .and_then(|len| rest.split_at_checked(len))
                    .ok_or_else(|| malformed("a string longer than the payload"))?;
                // Each chunk of an indefinite text string on its own too
                // (RFC 8949 §3.2.3).
                if major == 3 && !is_utf8(content) {
                    return Err(Error::Payload(INVALID_UTF8.into()));
                }
                rest = tail;
                continue;
            }
            (4 | 5, _) => {
                let items = if major == 5 {
                    argument.saturating_mul(2)
                } else {
                    argument
                };
                // Each item takes at least one byte.
                if items > rest.len() as u64 {
                    return Err(malformed("a declared length beyond the bytes present"));
                }
                if items == 0 {
                    continue;
                }
                (items, major == 5)
            }
            // A tag wraps exactly one item, one level down.
            _ => {
                check_tag(argument, rest)?;
                (1, false)
            }
        };
        outer.push(open);
        open = Open {
            need: items,
            is_map,
            keys_from: keys.len(),
            key_start: 0,
        };
    }
}

/// Whether the fast path accepted nothing the general pass refuses, and
/// without its UTF-8 check (a seal's) nothing it refuses for another
/// reason (the fuzz target `payload` asserts it on every input).
#[cfg(feature = "dangerous-test-hooks")]
pub(crate) fn fast_path_agrees(bytes: &[u8]) -> bool {
    let full = !usual::accepts::<true>(bytes) || check_any(bytes).is_ok();
    let without_text = !usual::accepts::<false>(bytes)
        || match check_any(bytes) {
            Ok(()) => true,
            Err(Error::Payload(why)) => why == INVALID_UTF8,
            Err(_) => false,
        };
    full && without_text
}

/// The fast path of [`check`] for what sessions usually hold: definite
/// lengths, integers, strings, floats, `false`/`true`/`null`, and maps whose
/// keys are integers or strings, at most 16 open at once. It answers only
/// "certainly valid" (`true`) or "not sure" (`false`): anything else, a
/// fault included, goes to [`check_any`], which decides and says why. So
/// it never accepts what `check_any` refuses (tested against it, and
/// fuzzed), and it costs a quarter of it on the reference payloads: a
/// recursive descent (depth bounded by [`RECURSION_LIMIT`]) keeps its
/// state in registers, where the general pass interprets a stack.
mod usual {
    use super::{RECURSION_LIMIT, is_utf8};

    /// A map key: major type, integer value or string length, string
    /// content. Two keys are the same data item exactly when these are
    /// equal (for the kinds this path takes: no floats, no chunks).
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct Key<'a> {
        major: u8,
        number: u64,
        content: &'a [u8],
    }

    impl Key<'_> {
        /// One of 64 bits for this key: equal keys share it, so a map
        /// whose keys' bits are all different has no duplicate without
        /// comparing any two (usual keys, names of different lengths or
        /// initials, mostly take different bits; a shared bit only costs
        /// a comparison).
        fn bit(&self) -> u64 {
            let first = self.content.first().copied().unwrap_or(0);
            let mix = self.number ^ u64::from(first) << 3 ^ u64::from(self.major) << 5;
            1 << (mix % 64)
        }
    }

    /// The keys of the maps open at once; more, and the general pass
    /// decides (it never allocates here).
    const KEYS: usize = 16;

    /// The keys of the open maps, innermost last.
    struct Keys<'a> {
        keys: [Key<'a>; KEYS],
        len: usize,
    }

    impl<'a> Keys<'a> {
        fn new() -> Self {
            Self {
                keys: [Key {
                    major: 0,
                    number: 0,
                    content: &[],
                }; KEYS],
                len: 0,
            }
        }
    }

    pub(super) fn accepts<const TEXT: bool>(bytes: &[u8]) -> bool {
        let mut keys = Keys::new();
        item::<TEXT>(bytes, 0, &mut keys).is_some_and(<[u8]>::is_empty)
    }

    /// The initial byte's major type and the argument, and what follows
    /// the head; `None` for an indefinite length or a reserved head.
    fn head(bytes: &[u8]) -> Option<(u8, u8, u64, &[u8])> {
        let (&initial, rest) = bytes.split_first()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let (argument, rest) = match info {
            0..=23 => (u64::from(info), rest),
            24 => {
                let (&b, rest) = rest.split_first()?;
                (u64::from(b), rest)
            }
            25 => {
                let (b, rest) = rest.split_first_chunk::<2>()?;
                (u64::from(u16::from_be_bytes(*b)), rest)
            }
            26 => {
                let (b, rest) = rest.split_first_chunk::<4>()?;
                (u64::from(u32::from_be_bytes(*b)), rest)
            }
            27 => {
                let (b, rest) = rest.split_first_chunk::<8>()?;
                (u64::from_be_bytes(*b), rest)
            }
            _ => return None,
        };
        Some((major, info, argument, rest))
    }

    /// A definite string's content and what follows it.
    fn string(len: u64, rest: &[u8]) -> Option<(&[u8], &[u8])> {
        rest.split_at_checked(usize::try_from(len).ok()?)
    }

    /// Checks the one item at the start of `bytes`, enclosed in `depth`
    /// containers; what follows it. Inlined into the loops of the
    /// containers, so that a scalar costs no call: only arrays and maps
    /// recurse.
    #[inline(always)]
    fn item<'a, const TEXT: bool>(
        bytes: &'a [u8],
        depth: usize,
        keys: &mut Keys<'a>,
    ) -> Option<&'a [u8]> {
        if depth >= RECURSION_LIMIT {
            return None;
        }
        let (major, info, argument, rest) = head(bytes)?;
        match major {
            0 | 1 => Some(rest),
            2 => Some(string(argument, rest)?.1),
            3 => {
                let (text, rest) = string(argument, rest)?;
                (!TEXT || is_utf8(text)).then_some(rest)
            }
            4 => array::<TEXT>(argument, rest, depth, keys),
            5 => map::<TEXT>(argument, rest, depth, keys),
            // false, true, null, undefined, and the three float widths;
            // not tags (6), simple values or breaks.
            7 if matches!(info, 20..=23 | 25..=27) => Some(rest),
            _ => None,
        }
    }

    /// An array of `items` starting at `bytes`.
    fn array<'a, const TEXT: bool>(
        items: u64,
        bytes: &'a [u8],
        depth: usize,
        keys: &mut Keys<'a>,
    ) -> Option<&'a [u8]> {
        // Each item takes at least one byte.
        if items > bytes.len() as u64 {
            return None;
        }
        let mut rest = bytes;
        for _ in 0..items {
            rest = item::<TEXT>(rest, depth + 1, keys)?;
        }
        Some(rest)
    }

    /// A map of `pairs` entries starting at `bytes`: keys of major types 0
    /// to 3, all different, each followed by its value.
    fn map<'a, const TEXT: bool>(
        pairs: u64,
        bytes: &'a [u8],
        depth: usize,
        keys: &mut Keys<'a>,
    ) -> Option<&'a [u8]> {
        if pairs > (bytes.len() / 2) as u64 {
            return None;
        }
        let from = keys.len;
        // The bits of this map's keys so far: a key whose bit is new is
        // new, and only a shared bit costs a comparison.
        let mut bits = 0u64;
        let mut rest = bytes;
        for _ in 0..pairs {
            // A key is an item one level down: the depth check as a value.
            if depth + 1 >= RECURSION_LIMIT || keys.len == KEYS {
                return None;
            }
            let (major, _, argument, tail) = head(rest)?;
            let (key, tail) = match major {
                0 | 1 => (
                    Key {
                        major,
                        number: argument,
                        content: &[],
                    },
                    tail,
                ),
                2 | 3 => {
                    let (content, tail) = string(argument, tail)?;
                    if TEXT && major == 3 && !is_utf8(content) {
                        return None;
                    }
                    (
                        Key {
                            major,
                            number: argument,
                            content,
                        },
                        tail,
                    )
                }
                _ => return None,
            };
            let bit = key.bit();
            if bits & bit != 0 && keys.keys.get(from..keys.len)?.contains(&key) {
                return None;
            }
            bits |= bit;
            *keys.keys.get_mut(keys.len)? = key;
            keys.len += 1;
            rest = item::<TEXT>(tail, depth + 1, keys)?;
        }
        keys.len = from;
        Some(rest)
    }
}

/// Tags whose content, read as if untagged, would mean something else:
/// refused rather than opened as another value (FORMAT.md §5.2).
const REFUSED_TAGS: [(u64, &str); 9] = [
    (4, "decimal fraction"),
    (5, "bigfloat"),
    (25, "string reference"),
    (28, "shareable value"),
    (29, "shared value reference"),
    (30, "rational number"),
    (256, "string reference namespace"),
    (264, "decimal fraction with arbitrary exponent"),
    (265, "bigfloat with arbitrary exponent"),
];

/// A bignum's magnitude is at most this many bytes (128 bits), its leading
/// zero bytes aside: what `u128` and `i128` read.
const BIGNUM_BYTES: usize = 16;

/// Checks tag `tag`, whose content starts `rest`: a bignum (tags 2 and 3)
/// is a definite byte string of at most 128 bits; a tag whose content
/// means something else untagged is refused.
fn check_tag(tag: u64, rest: &[u8]) -> Result<(), Error> {
    if let Some((_, name)) = REFUSED_TAGS.iter().find(|(t, _)| *t == tag) {
        return Err(Error::Payload(format!(
            "tag {tag} ({name}): its content would open as another value, so a payload does not hold it"
        )));
    }
    if !matches!(tag, 2 | 3) {
        return Ok(());
    }
    let bignum = |what: &str| Error::Payload(format!("a bignum (tag {tag}) {what}"));
    let Some((&initial, tail)) = rest.split_first() else {
        return Ok(()); // the item's own check reports the end
    };
    let (major, info) = (initial >> 5, initial & 0x1f);
    if major != 2 || info == 31 {
        return Err(bignum("over something other than a definite byte string"));
    }
    let (len, tail) = match info {
        0..=23 => (u64::from(info), tail),
        24..=27 => match tail.split_at_checked(1 << (info - 24)) {
            Some((arg, tail)) => (
                arg.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)),
                tail,
            ),
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    let content = usize::try_from(len)
        .ok()
        .and_then(|len| tail.get(..len))
        .unwrap_or(tail);
    let significant = content.iter().skip_while(|&&b| b == 0).count();
    if significant > BIGNUM_BYTES {
        return Err(bignum(&format!(
            "of {significant} significant bytes, beyond 128 bits"
        )));
    }
    Ok(())
}

/// Valid UTF-8, with a fast path for ASCII, which most session text is.
fn is_utf8(bytes: &[u8]) -> bool {
    bytes.is_ascii() || std::str::from_utf8(bytes).is_ok()
}

/// A map key as the data item it is, so that two encodings of one value
/// are the same key: integers by value, strings by their content (chunked
/// or not), floats by the bits of their value as a 64-bit float, simple
/// values by number. Arrays, maps and tags as keys compare by their bytes.
///
/// Small and `Copy`, compared field by field (kind, then number, then
/// bytes), so that usual keys, text of different lengths, differ at once.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key<'a> {
    kind: KeyKind,
    /// The integer's value, the string's length, the float's bits, the
    /// simple value; 0 for the rest.
    number: u64,
    /// The definite string's content, or the whole item for `Encoded` and
    /// chunked strings.
    content: &'a [u8],
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum KeyKind {
    Unsigned,
    Negative,
    Bytes,
    Text,
    Float,
    Simple,
    Encoded,
    /// An indefinite-length string: equal to a definite one with the same
    /// content, so compared after joining its chunks (`joined`).
    ChunkedBytes,
    ChunkedText,
}

impl<'a> Key<'a> {
    /// `item` is one well-formed item (the pass has read it).
    fn of(item: &'a [u8]) -> Self {
        let encoded = Self {
            kind: KeyKind::Encoded,
            number: 0,
            content: item,
        };
        let Some((&initial, rest)) = item.split_first() else {
            return encoded;
        };
        let (major, info) = (initial >> 5, initial & 0x1f);
        let (kind, number, content): (KeyKind, u64, &[u8]) = match (major, info) {
            (0, _) => (KeyKind::Unsigned, head(item).1, &[]),
            (1, _) => (KeyKind::Negative, head(item).1, &[]),
            (2, 31) => (KeyKind::ChunkedBytes, 0, item),
            (3, 31) => (KeyKind::ChunkedText, 0, item),
            (2 | 3, _) => {
                let content = definite_content(item);
                let kind = if major == 2 {
                    KeyKind::Bytes
                } else {
                    KeyKind::Text
                };
                (kind, content.len() as u64, content)
            }
            (7, 25..=27) => (
                KeyKind::Float,
                super::float::widen(info, rest).to_bits(),
                &[],
            ),
            (7, _) => (KeyKind::Simple, u64::from(info), &[]),
            _ => return encoded,
        };
        Self {
            kind,
            number,
            content,
        }
    }

    fn is_chunked(&self) -> bool {
        matches!(self.kind, KeyKind::ChunkedBytes | KeyKind::ChunkedText)
    }

    /// The key with a chunked string joined into the definite one it
    /// equals: kind, number and content then decide equality for every key.
    fn joined(&self) -> (KeyKind, u64, Cow<'a, [u8]>) {
        let kind = match self.kind {
            KeyKind::ChunkedBytes => KeyKind::Bytes,
            KeyKind::ChunkedText => KeyKind::Text,
            _ => return (self.kind, self.number, Cow::Borrowed(self.content)),
        };
        let content = joined_chunks(self.content);
        (kind, content.len() as u64, Cow::Owned(content))
    }
}

/// Length and argument of the well-formed head at the start of `item`: the
/// initial byte and 0, 1, 2, 4 or 8 bytes of argument (missing bytes, which
/// the pass has ruled out, read as nothing).
pub(super) fn head(item: &[u8]) -> (usize, u64) {
    let info = item.first().map_or(0, |b| b & 0x1f);
    let extra = match info {
        24..=27 => 1usize << (info - 24),
        _ => 0,
    };
    let value = match info {
        0..=23 => u64::from(info),
        _ => item
            .iter()
            .skip(1)
            .take(extra)
            .fold(0u64, |acc, &b| acc << 8 | u64::from(b)),
    };
    (1 + extra, value)
}

/// The content of a well-formed definite string item.
fn definite_content(item: &[u8]) -> &[u8] {
    let (head_len, len) = head(item);
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    item.get(head_len..)
        .and_then(|r| r.get(..len))
        .unwrap_or_default()
}

/// The chunks of a well-formed indefinite-length string item, joined.
fn joined_chunks(item: &[u8]) -> Vec<u8> {
    let mut joined = Vec::new();
    let mut chunks = item.get(1..).unwrap_or_default();
    while chunks.first().is_some_and(|&b| b != 0xff) {
        let content = definite_content(chunks);
        joined.extend_from_slice(content);
        let used = head(chunks).0.saturating_add(content.len());
        chunks = chunks.get(used..).unwrap_or_default();
    }
    joined
}

/// Refuses a map whose keys from `from` on hold two equal ones, then drops
/// them from the list.
fn check_unique(keys: &mut Keys<'_>, from: usize) -> Result<(), Error> {
    let map = keys.get_mut(from..).unwrap_or_default();
    let duplicate = if map.iter().any(Key::is_chunked) {
        // Rare: compare every key with its chunks joined.
        let mut joined: Vec<_> = map.iter().map(Key::joined).collect();
        joined.sort_unstable();
        joined.windows(2).any(|w| matches!(w, [a, b] if a == b))
    } else if map.len() <= PAIRWISE_KEYS {
        map.iter()
            .enumerate()
            .any(|(i, a)| map.iter().skip(i + 1).any(|b| a == b))
    } else {
        map.sort_unstable();
        map.windows(2).any(|w| matches!(w, [a, b] if a == b))
    };
    keys.truncate(from);
    if duplicate {
        return Err(Error::Payload("a map holds the same key twice".into()));
    }
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::RECURSION_LIMIT;

    fn nested(levels: usize) -> Vec<u8> {
        let mut bytes = vec![0x81; levels - 1];
        bytes.push(0x00);
        bytes
    }

    /// FORMAT.md §5.2: bignums are definite byte strings of at most 128
    /// bits; tags whose content would mean another value untagged are
    /// refused; other tags read as their content.
    #[test]
    fn tags_that_would_change_the_value_are_refused() {
        let mut wide = vec![0xc2, 0x51];
        wide.extend([1u8; 17]);
        let mut padded = vec![0xc3, 0x52, 0, 0];
        padded.extend([0xff; 16]);
        for (bytes, why) in [
            (
                &[0xc2, 0x61, b'1'][..],
                "a bignum (tag 2) over something other than a definite byte string",
            ),
            (
                &[0xc3, 0x01],
                "a bignum (tag 3) over something other than a definite byte string",
            ),
            (
                &[0xc2, 0x5f, 0x41, 0x01, 0xff],
                "a bignum (tag 2) over something other than a definite byte string",
            ),
            (
                &wide,
                "a bignum (tag 2) of 17 significant bytes, beyond 128 bits",
            ),
            (&[0xd8, 0x1d, 0x00], "tag 29 (shared value reference)"),
            (&[0xd8, 0x1c, 0x82, 0x01, 0x02], "tag 28 (shareable value)"),
            (&[0xd8, 0x19, 0x00], "tag 25 (string reference)"),
            (
                &[0xd9, 0x01, 0x00, 0x80],
                "tag 256 (string reference namespace)",
            ),
            (
                &[0xc4, 0x82, 0x21, 0x19, 0x6a, 0xb3],
                "tag 4 (decimal fraction)",
            ),
            (&[0xd8, 0x1e, 0x82, 0x01, 0x03], "tag 30 (rational number)"),
        ] {
            let e = check(bytes).unwrap_err().to_string();
            assert!(e.contains(why), "{bytes:02x?}: {e}");
        }
        // 128 bits with leading zeros, an empty bignum, and tags that keep
        // their content's meaning.
        for good in [
            &padded[..],
            &[0xc2, 0x40],
            &[0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00],
            &[0xd9, 0xd9, 0xf7, 0x01],
        ] {
            check(good).unwrap_or_else(|e| panic!("{good:02x?}: {e}"));
        }
    }

    #[test]
    fn structure_refuses_what_rfc_8949_calls_not_well_formed() {
        use serde::de::IgnoredAny;
        // Before this pass checked them, cbor4ii let these through into a
        // type that ignores the value (an unknown field of a struct).
        for bad in [
            // An indefinite map with a key and no value.
            &[0xbf, 0x01, 0xff][..],
            &[0xbf, 0x61, b'k', 0x01, 0x02, 0xff],
            // Chunks of an indefinite string: definite, and of its own type.
            &[0x5f, 0x01, 0xff],
            &[0x5f, 0x61, b'a', 0xff],
            &[0x7f, 0x41, 0x00, 0xff],
            &[0x5f, 0x5f, 0xff, 0xff],
            &[0x7f, 0x7f, 0xff, 0xff],
            // Simple values below 32 in the two-byte form.
            &[0xf8, 0x00],
            &[0xf8, 0x1f],
            // Simple values with no meaning in a payload.
            &[0xf8, 0x20],
            &[0xf8, 0xff],
            &[0xe0],
            &[0xf3],
            // Text that is not UTF-8, also inside an ignored field, and a
            // character split across the chunks of an indefinite string.
            &[0xa1, 0x65, b'e', b'x', b't', b'r', b'a', 0x62, 0xff, 0xfe],
            &[0x7f, 0x61, 0xc3, 0x61, 0xa9, 0xff],
            &[0x62, 0xc3, 0x28],
            // Two equal keys, in any encoding of the same key.
            &[0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02],
            &[0xa2, 0x01, 0x00, 0x18, 0x01, 0x00],
            &[0xbf, 0x7f, 0x61, b'k', 0xff, 0x01, 0x61, b'k', 0x02, 0xff],
            &[
                0xa2, 0xf9, 0x3e, 0x00, 0x00, 0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x01,
            ],
            &[0xa2, 0x81, 0x01, 0x00, 0x81, 0x01, 0x00],
        ] {
            assert!(check(bad).is_err(), "{bad:02x?}");
            assert!(
                super::super::decode::<IgnoredAny>(bad).is_err(),
                "{bad:02x?}"
            );
        }
        for ok in [
            &[0xbf, 0x01, 0x02, 0xff][..],
            &[0xbf, 0xff],
            &[0x5f, 0x41, 0x00, 0x40, 0xff],
            &[0x7f, 0x61, b'a', 0x60, 0xff],
            &[0x7f, 0xff],
            &[0x7f, 0x62, 0xc3, 0xa9, 0xff],
            &[0xf4],
            &[0xf7],
            // Keys that differ, and one key in two maps.
            &[0xa2, 0x01, 0x00, 0x21, 0x00],
            &[0xa2, 0x61, b'a', 0x01, 0x41, b'a', 0x02],
            &[0xa2, 0x01, 0xa1, 0x01, 0x00, 0x02, 0xa1, 0x01, 0x00],
            // A chunked key beside other keys, none equal.
            &[
                0xa3, 0x7f, 0x61, b'k', 0xff, 0x01, 0x61, b'j', 0x02, 0x41, b'k', 0x03,
            ],
        ] {
            assert!(check(ok).is_ok(), "{ok:02x?}");
        }
    }

    #[test]
    fn empty_containers_may_sit_at_the_last_level() {
        for innermost in [&[0x80][..], &[0xa0], &[0x9f, 0xff], &[0xbf, 0xff]] {
            let mut bytes = vec![0x81; RECURSION_LIMIT - 1];
            bytes.extend_from_slice(innermost);
            assert!(check(&bytes).is_ok(), "{innermost:02x?}");
        }
    }

    #[test]
    fn structure_accepts_well_formed_items() {
        for ok in [
            &[0x00][..],
            &[0x1b, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0x63, b'a', b'b', b'c'],
            &[0x82, 0x01, 0xa1, 0x61, b'k', 0xf6],
            &[0x9f, 0x01, 0x02, 0xff],
            &[0xbf, 0x61, b'k', 0x80, 0xff],
            &[0x5f, 0x41, 0x00, 0x41, 0x01, 0xff],
            &[0xc1, 0x1a, 0, 0, 0, 1],
            &[0xfb, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0x80],
            &[0xa0],
        ] {
            assert!(check(ok).is_ok(), "{ok:02x?}");
        }
        assert!(check(&nested(RECURSION_LIMIT)).is_ok());
    }

    #[test]
    fn structure_refuses_malformed_items() {
        for bad in [
            &[][..],
            &[0x00, 0x00],
            &[0x18],
            &[0x62, b'a'],
            &[0x82, 0x01],
            &[0x9a, 0xff, 0xff, 0xff, 0xff, 0x00],
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00],
            // Counts that saturate to the largest u64 are still definite.
            &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00],
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x9f, 0x01],
            &[0xff],
            &[0x82, 0x01, 0xff],
            &[0x1c],
            &[0x3f],
            &[0xdf, 0x00],
            &[0xc6],
        ] {
            assert!(check(bad).is_err(), "{bad:02x?}");
        }
        assert!(matches!(
            check(&nested(RECURSION_LIMIT + 1)),
            Err(Error::PayloadTooDeep {
                limit: RECURSION_LIMIT
            })
        ));
        assert!(matches!(
            check(&vec![0xc6; 100_000]),
            Err(Error::PayloadTooDeep { .. })
        ));
    }
}

/// The fast path is only ever a shortcut: whatever it accepts, the general
/// pass accepts (the fuzz target `payload` checks the same on every input).
#[cfg(test)]
#[allow(clippy::cast_possible_truncation)] // lengths below 24, by construction
mod usual_agrees {
    use proptest::prelude::*;

    use super::*;

    /// CBOR items the fast path takes, and some it leaves to the general
    /// pass, so that mutations land on both sides of every rule.
    fn item() -> impl Strategy<Value = Vec<u8>> {
        let leaf = prop_oneof![
            any::<u8>().prop_map(|n| vec![n & 0x3f]),
            (any::<u64>(), 0u8..2).prop_map(|(n, m)| {
                let mut b = vec![m << 5 | 27];
                b.extend(n.to_be_bytes());
                b
            }),
            "[a-c\\u{e9}]{0,3}".prop_map(|t| {
                let mut b = vec![0x60 | t.len() as u8];
                b.extend(t.as_bytes());
                b
            }),
            proptest::collection::vec(any::<u8>(), 0..3).prop_map(|t| {
                let mut b = vec![0x40 | t.len() as u8];
                b.extend(t);
                b
            }),
            prop::sample::select(vec![
                vec![0xf4],
                vec![0xf6],
                vec![0xf7],
                vec![0xf9, 0x3e, 0x00],
                vec![0xc1, 0x01],
                vec![0xff],
                vec![0x5f, 0x41, 0x00, 0xff],
            ]),
        ];
        leaf.prop_recursive(6, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(|items| {
                    let mut b = vec![0x80 | items.len() as u8];
                    b.extend(items.concat());
                    b
                }),
                proptest::collection::vec((inner.clone(), inner), 0..5).prop_map(|pairs| {
                    let mut b = vec![0xa0 | pairs.len() as u8];
                    for (k, v) in pairs {
                        b.extend(k);
                        b.extend(v);
                    }
                    b
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn usual_never_accepts_what_the_general_pass_refuses(
            bytes in item(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = bytes;
            for (at, value) in flips {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            if usual::accepts::<true>(&bytes) {
                prop_assert!(check_any(&bytes).is_ok(), "{:02x?}: {:?}", bytes, check_any(&bytes));
                prop_assert!(usual::accepts::<false>(&bytes), "{:02x?}", bytes);
            }
            // Without the UTF-8 check (a seal's own output) it leaves out
            // that one rule and no other.
            if usual::accepts::<false>(&bytes) {
                match check_any(&bytes) {
                    Ok(()) => {}
                    Err(Error::Payload(why)) => {
                        prop_assert_eq!(why.as_str(), INVALID_UTF8, "{:02x?}", bytes);
                    }
                    Err(other) => prop_assert!(false, "{:02x?}: {:?}", bytes, other),
                }
            }
        }

        #[test]
        fn usual_never_accepts_random_bytes_the_general_pass_refuses(
            bytes in proptest::collection::vec(any::<u8>(), 0..24),
        ) {
            if usual::accepts::<true>(&bytes) {
                prop_assert!(check_any(&bytes).is_ok(), "{:02x?}", bytes);
            }
        }
    }

    /// And it takes the payloads sessions hold (else it would be no
    /// shortcut): the reference shapes, integer keys, 16 keys open.
    #[test]
    fn usual_takes_the_usual_payloads() {
        let mut sixteen = vec![0xb0];
        for k in 0..16u8 {
            sixteen.extend([k, 0xf5]);
        }
        let mut deep = vec![0x81; RECURSION_LIMIT - 1];
        deep.push(0xa0);
        for ok in [
            &[
                0xa2, 0x61, b'a', 0x82, 0x01, 0x62, 0xc3, 0xa9, 0x01, 0xfb, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
            &[0xa2, 0x01, 0xf6, 0x21, 0xf4],
            &sixteen,
            &deep,
        ] {
            assert!(usual::accepts::<true>(ok), "{ok:02x?}");
        }
        // Left to the general pass, which accepts them.
        for other in [&[0xc1, 0x01][..], &[0x9f, 0xff], &[0x7f, 0xff]] {
            assert!(
                !usual::accepts::<true>(other) && check(other).is_ok(),
                "{other:02x?}"
            );
        }
    }
}

#[cfg(test)]
mod large_maps {
    use super::*;

    /// A map of `n` integer keys 0..n (values 0), with `last` as its final key.
    fn map_of(n: u8, last: u8) -> Vec<u8> {
        let mut bytes = vec![0xb8, n];
        for k in 0..n - 1 {
            bytes.extend_from_slice(&[0x18, k, 0x00]);
        }
        bytes.extend_from_slice(&[0x18, last, 0x00]);
        bytes
    }

    #[test]
    fn duplicates_are_found_by_sorting_in_large_maps() {
        assert!(check(&map_of(40, 39)).is_ok());
        assert!(check(&map_of(40, 0)).is_err());
        assert!(check(&map_of(40, 38)).is_err());
        assert!(check(&map_of(17, 16)).is_ok());
        assert!(check(&map_of(17, 3)).is_err());
    }
}
