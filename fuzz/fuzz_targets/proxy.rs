#![no_main]
//! ProxyHeaderParser and HAProxyMessageDecoder on arbitrary bytes cut into
//! arbitrary reads: never a panic, never more buffered than the limit, the bytes
//! after a header left untouched, and a decoded header encodes back to a header
//! that decodes to the same message.

use libfuzzer_sys::fuzz_target;
use seine_buffer::Bytes;
use seine_codec::proxy::{ProxyHeaderParser, V1_MAX_LENGTH};

#[path = "common.rs"]
#[allow(dead_code)] // only split_config is used here
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((c, stream)) = common::split_config::<2>(data) else {
        return;
    };
    let mut parser = ProxyHeaderParser::with_max_tlv_size(usize::from(c[0]) * 64);
    let limit = parser.max_v2_length().max(V1_MAX_LENGTH);
    let step = usize::from(c[1] % 64) + 1;
    let mut consumed = 0;
    for read in stream.chunks(step) {
        let mut input = Bytes::copy_from_slice(read);
        let result = parser.push(&mut input);
        consumed += read.len() - input.len();
        assert!(parser.buffered() <= limit, "buffered past the limit");
        assert!(consumed <= limit, "consumed past the limit");
        match result {
            Ok(None) => assert!(input.is_empty(), "waiting with input left"),
            Ok(Some(msg)) => {
                // The bytes after the header are the stream's.
                assert_eq!(&stream[consumed..consumed + input.len()], &input[..]);
                if let Ok(wire) = msg.encode() {
                    let mut again = ProxyHeaderParser::default();
                    let decoded = again.push(&mut wire.clone()).expect("re-decodes");
                    assert_eq!(decoded.as_ref(), Some(&msg));
                }
                return;
            }
            Err(_) => return,
        }
    }
});
