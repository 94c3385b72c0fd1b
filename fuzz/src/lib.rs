//! Session types for the fuzz targets: the library itself has no `serde`
//! derive or `arbitrary` dependency, so the types live here.

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};

/// The typical session of `tests/common/mod.rs`, the type the `payload`
/// target decodes into.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Typical {
    pub user_id: u64,
    pub username: String,
    pub roles: Vec<String>,
    pub csrf: String,
    pub created: i64,
    pub theme: String,
}

/// An `arbitrary` session value for the `roundtrip` target: every serde
/// shape the encoder meets (integers of each width and sign, text, byte
/// arrays, options, sequences, maps with text and integer keys, unit, newtype,
/// tuple and struct enum variants), nested a few levels but never beyond the
/// decoder's depth limit. No floats: NaN is not equal to itself.
#[derive(Arbitrary, Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Session {
    pub user_id: u64,
    pub delta: i64,
    pub small: (u8, i8, u16, i16, u32, i32),
    pub flag: bool,
    pub letter: char,
    pub name: String,
    pub subject: Option<String>,
    pub roles: Vec<String>,
    pub raw: Vec<u8>,
    pub attributes: BTreeMap<String, Attribute>,
    pub counters: BTreeMap<u32, Vec<i64>>,
    pub events: Vec<Event>,
    pub unit: (),
}

/// A value in a session's attribute map.
#[derive(Arbitrary, Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum Attribute {
    Missing,
    Flag(bool),
    Number(i64),
    Text(String),
    List(Vec<Option<u16>>),
    Pair(u8, String),
    Limits { low: i32, high: u64 },
}

/// An entry of a session's event log.
#[derive(Arbitrary, Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Event {
    pub at: i64,
    pub kind: Attribute,
    pub tags: Vec<String>,
}

/// Input of the `roundtrip` target: a value and an optional subject.
#[derive(Arbitrary, Debug)]
pub struct RoundTrip {
    pub session: Session,
    pub subject: Option<String>,
}
