//! `LineDecoder` in an `EmbeddedChannel`: the cases of Netty's
//! `LineBasedFrameDecoderTest`, every split, too-long lines with and without
//! fail-fast.

mod frame_support;

use frame_support::{Ev, assert_every_split, channel, frame, run, too_long};
use seine_buffer::Bytes;
use seine_channel::Handler;
use seine_codec::{CodecError, LineDecoder};

fn lines(max: usize) -> Handler {
    Handler::from(LineDecoder::new(max))
}

#[test]
fn decode_with_strip() {
    assert_every_split(
        || lines(8192),
        b"first\r\nsecond\nthird",
        &[frame(b"first"), frame(b"second")],
    );
}

#[test]
fn decode_without_strip() {
    assert_every_split(
        || {
            Handler::from(
                LineDecoder::builder()
                    .max_frame_length(8192)
                    .strip_delimiter(false)
                    .build()
                    .unwrap(),
            )
        },
        b"first\r\nsecond\nthird",
        &[frame(b"first\r\n"), frame(b"second\n")],
    );
}

#[test]
fn empty_lines_and_lone_cr() {
    assert_every_split(
        || lines(8),
        b"\n\r\na\rb\n\r\r\n",
        &[frame(b""), frame(b""), frame(b"a\rb"), frame(b"\r")],
    );
}

/// Netty's testTooLongLine1: a too-long line is skipped up to its line ending and
/// the next line decodes.
#[test]
fn too_long_line_then_a_good_one() {
    for fail_fast in [true, false] {
        let make = || {
            Handler::from(
                LineDecoder::builder()
                    .max_frame_length(16)
                    .fail_fast(fail_fast)
                    .build()
                    .unwrap(),
            )
        };
        let got = run(make(), &[b"12345678901234567890\r\nfirst\nsecond"]);
        assert_eq!(
            got,
            [too_long(20, 16), frame(b"first")],
            "fail_fast {fail_fast}"
        );
    }
    // Without fail-fast the error and its full length do not depend on the reads.
    assert_every_split(
        || {
            Handler::from(
                LineDecoder::builder()
                    .max_frame_length(16)
                    .fail_fast(false)
                    .build()
                    .unwrap(),
            )
        },
        b"12345678901234567890\r\nfirst\n",
        &[too_long(20, 16), frame(b"first")],
    );
}

/// Netty's testTooLongLine2 and testTooLongLineWithFailFast: the line ending
/// arrives in a later read.
#[test]
fn too_long_line_across_reads() {
    // fail-fast: reported as soon as 17 bytes without a line ending are seen.
    let (mut ch, log) = channel(lines(16), true);
    ch.write_inbound(Bytes::from_static(b"12345678901234567"))
        .unwrap();
    assert_eq!(*log.borrow(), [too_long(17, 16)]);
    ch.write_inbound(Bytes::from_static(b"890\r\nfirst\r\n"))
        .unwrap();
    assert_eq!(*log.borrow(), [too_long(17, 16), frame(b"first")]);

    // slow: reported once the line ending arrived, with the whole length.
    let (mut ch, log) = channel(
        Handler::from(
            LineDecoder::builder()
                .max_frame_length(16)
                .fail_fast(false)
                .build()
                .unwrap(),
        ),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"12345678901234567"))
        .unwrap();
    ch.write_inbound(Bytes::from_static(b"8901234")).unwrap();
    assert!(log.borrow().is_empty());
    ch.write_inbound(Bytes::from_static(b"5\r\nfirst\r\n"))
        .unwrap();
    assert_eq!(*log.borrow(), [too_long(25, 16), frame(b"first")]);
}

#[test]
fn too_long_is_reported_once_however_many_reads_it_spans() {
    for fail_fast in [true, false] {
        let (mut ch, log) = channel(
            Handler::from(
                LineDecoder::builder()
                    .max_frame_length(4)
                    .fail_fast(fail_fast)
                    .build()
                    .unwrap(),
            ),
            true,
        );
        for _ in 0..50 {
            ch.write_inbound(Bytes::from_static(b"xxxxxxxxxx")).unwrap();
        }
        ch.write_inbound(Bytes::from_static(b"\nok\n")).unwrap();
        let got = log.borrow().clone();
        let errors = got.iter().filter(|e| matches!(e, Ev::Err(_))).count();
        assert_eq!(errors, 1, "{got:?}");
        assert_eq!(got.last(), Some(&frame(b"ok")));
        if !fail_fast {
            assert_eq!(got[0], too_long(500, 4));
        }
    }
}

/// A line of exactly `max_length` bytes whose `\r\n` is cut between reads is
/// accepted (Netty refuses it: it counts the `\r`).
#[test]
fn max_length_line_with_split_crlf_is_accepted() {
    assert_every_split(
        || lines(4),
        b"abcd\r\nefgh\r\n",
        &[frame(b"abcd"), frame(b"efgh")],
    );
}

#[test]
fn unhandled_too_long_line_closes_the_channel() {
    let (mut ch, _log) = channel(lines(4), false);
    let err = ch
        .write_inbound(Bytes::from_static(b"abcdefgh"))
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<CodecError>(),
        Some(&CodecError::TooLongFrame { length: 8, max: 4 })
    );
    assert!(!ch.is_active());
}

#[test]
fn end_of_input() {
    // An unterminated last line is reported, not dropped silently.
    let (mut ch, log) = channel(lines(16), true);
    ch.write_inbound(Bytes::from_static(b"a\nbc")).unwrap();
    ch.close_inbound().unwrap();
    assert_eq!(
        *log.borrow(),
        [
            frame(b"a"),
            Ev::Err(CodecError::TruncatedFrame { remaining: 2 })
        ]
    );
    // A too-long line cut by the end of input, not reported yet without fail-fast.
    let (mut ch, log) = channel(
        Handler::from(
            LineDecoder::builder()
                .max_frame_length(2)
                .fail_fast(false)
                .build()
                .unwrap(),
        ),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"abcdef")).unwrap();
    ch.close_inbound().unwrap();
    assert_eq!(*log.borrow(), [too_long(6, 2)]);
    // Nothing left: nothing reported.
    let (mut ch, log) = channel(lines(16), true);
    ch.write_inbound(Bytes::from_static(b"a\n")).unwrap();
    ch.close_inbound().unwrap();
    ch.close();
    assert_eq!(*log.borrow(), [frame(b"a")]);
}

#[test]
fn many_lines_in_many_reads() {
    let mut data = Vec::new();
    let mut want = Vec::new();
    for i in 0..300 {
        let line = format!("line number {i}");
        data.extend_from_slice(line.as_bytes());
        data.extend_from_slice(if i % 2 == 0 { b"\r\n" } else { b"\n" });
        want.push(frame(line.as_bytes()));
    }
    for size in [1, 2, 3, 7, 64, 1000, data.len()] {
        let reads: Vec<&[u8]> = data.chunks(size).collect();
        assert_eq!(run(lines(64), &reads), want, "reads of {size}");
    }
}
