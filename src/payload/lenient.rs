//! The serde side of FORMAT.md §5.2: cbor4ii decodes the encodings it
//! writes itself; this adapter widens it to every encoding another encoder
//! may choose for the same value (`ciborium` writes `1.5f64` as a
//! half-precision float, JavaScript encoders write `1.0` as the integer 1,
//! Python's `cbor2` may tag a payload as self-described):
//!
//! - a float of any width, or an integer, into `f32`/`f64` when the value
//!   survives exactly;
//! - `null` or `undefined` as `()` and unit structs (cbor4ii writes `[]`);
//! - a tag other than 2 and 3 (bignums, which cbor4ii reads into 128-bit
//!   integers) is skipped: the item it wraps is read in its place;
//! - a tuple from an indefinite-length array.
//!
//! It wraps the cbor4ii deserializer and every visitor, sequence, map and
//! enum access it hands out, so nested values are widened as well, and it
//! reads the bytes through the cell it shares with the reader.

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::float;
use super::structure::head;

/// The unread payload bytes, shared with the cbor4ii reader.
pub(crate) type Rest<'s, 'de> = &'s Cell<&'de [u8]>;

/// A deserializer `de` positioned at `rest`.
pub(crate) struct Lenient<'s, 'de, D> {
    pub(crate) de: D,
    pub(crate) rest: Rest<'s, 'de>,
}

impl<'s, 'de, D: Deserializer<'de>> Lenient<'s, 'de, D> {
    fn peek(&self) -> Option<u8> {
        self.rest.get().first().copied()
    }

    fn advance(&self, n: usize) {
        self.rest.set(self.rest.get().get(n..).unwrap_or_default());
    }

    /// Skips the heads of tags other than bignums (2, 3).
    fn skip_tags(&self) {
        while self.peek().is_some_and(|b| b >> 5 == 6) {
            let (len, value) = head(self.rest.get());
            if matches!(value, 2 | 3) {
                return;
            }
            self.advance(len);
        }
    }

    /// Reads a float of any width, or an integer a 64-bit float holds
    /// exactly; anything else is left for cbor4ii to refuse.
    fn take_f64(&self) -> Option<f64> {
        let bytes = self.rest.get();
        let (&initial, rest) = bytes.split_first()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let (len, value) = match (major, info) {
            (7, 25..=27) => (head(bytes).0, float::widen(info, rest)),
            (0 | 1, 0..=27) => {
                let (len, n) = head(bytes);
                (len, float::of_integer(major == 1, n)?)
            }
            _ => return None,
        };
        self.advance(len);
        Some(value)
    }

    fn wrap<V>(&self, visitor: V) -> Wrap<'s, 'de, V> {
        Wrap {
            inner: visitor,
            rest: self.rest,
        }
    }
}

/// Methods that skip tags and hand a wrapped visitor to cbor4ii.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.skip_tags();
            let visitor = self.wrap(visitor);
            self.de.$method($($arg,)* visitor)
        }
    )*};
}

impl<'s, 'de, D: Deserializer<'de>> Deserializer<'de> for Lenient<'s, 'de, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.skip_tags();
        if self.peek() == Some(0xf9) {
            // cbor4ii's own `any` refuses half floats.
            if let Some(value) = self.take_f64() {
                return visitor.visit_f64(value);
            }
        }
        let visitor = self.wrap(visitor);
        self.de.deserialize_any(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.skip_tags();
        match self.take_f64() {
            Some(value) => visitor.visit_f64(value),
            None => self.de.deserialize_f64(visitor),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.skip_tags();
        match self.take_f64() {
            Some(value) => match float::narrow(value) {
                Some(narrow) => visitor.visit_f32(narrow),
                None => Err(de::Error::custom(format_args!(
                    "{value} is not exactly a 32-bit float"
                ))),
            },
            None => self.de.deserialize_f32(visitor),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.skip_tags();
        if matches!(self.peek(), Some(0xf6 | 0xf7)) {
            self.advance(1);
            return visitor.visit_unit();
        }
        self.de.deserialize_unit(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.skip_tags();
        if self.peek() == Some(0x9f) {
            // cbor4ii wants a definite length; read it as a sequence that
            // must end right after the tuple's items.
            let visitor = Tuple {
                inner: visitor,
                len,
                rest: self.rest,
            };
            return self.de.deserialize_seq(visitor);
        }
        let visitor = self.wrap(visitor);
        self.de.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_ignored_any(visitor)
    }

    forward! {
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

/// A visitor whose nested deserializers and accesses are wrapped in turn.
struct Wrap<'s, 'de, V> {
    inner: V,
    rest: Rest<'s, 'de>,
}

impl<'s, 'de, V> Wrap<'s, 'de, V> {
    fn with<T>(&self, inner: T) -> Wrap<'s, 'de, T> {
        Wrap {
            inner,
            rest: self.rest,
        }
    }
}

/// Visitor methods that pass their value through unchanged.
macro_rules! pass {
    ($($method:ident($ty:ty);)*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'s, 'de, V: Visitor<'de>> Visitor<'de> for Wrap<'s, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    pass! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        let rest = self.rest;
        self.inner.visit_some(Lenient { de, rest })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        let rest = self.rest;
        self.inner.visit_newtype_struct(Lenient { de, rest })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let seq = self.with(seq);
        self.inner.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let map = self.with(map);
        self.inner.visit_map(map)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        let data = self.with(data);
        self.inner.visit_enum(data)
    }
}

impl<'s, 'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<'s, 'de, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Lenient {
            de,
            rest: self.rest,
        })
    }
}

impl<'s, 'de, A: SeqAccess<'de>> SeqAccess<'de> for Wrap<'s, 'de, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let seed = self.with(seed);
        self.inner.next_element_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'s, 'de, A: MapAccess<'de>> MapAccess<'de> for Wrap<'s, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let seed = self.with(seed);
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let seed = self.with(seed);
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'s, 'de, A: EnumAccess<'de>> EnumAccess<'de> for Wrap<'s, 'de, A> {
    type Error = A::Error;
    type Variant = Wrap<'s, 'de, A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let rest = self.rest;
        let (value, variant) = self.inner.variant_seed(Wrap { inner: seed, rest })?;
        Ok((
            value,
            Wrap {
                inner: variant,
                rest,
            },
        ))
    }
}

impl<'s, 'de, A: VariantAccess<'de>> VariantAccess<'de> for Wrap<'s, 'de, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        let seed = self.with(seed);
        self.inner.newtype_variant_seed(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let visitor = self.with(visitor);
        self.inner.tuple_variant(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let visitor = self.with(visitor);
        self.inner.struct_variant(fields, visitor)
    }
}

/// A tuple read from an indefinite-length array: the tuple's visitor takes
/// its items, then the array must end.
struct Tuple<'s, 'de, V> {
    inner: V,
    len: usize,
    rest: Rest<'s, 'de>,
}

impl<'s, 'de, V: Visitor<'de>> Visitor<'de> for Tuple<'s, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<V::Value, A::Error> {
        let value = self.inner.visit_seq(Wrap {
            inner: &mut seq,
            rest: self.rest,
        })?;
        match seq.next_element::<IgnoredAny>()? {
            None => Ok(value),
            Some(_) => Err(de::Error::invalid_length(
                self.len + 1,
                &"a tuple of its own length",
            )),
        }
    }
}
