#![no_main]
//! `extract_token` on bare tokens, `Cookie:` headers and `Set-Cookie:` lines.
libfuzzer_sys::fuzz_target!(|text: &str| sealed_session::fuzzing::input(text));
