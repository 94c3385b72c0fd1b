//! The application's value as CBOR (FORMAT.md §5.2).
//!
//! `cbor4ii` rather than `ciborium`: on the reference payloads it decodes the
//! same bytes about 3× faster (BENCHMARKS.md), and decoding is the largest
//! cost of an open. Three layers, each in its own file:
//!
//! - `structure`: one pass over the bytes before any value is built, on
//!   seal and on open: well-formed, of the kinds a payload may hold, nested
//!   at most [`RECURSION_LIMIT`] deep, text valid UTF-8, no duplicate map
//!   keys, declared lengths backed by bytes. It is the only depth limit, so
//!   whatever seals also opens.
//! - cbor4ii's serde decoder, which reads what this library writes (with
//!   `fields` handing a struct its known field names without a second
//!   UTF-8 pass); and, where it refuses,
//! - `lenient`, which accepts the other encodings of the same values that
//!   other encoders write (float widths, `null` as unit, tags).

mod fields;
mod float;
mod lenient;
mod structure;

#[cfg(feature = "dangerous-test-hooks")]
pub(crate) use structure::fast_path_agrees;

use std::cell::Cell;

use cbor4ii::core::dec::{self, Reference};
use cbor4ii::core::error::{DecodeError as Core, Never};
use cbor4ii::core::utils::BufWriter;
use cbor4ii::serde::{DecodeError, EncodeError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Deepest nesting of CBOR items in a payload (a top-level scalar is at
/// depth 1). Enforced on seal and on open, by a structural pass over the
/// bytes before any value is built.
///
/// ```
/// use sealed_session::{Codec, Error, Key, KeyRing, RECURSION_LIMIT};
/// let codec = Codec::builder(KeyRing::new(Key::generate())).build()?;
/// // 65 nested arrays around a number: refused when sealing, since no open
/// // would accept it.
/// let mut value = serde_json::json!(1);
/// for _ in 0..RECURSION_LIMIT {
///     value = serde_json::json!([value]);
/// }
/// assert!(matches!(codec.seal(&value), Err(Error::Serialize(_))));
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub const RECURSION_LIMIT: usize = 64;

/// Appends the CBOR encoding of `value` to `out`, in place (the buffer is
/// lent to the encoder and handed back, never copied).
///
/// The bytes pass the same structural check as on open: a value too deep,
/// or a map with two equal keys, is refused here rather than sealed into a
/// token no open would accept.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    let start = out.len();
    let mut ser = cbor4ii::serde::Serializer::new(BufWriter::new(std::mem::take(out)));
    let result = value.serialize(&mut ser);
    *out = ser.into_inner().into_inner();
    result.map_err(|e| {
        Error::Serialize(match e {
            EncodeError::Custom(msg) => msg.into(),
            EncodeError::Core(e) => format!("{e:?}"),
        })
    })?;
    structure::check_serialized(out.get(start..).unwrap_or_default()).map_err(|e| match e {
        Error::PayloadTooDeep { limit } => Error::Serialize(format!(
            "the value nests deeper than {limit} levels, so it could never be opened"
        )),
        Error::Payload(why) => Error::Serialize(format!("{why}, so it could never be opened")),
        other => other,
    })
}

/// Decodes exactly one CBOR item from authenticated bytes into `T`
/// (FORMAT.md §5.2).
///
/// cbor4ii alone first: it reads whatever this library wrote, at full
/// speed. Only if it refuses do the bytes go through the lenient layer,
/// which accepts a superset (it widens only where cbor4ii fails), so the
/// result is the same either way and a payload from another encoder costs a
/// second pass.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    structure::check(bytes)?;
    let rest = Cell::new(bytes);
    let strict = {
        let mut de = cbor4ii::serde::Deserializer::new(SharedReader { rest: &rest });
        T::deserialize(fields::Fields {
            de: &mut de,
            rest: &rest,
        })
    };
    let value = match strict {
        Ok(value) => value,
        Err(_) => {
            rest.set(bytes);
            let mut de = cbor4ii::serde::Deserializer::new(SharedReader { rest: &rest });
            T::deserialize(lenient::Lenient {
                de: &mut de,
                rest: &rest,
            })
            .map_err(describe)?
        }
    };
    debug_assert!(rest.get().is_empty(), "checked by the structural pass");
    Ok(value)
}

/// A slice reader whose position the lenient layer shares. No depth limit
/// of its own: the structural pass has bounded the nesting of the bytes,
/// and the nesting of the type is fixed by the type.
struct SharedReader<'s, 'de> {
    rest: lenient::Rest<'s, 'de>,
}

impl<'de> dec::Read<'de> for SharedReader<'_, 'de> {
    type Error = Never;

    fn fill<'short>(&'short mut self, want: usize) -> Result<Reference<'de, 'short>, Never> {
        let rest = self.rest.get();
        Ok(Reference::Long(rest.get(..want).unwrap_or(rest)))
    }

    fn advance(&mut self, n: usize) {
        self.rest.set(self.rest.get().get(n..).unwrap_or_default());
    }
}

fn describe(e: DecodeError<Never>) -> Error {
    let core = match e {
        DecodeError::Custom(msg) => return Error::Payload(msg.into()),
        DecodeError::Core(core) => core,
    };
    Error::Payload(match core {
        Core::Mismatch { name, found } | Core::Unsupported { name, found } => {
            format!(
                "expected {}, found CBOR initial byte 0x{found:02x}",
                term(name)
            )
        }
        Core::Eof { name, .. } => format!("payload ends inside {}", term(name)),
        Core::RequireUtf8 { name } => format!("{} is not valid UTF-8", term(name)),
        Core::LengthOverflow { name, .. } | Core::CastOverflow { name } => match *name {
            "u128::bytes" => "an integer (a bignum) is wider than 128 bits".to_owned(),
            name => format!("{} is out of range for the field's type", term(name)),
        },
        Core::ArithmeticOverflow { name, .. } => format!("{} overflows", term(name)),
        Core::RequireLength { name, .. } => format!("{} has the wrong length", term(name)),
        _ => "the payload is not CBOR the decoder can read".to_owned(),
    })
}

/// What cbor4ii's internal name for an item (`u128::bytes`, `seq`) is in
/// the payload's terms: its errors reach users (the CLI, the logs).
fn term(name: &str) -> &'static str {
    match name {
        "u128::bytes" | "u128::tag" | "i128::tag" => "an integer (a bignum)",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128"
        | "isize" => "an integer",
        "f16" | "f32" | "f64" => "a float",
        "bool" => "a boolean",
        "str" => "a text string",
        "bytes" => "a byte string",
        "chunks" => "a chunk of an indefinite-length string",
        "array" | "seq" | "tuple" => "an array",
        "map" => "a map",
        "tag" => "a tag",
        "simple" => "a simple value",
        "break" => "the end of an indefinite-length item",
        "option" | "maybe" => "an optional value",
        "unit" => "null",
        "enum" => "an enum",
        _ => "a value",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Reading {
        value: f64,
        ratio: f32,
    }

    /// `{"value": <value>, "ratio": <ratio>}` with the items as given.
    fn reading(value: &[u8], ratio: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xa2, 0x65];
        bytes.extend_from_slice(b"value");
        bytes.extend_from_slice(value);
        bytes.push(0x65);
        bytes.extend_from_slice(b"ratio");
        bytes.extend_from_slice(ratio);
        bytes
    }

    /// Errors speak of the payload, not of the decoder's internals.
    #[test]
    fn errors_name_what_is_wrong_in_the_payloads_terms() {
        // A bignum of 17 bytes (the structural pass), and one of 16 for a
        // u64 field.
        let mut wide = vec![0xc2, 0x51];
        wide.extend([1u8; 17]);
        let e = decode::<u128>(&wide).unwrap_err().to_string();
        assert!(
            e.ends_with("of 17 significant bytes, beyond 128 bits"),
            "{e}"
        );
        let mut big = vec![0xc2, 0x50];
        big.extend([1u8; 16]);
        let e = decode::<u64>(&big).unwrap_err().to_string();
        assert!(!e.contains("::"), "{e}");
        // Text for a number; a number for text.
        let e = decode::<u64>(&[0x61, b'x']).unwrap_err().to_string();
        assert!(
            e.ends_with("expected an integer, found CBOR initial byte 0x61"),
            "{e}"
        );
        let e = decode::<String>(&[0x01]).unwrap_err().to_string();
        assert!(e.contains("expected a text string"), "{e}");
        for e in [e, decode::<Vec<u8>>(&[0x01]).unwrap_err().to_string()] {
            assert!(!e.contains("::") && !e.contains("seq"), "{e}");
        }
    }

    #[test]
    fn floats_of_every_width_open_where_exact() {
        let half = [0xf9, 0x3e, 0x00];
        let single = [0xfa, 0x3f, 0xc0, 0x00, 0x00];
        let double = [0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0];
        for value in [&half[..], &single, &double, &[0x01], &[0x20]] {
            for ratio in [&half[..], &single, &double] {
                let r: Reading = decode(&reading(value, ratio)).unwrap();
                assert!(matches!(r.value, 1.5 | 1.0 | -1.0), "{value:02x?}");
                assert_eq!(r.ratio, 1.5);
            }
        }
        // 0.1 as a double is not a single: refused for the f32 field.
        let tenth = [0xfb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a];
        let e = decode::<Reading>(&reading(&double, &tenth)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "payload does not match the requested type: 0.1 is not exactly a 32-bit float"
        );
        // 2^53 + 1 is not a double.
        let big = [0x1b, 0, 0x20, 0, 0, 0, 0, 0, 0x01];
        assert!(decode::<Reading>(&reading(&big, &half)).is_err());
        // A generic value takes a half float too.
        assert_eq!(decode::<f64>(&half).unwrap(), 1.5);
        assert!(
            matches!(decode::<cbor4ii::core::Value>(&half).unwrap(), cbor4ii::core::Value::Float(f) if f == 1.5)
        );
    }

    #[test]
    fn other_encoders_write_unit_as_null_and_tags_around_values() {
        assert_eq!(decode::<()>(&[0x80]).unwrap(), ());
        assert_eq!(decode::<()>(&[0xf6]).unwrap(), ());
        assert_eq!(decode::<Option<u8>>(&[0xf7]).unwrap(), None);
        // The self-describe tag (55799) around the payload, tag 1 (epoch
        // time) around a field.
        let tagged = [
            0xd9, 0xd9, 0xf7, 0xa1, 0x61, b't', 0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00,
        ];
        let map: BTreeMap<String, i64> = decode(&tagged).unwrap();
        assert_eq!(map["t"], 1_700_000_000);
        assert!(decode::<cbor4ii::core::Value>(&tagged).is_ok());
        // Bignums still read into 128-bit integers.
        assert_eq!(decode::<u128>(&[0xc2, 0x41, 0x05]).unwrap(), 5);
        assert_eq!(decode::<i128>(&[0xc3, 0x41, 0x05]).unwrap(), -6);
        // A tuple from an indefinite-length array, of exactly its length.
        assert_eq!(
            decode::<(u8, u8)>(&[0x9f, 0x01, 0x02, 0xff]).unwrap(),
            (1, 2)
        );
        assert!(decode::<(u8, u8)>(&[0x9f, 0x01, 0x02, 0x03, 0xff]).is_err());
        assert!(decode::<(u8, u8)>(&[0x9f, 0x01, 0xff]).is_err());
    }

    /// Structs read their known field names through `fields`, and the
    /// result is cbor4ii's own, value and error alike: known, unknown,
    /// renamed and long names (one and two bytes of length), nested
    /// structs, structs in a sequence, a refused unknown field, a
    /// missing one.
    #[test]
    fn struct_fields_read_as_cbor4ii_reads_them() {
        use serde::Serialize;

        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Inner {
            #[serde(rename = "a_name_longer_than_twenty_three_bytes")]
            long: u8,
            short: Option<String>,
        }
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Outer {
            id: u64,
            inner: Inner,
            list: Vec<Inner>,
            #[serde(default)]
            missing: bool,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct Strict {
            id: u64,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct Huge {
            #[serde(
                rename = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            )]
            huge: u8,
        }

        let inner = || Inner {
            long: 7,
            short: Some("é".into()),
        };
        let outer = Outer {
            id: 1,
            inner: inner(),
            list: vec![inner(), inner()],
            missing: false,
        };
        let bytes = cbor4ii::serde::to_vec(Vec::new(), &outer).unwrap();
        assert_eq!(decode::<Outer>(&bytes).unwrap(), outer);

        // An unknown field beside known ones; refused where the type says so.
        let mut map = BTreeMap::new();
        map.insert("id", 5u64);
        map.insert("other", 6);
        let bytes = cbor4ii::serde::to_vec(Vec::new(), &map).unwrap();
        let refused = |e: Error| e.to_string();
        assert!(cbor4ii::serde::from_slice::<Strict>(&bytes).is_err());
        assert_eq!(
            refused(decode::<Strict>(&bytes).unwrap_err()),
            "payload does not match the requested type: unknown field `other`, expected `id`"
        );
        let mut only = BTreeMap::new();
        only.insert("id", 5u64);
        let bytes = cbor4ii::serde::to_vec(Vec::new(), &only).unwrap();
        assert_eq!(decode::<Strict>(&bytes).unwrap(), Strict { id: 5 });
        // A missing field is the same error either way.
        assert!(cbor4ii::serde::from_slice::<Outer>(&bytes).is_err());
        assert_eq!(
            refused(decode::<Outer>(&bytes).unwrap_err()),
            "payload does not match the requested type: missing field `inner`"
        );
        // A name of 256 bytes or more is read by cbor4ii itself.
        let name = "x".repeat(300);
        let mut huge = BTreeMap::new();
        huge.insert(name.as_str(), 9u8);
        let bytes = cbor4ii::serde::to_vec(Vec::new(), &huge).unwrap();
        assert_eq!(decode::<Huge>(&bytes).unwrap(), Huge { huge: 9 });
    }

    #[test]
    fn seal_refuses_what_open_refuses() {
        struct Twice;
        impl Serialize for Twice {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("k", &1)?;
                map.serialize_entry("k", &2)?;
                map.end()
            }
        }
        let e = encode(&Twice, &mut Vec::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot serialize the session value: a map holds the same key twice, so it could never be opened"
        );
    }
}
