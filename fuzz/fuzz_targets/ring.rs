#![no_main]
//! Key-ring files of either version: parse, write back, rotate.
libfuzzer_sys::fuzz_target!(|text: &str| sealed_session::fuzzing::ring(text));
