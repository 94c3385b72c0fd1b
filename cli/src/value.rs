//! The CLI's own JSON value: what `seal` reads and what `open` and `inspect`
//! print. Not `serde_json::Value`: that holds no integer beyond 64 bits, and
//! serializes null as a serde unit, which CBOR encoders write as an empty
//! array.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// A non-negative integer: CBOR's major type 0, or a bignum (tag 2) over
    /// 64 bits.
    Unsigned(u128),
    /// A negative integer: CBOR's major type 1, or a bignum (tag 3) below
    /// -2^64.
    Negative(i128),
    /// Finite: JSON has no NaN or infinity.
    Float(f64),
    Text(String),
    Array(Vec<Value>),
    /// Keys are unique; entries keep their order.
    Object(Vec<(String, Value)>),
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // `None`, not a unit: CBOR null (0xf6) and JSON null.
            Self::Null => serializer.serialize_none(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            // The 64-bit forms where they fit: serializers may refuse
            // 128-bit integers, and need them only beyond 64 bits.
            Self::Unsigned(n) => match u64::try_from(*n) {
                Ok(n) => serializer.serialize_u64(n),
                Err(_) => serializer.serialize_u128(*n),
            },
            Self::Negative(n) => match i64::try_from(*n) {
                Ok(n) => serializer.serialize_i64(n),
                Err(_) => serializer.serialize_i128(*n),
            },
            Self::Float(f) => serializer.serialize_f64(*f),
            Self::Text(s) => serializer.serialize_str(s),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}
