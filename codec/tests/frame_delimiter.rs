//! `DelimiterDecoder` in an `EmbeddedChannel`: the cases of Netty's
//! `DelimiterBasedFrameDecoderTest`, several delimiters, every split, too-long
//! frames with and without fail-fast.

mod frame_support;

use frame_support::{Ev, assert_every_split, channel, frame, run, too_long};
use seine_buffer::Bytes;
use seine_channel::Handler;
use seine_codec::{CodecError, DelimiterDecoder};

#[test]
fn multiple_lines_stripped() {
    assert_every_split(
        || {
            Handler::from(
                DelimiterDecoder::builder()
                    .max_frame_length(8192)
                    .line_delimiters()
                    .build()
                    .unwrap(),
            )
        },
        b"TestLine\r\ng\r\n",
        &[frame(b"TestLine"), frame(b"g")],
    );
}

#[test]
fn multiple_lines_not_stripped() {
    assert_every_split(
        || {
            Handler::from(
                DelimiterDecoder::builder()
                    .max_frame_length(8192)
                    .line_delimiters()
                    .strip_delimiter(false)
                    .build()
                    .unwrap(),
            )
        },
        b"TestLine\r\ng\r\n",
        &[frame(b"TestLine\r\n"), frame(b"g\r\n")],
    );
}

#[test]
fn incomplete_lines() {
    let got = run(
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(8192)
                .line_delimiters()
                .build()
                .unwrap(),
        ),
        &[b"Test", b"Line\r\ng\r", b"\n"],
    );
    assert_eq!(got, [frame(b"TestLine"), frame(b"g")]);
}

/// Netty's testDecode: with `"abc"` and `"def"` as delimiters the shortest frame
/// wins.
#[test]
fn the_shortest_frame_wins() {
    let make = || {
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(8192)
                .delimiters([b"abc", b"def"])
                .build()
                .unwrap(),
        )
    };
    assert_every_split(make, b"xxxdefyyyabczzz", &[frame(b"xxx"), frame(b"yyy")]);
    // Found at the same place: the first delimiter given wins.
    let make = || {
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(64)
                .delimiters([&b"a"[..], b"ab"])
                .strip_delimiter(false)
                .build()
                .unwrap(),
        )
    };
    assert_every_split(make, b"1ab2a", &[frame(b"1a"), frame(b"b2a")]);
    let make = || {
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(64)
                .delimiters([&b"ab"[..], b"a"])
                .strip_delimiter(false)
                .build()
                .unwrap(),
        )
    };
    // "ab" is given first, but "1a|b" is shorter than ... no: both start at 1,
    // so the first given ("ab") wins.
    assert_eq!(run(make(), &[b"1ab2a"]), [frame(b"1ab"), frame(b"2a")]);
}

#[test]
fn nul_delimited() {
    assert_every_split(
        || {
            Handler::from(
                DelimiterDecoder::builder()
                    .max_frame_length(16)
                    .nul_delimiter()
                    .build()
                    .unwrap(),
            )
        },
        b"a\0\0bc\0",
        &[frame(b"a"), frame(b""), frame(b"bc")],
    );
}

/// Netty's testFailSlowTooLongFrameRecovery / testFailFastTooLongFrameRecovery.
#[test]
fn recovery_after_too_long_frames() {
    for fail_fast in [true, false] {
        let make = || {
            Handler::from(
                DelimiterDecoder::builder()
                    .max_frame_length(1)
                    .nul_delimiter()
                    .fail_fast(fail_fast)
                    .build()
                    .unwrap(),
            )
        };
        let (mut ch, log) = channel(make(), true);
        for _ in 0..2 {
            ch.write_inbound(Bytes::from_static(&[1, 2])).unwrap();
            ch.write_inbound(Bytes::from_static(&[0, b'A', 0])).unwrap();
        }
        assert_eq!(
            *log.borrow(),
            [too_long(2, 1), frame(b"A"), too_long(2, 1), frame(b"A")],
            "fail_fast {fail_fast}"
        );
    }
}

#[test]
fn too_long_frame_in_one_read_reported_once_for_both_fail_fast_values() {
    let data = b"0123456789||ok||";
    // Without fail-fast the error comes with the whole length, however cut.
    assert_every_split(
        || {
            Handler::from(
                DelimiterDecoder::builder()
                    .max_frame_length(4)
                    .delimiters([b"||"])
                    .fail_fast(false)
                    .build()
                    .unwrap(),
            )
        },
        data,
        &[too_long(10, 4), frame(b"ok")],
    );
    // With fail-fast it comes with the length seen when it was detected.
    for reads in frame_support::splits(data) {
        let got = run(
            Handler::from(
                DelimiterDecoder::builder()
                    .max_frame_length(4)
                    .delimiters([b"||"])
                    .build()
                    .unwrap(),
            ),
            &reads,
        );
        assert!(
            matches!(&got[..], [Ev::Err(CodecError::TooLongFrame { length: 5..=10, max: 4 }), f]
                if *f == frame(b"ok")),
            "{got:?}"
        );
    }
}

#[test]
fn too_long_frame_across_reads() {
    // fail-fast: reported as soon as it is seen.
    let (mut ch, log) = channel(
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(4)
                .delimiters([b"||"])
                .build()
                .unwrap(),
        ),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"0123456")).unwrap();
    assert_eq!(*log.borrow(), [too_long(7, 4)]);
    ch.write_inbound(Bytes::from_static(b"789|")).unwrap();
    ch.write_inbound(Bytes::from_static(b"|ok||")).unwrap();
    assert_eq!(*log.borrow(), [too_long(7, 4), frame(b"ok")]);

    // slow: once the delimiter arrived, with the whole length.
    let (mut ch, log) = channel(
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(4)
                .delimiters([b"||"])
                .fail_fast(false)
                .build()
                .unwrap(),
        ),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"0123456")).unwrap();
    ch.write_inbound(Bytes::from_static(b"789|")).unwrap();
    assert!(log.borrow().is_empty());
    // The delimiter was cut between reads: Netty would miss it here.
    ch.write_inbound(Bytes::from_static(b"|ok||")).unwrap();
    assert_eq!(*log.borrow(), [too_long(10, 4), frame(b"ok")]);
}

#[test]
fn a_max_length_frame_with_a_cut_delimiter_is_accepted() {
    assert_every_split(
        || {
            Handler::from(
                DelimiterDecoder::builder()
                    .max_frame_length(4)
                    .delimiters([b"\r\n"])
                    .build()
                    .unwrap(),
            )
        },
        b"abcd\r\nefgh\r\n",
        &[frame(b"abcd"), frame(b"efgh")],
    );
}

#[test]
fn end_of_input() {
    let (mut ch, log) = channel(
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(16)
                .nul_delimiter()
                .build()
                .unwrap(),
        ),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"a\0bc")).unwrap();
    ch.close_inbound().unwrap();
    assert_eq!(
        *log.borrow(),
        [
            frame(b"a"),
            Ev::Err(CodecError::TruncatedFrame { remaining: 2 })
        ]
    );
    let (mut ch, log) = channel(
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(2)
                .nul_delimiter()
                .fail_fast(false)
                .build()
                .unwrap(),
        ),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"abcdef")).unwrap();
    ch.close_inbound().unwrap();
    assert_eq!(*log.borrow(), [too_long(6, 2)]);
}

#[test]
fn long_delimiters_across_many_segments() {
    let delimiter = b"--boundary--";
    let mut data = Vec::new();
    let mut want = Vec::new();
    for i in 0..40 {
        let body = format!("part {i} {}", "x".repeat(i));
        data.extend_from_slice(body.as_bytes());
        data.extend_from_slice(delimiter);
        want.push(frame(body.as_bytes()));
    }
    for size in [1, 2, 5, 11, 12, 13, 100] {
        let reads: Vec<&[u8]> = data.chunks(size).collect();
        assert_eq!(
            run(
                Handler::from(
                    DelimiterDecoder::builder()
                        .max_frame_length(64)
                        .delimiters([delimiter])
                        .build()
                        .unwrap()
                ),
                &reads
            ),
            want
        );
    }
}
