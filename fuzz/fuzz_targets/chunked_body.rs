#![no_main]
//! cargo-fuzz target: [`seine_codec_fuzz::chunked_body`].

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| seine_codec_fuzz::chunked_body(data));
