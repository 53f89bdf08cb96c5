#![no_main]
//! LineDecoder on arbitrary bytes with an arbitrary configuration.

use libfuzzer_sys::fuzz_target;
use seine_codec::LineDecoder;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((c, stream)) = common::split_config::<4>(data) else {
        return;
    };
    let max = usize::from(c[0]);
    let decoder = LineDecoder::builder().max_frame_length(max)
        .fail_fast(c[3] & 1 == 0)
        .strip_delimiter(c[3] & 2 == 0).build().unwrap();
    common::drive(decoder, stream, c[1], c[2], max + 2);
});
