#![no_main]
//! Mutations of valid tokens (the seed corpus): whatever still opens is
//! byte-identical to a seed.
libfuzzer_sys::fuzz_target!(|text: &str| sealed_session::fuzzing::mutate(text));
