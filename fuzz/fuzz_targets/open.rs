#![no_main]
//! An arbitrary string never opens, in either mode, and never panics.
libfuzzer_sys::fuzz_target!(|text: &str| sealed_session::fuzzing::open(text));
