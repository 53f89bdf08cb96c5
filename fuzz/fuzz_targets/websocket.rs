#![no_main]
//! cargo-fuzz target: [`seine_codec_fuzz::websocket::websocket`].

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| seine_codec_fuzz::websocket::websocket(data));
