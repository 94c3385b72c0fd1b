//! `seal`'s JSON input, read into a [`Value`] so that the token opens as the
//! JSON that went in: null as null, integers exactly, floats correctly
//! rounded, objects in input order.
//!
//! A serde visitor gets a number only as serde_json parsed it (an f64 for
//! anything with a fraction, exponent or more than 64 bits, and serde_json's
//! default float parsing is not correctly rounded), so each value is taken
//! as its text ([`RawValue`]) and a container's text is read again one level
//! down: a byte is scanned once per enclosing level, at most
//! [`RECURSION_LIMIT`] times.

use std::collections::HashSet;
use std::fmt;

use sealed_session::RECURSION_LIMIT;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::value::Value;

/// Why a text does not become a [`Value`].
#[derive(Debug)]
pub(crate) enum JsonError {
    /// Not JSON at all.
    Syntax(serde_json::Error),
    /// JSON, but a token could not give it back as written.
    Unsealable(String),
}

pub(crate) fn parse(text: &str) -> Result<Value, JsonError> {
    // The whole text first: syntax errors point into it, not into a part.
    let raw = serde_json::from_str::<&RawValue>(text).map_err(JsonError::Syntax)?;
    value(raw.get(), 1)
}

/// `raw`: one value's text, valid JSON; `depth`: its nesting level, 1 at
/// the top as in the library's limit.
fn value(raw: &str, depth: usize) -> Result<Value, JsonError> {
    if depth > RECURSION_LIMIT {
        return Err(JsonError::Unsealable(format!(
            "the value nests deeper than {RECURSION_LIMIT} levels, so it could never be opened"
        )));
    }
    // Parts of text already checked whole: these reads do not fail.
    let again = JsonError::Syntax;
    Ok(match raw.as_bytes().first() {
        Some(b'[') => Value::Array(
            serde_json::from_str::<Vec<&RawValue>>(raw)
                .map_err(again)?
                .into_iter()
                .map(|item| value(item.get(), depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Some(b'{') => {
            let Entries(raw_entries) = serde_json::from_str(raw).map_err(again)?;
            let mut seen = HashSet::with_capacity(raw_entries.len());
            let mut entries = Vec::with_capacity(raw_entries.len());
            for (key, item) in raw_entries {
                // CBOR maps have unique keys (RFC 8949 §5.6); serde_json
                // kept the last silently.
                if !seen.insert(key.clone()) {
                    return Err(JsonError::Unsealable(format!(
                        "the key {key:?} appears twice in one object"
                    )));
                }
                entries.push((key, value(item.get(), depth + 1)?));
            }
            Value::Object(entries)
        }
        Some(b'"') => Value::Text(serde_json::from_str(raw).map_err(again)?),
        Some(b'-' | b'0'..=b'9') => number(raw).map_err(JsonError::Unsealable)?,
        _ => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Null,
        },
    })
}

/// A JSON number from its text: an integer (no fraction, no exponent)
/// exactly, a float only if it opens as the same number.
fn number(text: &str) -> Result<Value, String> {
    if !text.contains(['.', 'e', 'E']) {
        return integer(text);
    }
    // Rust's parse is correctly rounded: the nearest f64.
    let f: f64 = text
        .parse()
        .map_err(|e| format!("{text} is not a number ({e})"))?;
    if !f.is_finite() {
        return Err(format!(
            "{text} is beyond the range of a 64-bit float: the nearest is {}; seal that, or the number as a string",
            shown(f64::MAX.copysign(f))
        ));
    }
    // The literal must name `f` itself: `f` correctly rounded to some
    // number of significant digits up to 17, from the shortest that reads
    // back (`{:e}`, what JSON output gives) to C's `%.17g` (what many
    // writers give: `0.10000000000000001` is 0.1). `0.30000000000000001`
    // also reads as 0.3 but is not 0.3 rounded: refused, as is anything
    // that only rounds to `f`.
    let written = decimal(text);
    let names_f = written == decimal(&format!("{f:e}"))
        || (1..=17).any(|digits| written == decimal(&format!("{f:.*e}", digits - 1)));
    if !names_f {
        return Err(format!(
            "{text} would open as {}, the nearest 64-bit float; seal that, or the number as a string",
            shown(f)
        ));
    }
    Ok(Value::Float(f))
}

/// Integers up to 128 bits: what the library's decoder reads back (CBOR
/// bignums beyond 64 bits).
fn integer(text: &str) -> Result<Value, String> {
    match text.strip_prefix('-') {
        None => text.parse::<u128>().map(Value::Unsigned).map_err(|_| {
            format!(
                "{text} is out of range: the largest integer a token holds is 2^128 - 1 = {}; seal it as a string",
                u128::MAX
            )
        }),
        Some(_) => match text.parse::<i128>() {
            // JSON's -0 is the float -0.0 (as in JavaScript and serde_json).
            Ok(0) => Ok(Value::Float(-0.0)),
            Ok(n) => Ok(Value::Negative(n)),
            Err(_) => Err(format!(
                "{text} is out of range: the smallest integer a token holds is -2^127 = {}; seal it as a string",
                i128::MIN
            )),
        },
    }
}

/// A float as JSON writes it.
fn shown(f: f64) -> String {
    serde_json::to_string(&f).unwrap_or_else(|_| format!("{f:?}"))
}

/// A decimal number's value, the same however it is written ("1.50",
/// "15e-1"): its sign, its significant digits, and the power of ten that
/// puts the decimal point before the first of them. `None` for an exponent
/// beyond i64, which no finite nonzero f64 has.
fn decimal(text: &str) -> Option<(bool, String, i64)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = unsigned
        .split_once(['e', 'E'])
        .map_or((unsigned, None), |(m, e)| (m, Some(e)));
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = [whole, fraction].concat();
    let significant = digits.trim_matches('0');
    if significant.is_empty() {
        // Zero, signed: -0.0 stays -0.0.
        return Some((negative, String::new(), 0));
    }
    let leading_zeros = digits.len() - digits.trim_start_matches('0').len();
    let point = i64::try_from(whole.len()).ok()? - i64::try_from(leading_zeros).ok()?;
    let exponent = exponent.map_or(Some(0), |e| e.parse::<i64>().ok())?;
    Some((
        negative,
        significant.to_owned(),
        point.checked_add(exponent)?,
    ))
}

/// An object's entries in input order, values as their text.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;

        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor)
    }
}
