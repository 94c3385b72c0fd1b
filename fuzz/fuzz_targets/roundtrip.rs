#![no_main]
//! An arbitrary session value seals and opens to itself.
use sealed_session_fuzz::RoundTrip;

libfuzzer_sys::fuzz_target!(|input: RoundTrip| {
    sealed_session::fuzzing::roundtrip(&input.session, input.subject.as_deref());
});
