#![no_main]
//! LengthFieldDecoder on arbitrary bytes with an arbitrary configuration.

use libfuzzer_sys::fuzz_target;
use seine_buffer::ByteOrder;
use seine_codec::LengthFieldDecoder;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((c, stream)) = common::split_config::<8>(data) else {
        return;
    };
    let width = [1, 2, 3, 4, 8][usize::from(c[0] % 5)];
    let offset = usize::from(c[1] % 8);
    let adjustment = i64::from(c[2] as i8) * if c[7] & 8 == 0 { 1 } else { 1 << 40 };
    let strip = usize::from(c[3] % 16);
    let max = offset + width + usize::from(c[4]);
    let decoder = LengthFieldDecoder::builder()
        .max_frame_length(max)
        .length_field_offset(offset)
        .length_field_length(width)
        .length_adjustment(adjustment)
        .initial_bytes_to_strip(strip)
        .byte_order(if c[7] & 1 == 0 {
            ByteOrder::BigEndian
        } else {
            ByteOrder::LittleEndian
        })
        .fail_fast(c[7] & 2 == 0)
        .build().unwrap();
    common::drive(decoder, stream, c[5], c[6], max);
});
