//! Struct field names read as the names they are.
//!
//! A derived struct asks for each key as an identifier; cbor4ii reads it
//! as text, checks it is UTF-8 and hands it to the struct's field visitor,
//! which compares it with each field name. On the typical session that
//! check was a tenth of an open (six keys, about 90 instructions each)
//! although the structural pass has already checked every text string.
//! Here a key whose bytes are one of the struct's own field names is
//! handed over as that name (`&'static str`): the same text, without a
//! second UTF-8 pass. Any other key (an unknown field, a long one, an
//! integer) goes to cbor4ii as before, so what opens and what is refused
//! do not change.
//!
//! It wraps the cbor4ii deserializer for a struct and for the values of a
//! struct's fields (a struct in a struct); other values are read by cbor4ii
//! directly.

use std::cell::Cell;
use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::lenient::Rest;

/// A deserializer `de` positioned at `rest`, which reads a struct's known
/// field names itself.
pub(crate) struct Fields<'s, 'de, D> {
    pub(crate) de: D,
    pub(crate) rest: Rest<'s, 'de>,
}

/// Methods passed to cbor4ii unchanged.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method($($arg,)* visitor)
        }
    )*};
}

impl<'s, 'de, D: Deserializer<'de>> Deserializer<'de> for Fields<'s, 'de, D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = Struct {
            inner: visitor,
            fields,
            rest: self.rest,
        };
        self.de.deserialize_struct(name, fields, visitor)
    }

    forward! {
        deserialize_any();
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
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

/// A struct's visitor, given a map access that reads its keys as above.
struct Struct<'s, 'de, V> {
    inner: V,
    fields: &'static [&'static str],
    rest: Rest<'s, 'de>,
}

impl<'s, 'de, V: Visitor<'de>> Visitor<'de> for Struct<'s, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    // cbor4ii reads a struct only from a map: nothing else reaches here.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(StructMap {
            inner: map,
            fields: self.fields,
            next: Cell::new(0),
            rest: self.rest,
        })
    }
}

struct StructMap<'s, 'de, A> {
    inner: A,
    fields: &'static [&'static str],
    /// The field after the last one read: the one an encoder that writes
    /// fields in order (serde's derive, ours) writes next.
    next: Cell<usize>,
    rest: Rest<'s, 'de>,
}

impl<'s, 'de, A: MapAccess<'de>> MapAccess<'de> for StructMap<'s, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(Key {
            inner: seed,
            fields: self.fields,
            next: &self.next,
            rest: self.rest,
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(Value {
            inner: seed,
            rest: self.rest,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A key of a struct: one of its field names, read here, or anything
/// else, read by cbor4ii.
struct Key<'s, 'de, K> {
    inner: K,
    fields: &'static [&'static str],
    next: &'s Cell<usize>,
    rest: Rest<'s, 'de>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for Key<'_, 'de, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<K::Value, D::Error> {
        match self.known_field() {
            Some(field) => self
                .inner
                .deserialize(BorrowedStrDeserializer::<D::Error>::new(field)),
            None => self.inner.deserialize(de),
        }
    }
}

impl<K> Key<'_, '_, K> {
    /// The field name the next item spells, as a definite text string of
    /// fewer than 256 bytes, consumed; `None`, and nothing consumed, for
    /// any other item.
    fn known_field(&self) -> Option<&'static str> {
        let bytes = self.rest.get();
        let (&initial, tail) = bytes.split_first()?;
        let (len, tail) = match initial {
            0x60..=0x77 => (usize::from(initial - 0x60), tail),
            0x78 => {
                let (&len, tail) = tail.split_first()?;
                (usize::from(len), tail)
            }
            _ => return None,
        };
        let (name, after) = tail.split_at_checked(len)?;
        let is = |i: &usize| self.fields.get(*i).is_some_and(|f| f.as_bytes() == name);
        let expected = self.next.get();
        let index = Some(expected)
            .filter(is)
            .or_else(|| (0..self.fields.len()).find(is))?;
        self.next.set(index + 1);
        self.rest.set(after);
        self.fields.get(index).copied()
    }
}

/// A field's value: a struct in it reads its keys the same way.
struct Value<'s, 'de, T> {
    inner: T,
    rest: Rest<'s, 'de>,
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Value<'_, 'de, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<T::Value, D::Error> {
        self.inner.deserialize(Fields {
            de,
            rest: self.rest,
        })
    }
}
