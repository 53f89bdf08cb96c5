#![no_main]
//! DelimiterDecoder on arbitrary bytes with arbitrary delimiters.

use libfuzzer_sys::fuzz_target;
use seine_codec::DelimiterDecoder;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((c, rest)) = common::split_config::<6>(data) else {
        return;
    };
    // Up to three delimiters of 1..=4 bytes taken from the input.
    let count = usize::from(c[4] % 3) + 1;
    let mut delimiters = Vec::new();
    let mut rest = rest;
    for i in 0..count {
        let n = usize::from(c[i] % 4) + 1;
        if rest.len() < n {
            return;
        }
        delimiters.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    let max = usize::from(c[3]) + 1;
    let decoder = DelimiterDecoder::builder().max_frame_length(max).delimiters(&delimiters)
        .fail_fast(c[5] & 1 == 0)
        .strip_delimiter(c[5] & 2 == 0).build().unwrap();
    common::drive(decoder, rest, c[5] >> 2, c[4] >> 2, max + 4);
});
