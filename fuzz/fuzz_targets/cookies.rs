#![no_main]
//! Reading `Cookie` headers (joining chunks), writing and removing sessions.
libfuzzer_sys::fuzz_target!(|data: &[u8]| sealed_session::fuzzing::cookies(data));
