#![no_main]
//! FixedLengthDecoder on arbitrary bytes.

use libfuzzer_sys::fuzz_target;
use seine_codec::FixedLengthDecoder;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((c, stream)) = common::split_config::<3>(data) else {
        return;
    };
    let length = usize::from(c[0]) + 1;
    common::drive(FixedLengthDecoder::builder().frame_length(length).build().unwrap(), stream, c[1], c[2], length);
});
