#![no_main]
//! cargo-fuzz target: [`seine_codec_fuzz::http_response::http_response`].

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| seine_codec_fuzz::http_response::http_response(data));
