#![no_main]
//! Arbitrary payload bytes under a valid seal, opened as the typical session
//! and as a generic CBOR value: no panic, no stack overflow, bounded memory.
use sealed_session::fuzzing::{Value, payload};
use sealed_session_fuzz::Typical;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    payload::<Typical>(bytes);
    payload::<Value>(bytes);
});
