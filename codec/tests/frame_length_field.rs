//! `LengthFieldDecoder` in an `EmbeddedChannel`: every example of Netty's
//! `LengthFieldBasedFrameDecoder` documentation cut at every byte boundary, the
//! too-long, discard and fail-fast paths, corrupt input, and what the pipeline does
//! with the errors.

mod frame_support;

use frame_support::{Ev, assert_every_split, channel, frame, run, splits, too_long};
use seine_buffer::{ByteOrder, Bytes, CompositeBuf, CumulationStrategy};
use seine_channel::Handler;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::{ByteToMessageDecoder, CodecError, Corruption, LengthFieldDecoder};

const HELLO: &[u8] = b"HELLO, WORLD";

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Checks one javadoc example: `input` decodes into `output`, alone and as three
/// frames in a row, however the reads are cut.
fn javadoc_example(make: impl Fn() -> LengthFieldDecoder, input: &[u8], output: &[u8]) {
    assert_every_split(|| Handler::from(make()), input, &[frame(output)]);
    let three = [input, input, input].concat();
    let want = [frame(output), frame(output), frame(output)];
    assert_every_split(|| Handler::from(make()), &three, &want);
    // Every cumulation strategy gives the same frames.
    for strategy in [
        CumulationStrategy::Merge,
        CumulationStrategy::Compose,
        CumulationStrategy::Adaptive { threshold: 4 },
    ] {
        assert_every_split(
            || Handler::from(ByteToMessageDecoder::with_cumulation(make(), strategy)),
            &three,
            &want,
        );
    }
}

#[test]
fn javadoc_2_bytes_length_field_at_offset_0_do_not_strip_header() {
    let input = cat(&[b"\x00\x0c", HELLO]);
    javadoc_example(
        || {
            LengthFieldDecoder::builder()
                .max_frame_length(1024)
                .length_field_offset(0)
                .length_field_length(2)
                .length_adjustment(0)
                .initial_bytes_to_strip(0)
                .build()
                .unwrap()
        },
        &input,
        &input,
    );
}

#[test]
fn javadoc_2_bytes_length_field_at_offset_0_strip_header() {
    let input = cat(&[b"\x00\x0c", HELLO]);
    javadoc_example(
        || {
            LengthFieldDecoder::builder()
                .max_frame_length(1024)
                .length_field_offset(0)
                .length_field_length(2)
                .length_adjustment(0)
                .initial_bytes_to_strip(2)
                .build()
                .unwrap()
        },
        &input,
        HELLO,
    );
}

#[test]
fn javadoc_length_field_represents_the_whole_message() {
    let input = cat(&[b"\x00\x0e", HELLO]);
    javadoc_example(
        || {
            LengthFieldDecoder::builder()
                .max_frame_length(1024)
                .length_field_offset(0)
                .length_field_length(2)
                .length_adjustment(-2)
                .initial_bytes_to_strip(0)
                .build()
                .unwrap()
        },
        &input,
        &input,
    );
}

#[test]
fn javadoc_3_bytes_length_field_at_the_end_of_a_5_bytes_header() {
    let input = cat(&[b"\xca\xfe", b"\x00\x00\x0c", HELLO]);
    javadoc_example(
        || {
            LengthFieldDecoder::builder()
                .max_frame_length(1024)
                .length_field_offset(2)
                .length_field_length(3)
                .length_adjustment(0)
                .initial_bytes_to_strip(0)
                .build()
                .unwrap()
        },
        &input,
        &input,
    );
}

#[test]
fn javadoc_3_bytes_length_field_at_the_beginning_of_a_5_bytes_header() {
    let input = cat(&[b"\x00\x00\x0c", b"\xca\xfe", HELLO]);
    javadoc_example(
        || {
            LengthFieldDecoder::builder()
                .max_frame_length(1024)
                .length_field_offset(0)
                .length_field_length(3)
                .length_adjustment(2)
                .initial_bytes_to_strip(0)
                .build()
                .unwrap()
        },
        &input,
        &input,
    );
}

#[test]
fn javadoc_2_bytes_length_field_at_offset_1_in_a_4_bytes_header_strip_first_and_length() {
    let input = cat(&[b"\xca", b"\x00\x0c", b"\xfe", HELLO]);
    let output = cat(&[b"\xfe", HELLO]);
    javadoc_example(
        || {
            LengthFieldDecoder::builder()
                .max_frame_length(1024)
                .length_field_offset(1)
                .length_field_length(2)
                .length_adjustment(1)
                .initial_bytes_to_strip(3)
                .build()
                .unwrap()
        },
        &input,
        &output,
    );
}

#[test]
fn javadoc_length_represents_the_whole_message_strip_first_and_length() {
    let input = cat(&[b"\xca", b"\x00\x10", b"\xfe", HELLO]);
    let output = cat(&[b"\xfe", HELLO]);
    javadoc_example(
        || {
            LengthFieldDecoder::builder()
                .max_frame_length(1024)
                .length_field_offset(1)
                .length_field_length(2)
                .length_adjustment(-3)
                .initial_bytes_to_strip(3)
                .build()
                .unwrap()
        },
        &input,
        &output,
    );
}

#[test]
fn every_field_size_in_both_byte_orders() {
    for width in [1usize, 2, 3, 4, 8] {
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            let mut input = Vec::new();
            let mut want = Vec::new();
            for payload in [&b""[..], b"a", b"hello", &[7u8; 200]] {
                if width == 1 && payload.len() > 255 {
                    continue;
                }
                let len = payload.len() as u64;
                let field = match order {
                    ByteOrder::BigEndian => len.to_be_bytes()[8 - width..].to_vec(),
                    ByteOrder::LittleEndian => len.to_le_bytes()[..width].to_vec(),
                };
                input.extend_from_slice(&field);
                input.extend_from_slice(payload);
                want.push(frame(payload));
            }
            let make = || {
                Handler::from(
                    LengthFieldDecoder::builder()
                        .max_frame_length(1024)
                        .length_field_length(width)
                        .initial_bytes_to_strip(width)
                        .byte_order(order)
                        .build()
                        .unwrap(),
                )
            };
            assert_eq!(run(make(), &[&input]), want, "width {width} {order:?}");
            for reads in splits(&input).into_iter().step_by(7) {
                assert_eq!(run(make(), &reads), want, "width {width} {order:?}");
            }
        }
    }
}

#[test]
fn empty_frames_are_fired() {
    let make = || {
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(16)
                .length_field_offset(0)
                .length_field_length(2)
                .length_adjustment(0)
                .initial_bytes_to_strip(2)
                .build()
                .unwrap(),
        )
    };
    assert_every_split(make, b"\x00\x00\x00\x00", &[frame(b""), frame(b"")]);
}

/// Netty's LengthFieldBasedFrameDecoderTest.testDiscardTooLongFrame1: a too-long
/// frame entirely in one read is skipped and reported; the next frame decodes.
#[test]
fn too_long_frame_in_one_read_is_skipped_and_reported_once() {
    for fail_fast in [true, false] {
        let make = || {
            Handler::from(
                LengthFieldDecoder::builder()
                    .max_frame_length(16)
                    .length_field_length(4)
                    .initial_bytes_to_strip(4)
                    .fail_fast(fail_fast)
                    .build()
                    .unwrap(),
            )
        };
        let mut input = 32u32.to_be_bytes().to_vec();
        input.extend_from_slice(&[b'x'; 32]);
        input.extend_from_slice(&1u32.to_be_bytes());
        input.push(b'a');
        // Reported with the frame's length (header included), once.
        let want = [too_long(36, 16), frame(b"a")];
        assert_every_split(make, &input, &want);
    }
}

/// The frame's bytes arrive in several reads: reported at the header with
/// fail-fast, after the last skipped byte without; never twice.
#[test]
fn too_long_frame_across_reads_fail_fast_and_not() {
    let make = |fail_fast| {
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(8)
                .length_field_length(2)
                .initial_bytes_to_strip(2)
                .fail_fast(fail_fast)
                .build()
                .unwrap(),
        )
    };
    // Header announces 10 bytes of content: frame of 12 > 8.
    let reads: [&[u8]; 4] = [b"\x00\x0aab", b"cdef", b"ghij\x00\x01", b"z"];

    let (mut ch, log) = channel(make(true), true);
    ch.write_inbound(Bytes::from_static(reads[0])).unwrap();
    assert_eq!(*log.borrow(), [too_long(12, 8)], "reported at once");
    for r in &reads[1..] {
        ch.write_inbound(Bytes::from_static(r)).unwrap();
    }
    assert_eq!(*log.borrow(), [too_long(12, 8), frame(b"z")]);

    let (mut ch, log) = channel(make(false), true);
    ch.write_inbound(Bytes::from_static(reads[0])).unwrap();
    ch.write_inbound(Bytes::from_static(reads[1])).unwrap();
    assert!(log.borrow().is_empty(), "not reported before the end");
    ch.write_inbound(Bytes::from_static(reads[2])).unwrap();
    assert_eq!(*log.borrow(), [too_long(12, 8)]);
    ch.write_inbound(Bytes::from_static(reads[3])).unwrap();
    assert_eq!(*log.borrow(), [too_long(12, 8), frame(b"z")]);

    // However the stream is cut, the outcome is the same.
    let all = reads.concat();
    for fail_fast in [true, false] {
        assert_every_split(|| make(fail_fast), &all, &[too_long(12, 8), frame(b"z")]);
    }
}

/// Netty's testFailFastTooLongFrameRecovery / testFailSlowTooLongFrameRecovery:
/// after a too-long frame, well-formed frames decode again.
#[test]
fn recovery_after_too_long_frames() {
    for fail_fast in [true, false] {
        let make = || {
            Handler::from(
                LengthFieldDecoder::builder()
                    .max_frame_length(5)
                    .length_field_length(4)
                    .initial_bytes_to_strip(4)
                    .fail_fast(fail_fast)
                    .build()
                    .unwrap(),
            )
        };
        let (mut ch, log) = channel(make(), true);
        for _ in 0..2 {
            ch.write_inbound(Bytes::from_static(&[0, 0, 0, 2])).unwrap();
            ch.write_inbound(Bytes::from_static(&[0, 0])).unwrap();
            ch.write_inbound(Bytes::from_static(&[0, 0, 0, 1, b'A']))
                .unwrap();
        }
        assert_eq!(
            *log.borrow(),
            [too_long(6, 5), frame(b"A"), too_long(6, 5), frame(b"A")],
            "fail_fast {fail_fast}"
        );
    }
}

#[test]
fn a_huge_announced_length_is_never_allocated() {
    // 8-byte field announcing 2^62 bytes; the decoder skips what arrives.
    let make = || {
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(1024)
                .length_field_length(8)
                .build()
                .unwrap(),
        )
    };
    let (mut ch, log) = channel(make(), true);
    ch.write_inbound(Bytes::copy_from_slice(&(1u64 << 62).to_be_bytes()))
        .unwrap();
    for _ in 0..100 {
        ch.write_inbound(Bytes::from(vec![0u8; 64 * 1024])).unwrap();
    }
    assert_eq!(*log.borrow(), [too_long((1 << 62) + 8, 1024)]);
}

#[test]
fn unhandled_too_long_frame_closes_the_channel_after_flushing() {
    let (mut ch, log) = channel(
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(8)
                .length_field_offset(0)
                .length_field_length(1)
                .length_adjustment(0)
                .initial_bytes_to_strip(1)
                .build()
                .unwrap(),
        ),
        false,
    );
    // Something written before the error must still go out.
    let done = ch.write_outbound_unflushed(Bytes::from_static(b"bye"));
    let err = ch
        .write_inbound(Bytes::from_static(b"\x20 too long"))
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<CodecError>(),
        Some(&CodecError::TooLongFrame { length: 33, max: 8 })
    );
    assert!(!ch.is_active(), "the tail closed the channel");
    assert!(
        matches!(done.result(), Some(Ok(()))),
        "flushed before close"
    );
    assert_eq!(ch.read_outbound::<Bytes>().unwrap(), "bye");
    assert_eq!(log.borrow().len(), 1);
}

#[test]
fn a_handler_that_takes_the_error_keeps_the_channel_open() {
    let (mut ch, log) = channel(
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(8)
                .length_field_offset(0)
                .length_field_length(1)
                .length_adjustment(0)
                .initial_bytes_to_strip(1)
                .build()
                .unwrap(),
        ),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"\x0a0123456"))
        .unwrap();
    ch.write_inbound(Bytes::from_static(b"789\x02ok")).unwrap();
    assert!(ch.is_active());
    assert_eq!(*log.borrow(), [too_long(11, 8), frame(b"ok")]);
}

#[test]
fn corrupt_lengths_are_reported_and_the_cumulation_discarded() {
    // Adjustment -4 with a 2-byte field: a value of 1 gives a frame of -1 + 2.
    let make = || {
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(64)
                .length_field_offset(0)
                .length_field_length(2)
                .length_adjustment(-4)
                .initial_bytes_to_strip(0)
                .build()
                .unwrap(),
        )
    };
    let got = run(make(), &[b"\x00\x01abc\x00\x06ab", b"\x00\x06xy"]);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        matches!(&got[0], Ev::Err(CodecError::CorruptFrame { reason })
        if matches!(reason, Corruption::LengthBelowFieldEnd { .. }))
    );
    // The rest of the first read was dropped (out of sync); the second read
    // starts afresh.
    assert_eq!(got[1], frame(b"\x00\x06xy"));

    // Negative 8-byte field.
    let make = || {
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(64)
                .length_field_offset(0)
                .length_field_length(8)
                .length_adjustment(0)
                .initial_bytes_to_strip(0)
                .build()
                .unwrap(),
        )
    };
    let got = run(make(), &[&u64::MAX.to_be_bytes()]);
    assert!(
        matches!(&got[..], [Ev::Err(CodecError::CorruptFrame { reason })]
        if *reason == Corruption::NegativeLengthField { value: -1 })
    );
}

#[test]
fn unhandled_corrupt_frame_closes_the_channel() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "decoder",
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(64)
                .length_field_offset(0)
                .length_field_length(8)
                .length_adjustment(0)
                .initial_bytes_to_strip(0)
                .build()
                .unwrap(),
        ),
    )]);
    let err = ch
        .write_inbound(Bytes::copy_from_slice(&u64::MAX.to_be_bytes()))
        .unwrap_err();
    assert!(matches!(
        err.downcast_ref::<CodecError>(),
        Some(CodecError::CorruptFrame { .. })
    ));
    assert!(!ch.is_active());
    // Reads after the close are not decoded.
    ch.write_inbound(Bytes::from_static(b"\0\0\0\0\0\0\0\x01a"))
        .unwrap();
    assert_eq!(ch.inbound_len(), 0);
}

/// Netty keeps its cached frame length after a frame shorter than
/// `initial_bytes_to_strip` and fails every later frame; seine goes on.
#[test]
fn strip_larger_than_frame_is_corrupt_and_later_frames_decode() {
    let make = || {
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(64)
                .length_field_offset(0)
                .length_field_length(1)
                .length_adjustment(0)
                .initial_bytes_to_strip(3)
                .build()
                .unwrap(),
        )
    };
    let (mut ch, log) = channel(make(), true);
    ch.write_inbound(Bytes::from_static(b"\x01a")).unwrap();
    ch.write_inbound(Bytes::from_static(b"\x03xyz")).unwrap();
    ch.write_inbound(Bytes::from_static(b"\x04")).unwrap();
    ch.write_inbound(Bytes::from_static(b"1234")).unwrap();
    let got = log.borrow().clone();
    assert!(
        matches!(&got[0], Ev::Err(CodecError::CorruptFrame { reason })
        if matches!(reason, Corruption::LengthBelowStrip { .. })),
        "{got:?}"
    );
    assert_eq!(got[1..], [frame(b"z"), frame(b"34")]);
}

#[test]
fn end_of_input_inside_a_frame_is_truncated() {
    let (mut ch, log) = channel(
        Handler::from(
            LengthFieldDecoder::builder()
                .max_frame_length(64)
                .length_field_offset(0)
                .length_field_length(1)
                .length_adjustment(0)
                .initial_bytes_to_strip(1)
                .build()
                .unwrap(),
        ),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"\x02ab\x05abc"))
        .unwrap();
    ch.close_inbound().unwrap();
    assert_eq!(
        *log.borrow(),
        [
            frame(b"ab"),
            Ev::Err(CodecError::TruncatedFrame { remaining: 4 })
        ]
    );
}

#[test]
fn end_of_input_while_skipping_reports_a_slow_too_long_frame() {
    for (fail_fast, want) in [
        (true, vec![too_long(101, 8)]),
        (false, vec![too_long(101, 8)]),
    ] {
        let decoder = LengthFieldDecoder::builder()
            .max_frame_length(8)
            .length_field_length(1)
            .fail_fast(fail_fast)
            .build()
            .unwrap();
        let (mut ch, log) = channel(Handler::from(decoder), true);
        ch.write_inbound(Bytes::from_static(b"\x64abc")).unwrap();
        ch.close_inbound().unwrap();
        assert_eq!(*log.borrow(), want, "fail_fast {fail_fast}");
    }
}

#[test]
fn frames_are_views_of_the_reads() {
    let read = Bytes::from(cat(&[b"\x00\x05hello", b"\x00\x05world"]));
    let mut ch = EmbeddedChannel::with_handlers([(
        "decoder",
        Handler::from(ByteToMessageDecoder::with_cumulation(
            LengthFieldDecoder::builder()
                .max_frame_length(64)
                .length_field_offset(0)
                .length_field_length(2)
                .length_adjustment(0)
                .initial_bytes_to_strip(2)
                .build()
                .unwrap(),
            CumulationStrategy::Compose,
        )),
    )]);
    ch.write_inbound(read.clone()).unwrap();
    let a = ch.read_inbound::<CompositeBuf>().unwrap();
    let b = ch.read_inbound::<CompositeBuf>().unwrap();
    assert_eq!(a.segments()[0].as_ptr(), read[2..].as_ptr());
    assert_eq!(b.segments()[0].as_ptr(), read[9..].as_ptr());
}
