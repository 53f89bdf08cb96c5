//! The frame decoders with their Netty-exact options (`netty_exact()`), checked
//! against Netty 4.1's own frame-decoder test cases, write by write: each case
//! keeps Netty's write boundaries (one `write_inbound` per `writeInbound`) and
//! says which frames and errors come out of which write, and what is left at end
//! of input (`finish`). Each case also shows seine's default where it differs,
//! so the options are seen to matter. The cases are re-stated from the behaviour
//! Netty's tests assert, not copied.

mod frame_support;

use frame_support::{Ev, channel, frame, too_long};
use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::Handler;
use seine_codec::{
    AfterError, CodecError, Corruption, Decoder, DelimiterDecoder, FixedLengthDecoder,
    LengthFieldDecoder, LineDecoder,
};

/// What came out of each write, then what came out at end of input.
#[derive(Debug, PartialEq, Eq)]
struct Trace {
    writes: Vec<Vec<Ev>>,
    eof: Vec<Ev>,
}

/// Writes each of `writes` as one read (errors taken by a handler, as Netty's
/// `EmbeddedChannel` keeps the channel open), then ends the input.
fn trace(decoder: impl Into<Handler>, writes: &[&[u8]]) -> Trace {
    let (mut ch, log) = channel(decoder.into(), true);
    let mut per_write = Vec::new();
    for w in writes {
        ch.write_inbound(Bytes::copy_from_slice(w)).unwrap();
        per_write.push(log.take());
    }
    assert!(ch.is_active(), "errors were taken: the channel stays open");
    ch.close_inbound().unwrap();
    Trace {
        writes: per_write,
        eof: log.take(),
    }
}

fn t(writes: Vec<Vec<Ev>>, eof: Vec<Ev>) -> Trace {
    Trace { writes, eof }
}

fn truncated(remaining: usize) -> Ev {
    Ev::Err(CodecError::TruncatedFrame { remaining })
}

fn corrupt(reason: Corruption) -> Ev {
    Ev::Err(CodecError::CorruptFrame { reason })
}

// ---------------------------------------------------------------------------
// LengthFieldBasedFrameDecoderTest
// ---------------------------------------------------------------------------

fn length_field(max: usize, strip: usize, fail_fast: bool, netty: bool) -> LengthFieldDecoder {
    let b = LengthFieldDecoder::builder()
        .max_frame_length(max)
        .length_field_length(4)
        .initial_bytes_to_strip(strip)
        .fail_fast(fail_fast);
    if netty { b.netty_exact() } else { b }.build().unwrap()
}

/// A length of 32, 32 bytes, then a frame of 1 byte: `[0,0,0,1,'a']`.
fn too_long_then_frame() -> Vec<u8> {
    let mut buf = 32u32.to_be_bytes().to_vec();
    buf.extend(std::iter::repeat_n(1u8, 32));
    buf.extend([0, 0, 0, 1, b'a']);
    buf
}

#[test]
fn length_field_discard_too_long_frame_1() {
    // One write holds the too-long frame and the next frame: Netty throws, and
    // the next frame comes out only at `finish`.
    let data = too_long_then_frame();
    assert_eq!(
        trace(length_field(16, 0, true, true), &[&data]),
        t(vec![vec![too_long(36, 16)]], vec![frame(b"\0\0\0\x01a")])
    );
    // seine's default delivers it in the same write.
    assert_eq!(
        trace(length_field(16, 0, true, false), &[&data]),
        t(vec![vec![too_long(36, 16), frame(b"\0\0\0\x01a")]], vec![])
    );
}

#[test]
fn length_field_discard_too_long_frame_2() {
    // The too-long frame is cut: 14 bytes, then the rest with the next frame.
    let data = too_long_then_frame();
    let want = t(
        vec![vec![too_long(36, 16)], vec![frame(b"\0\0\0\x01a")]],
        vec![],
    );
    assert_eq!(
        trace(length_field(16, 0, true, true), &[&data[..14], &data[14..]]),
        want
    );
    assert_eq!(
        trace(
            length_field(16, 0, true, false),
            &[&data[..14], &data[14..]]
        ),
        want
    );
}

#[test]
fn length_field_fail_slow_too_long_frame_recovery() {
    // maxFrameLength 5, strip 4, failFast off; twice: a header announcing 6,
    // the two bytes that end it (the error), then a good frame.
    let d = length_field(5, 4, false, true);
    let writes: [&[u8]; 6] = [
        &[0, 0, 0, 2],
        &[0, 0],
        &[0, 0, 0, 1, b'A'],
        &[0, 0, 0, 2],
        &[0, 0],
        &[0, 0, 0, 1, b'A'],
    ];
    let round = [vec![], vec![too_long(6, 5)], vec![frame(b"A")]];
    assert_eq!(
        trace(d, &writes),
        t(round.iter().chain(&round).cloned().collect(), vec![])
    );
}

#[test]
fn length_field_fail_fast_too_long_frame_recovery() {
    let d = length_field(5, 4, true, true);
    let writes: [&[u8]; 4] = [
        &[0, 0, 0, 2],
        &[0, 0, 0, 0, 0, 1, b'A'],
        &[0, 0, 0, 2],
        &[0, 0, 0, 0, 0, 1, b'A'],
    ];
    let round = [vec![too_long(6, 5)], vec![frame(b"A")]];
    assert_eq!(
        trace(d, &writes),
        t(round.iter().chain(&round).cloned().collect(), vec![])
    );
}

#[test]
fn length_field_corrupt_frame_keeps_the_rest_for_the_next_read() {
    // The field counts the whole frame (adjustment -2). A header of 1 is corrupt:
    // Netty skips the 2 header bytes and keeps the rest, which decodes later.
    let make = |netty: bool| {
        let b = LengthFieldDecoder::builder()
            .length_field_length(2)
            .length_adjustment(-2);
        if netty { b.netty_exact() } else { b }.build().unwrap()
    };
    let reason = Corruption::LengthBelowFieldEnd {
        length: 1,
        end: 2,
        adjustment: -2,
    };
    let writes: [&[u8]; 2] = [b"\x00\x01\x00\x05abc", b"\x00\x03z"];
    assert_eq!(
        trace(make(true), &writes),
        t(
            vec![
                vec![corrupt(reason.clone())],
                vec![frame(b"\x00\x05abc"), frame(b"\x00\x03z")]
            ],
            vec![]
        )
    );
    // seine's default: the stream is out of sync, the whole read is dropped.
    assert_eq!(
        trace(make(false), &writes),
        t(
            vec![vec![corrupt(reason)], vec![frame(b"\x00\x03z")]],
            vec![]
        )
    );
}

#[test]
fn length_field_partial_frame_at_end_of_input() {
    let writes: [&[u8]; 1] = [b"\x00\x00\x00\x03ab"];
    assert_eq!(
        trace(length_field(64, 4, true, true), &writes),
        t(vec![vec![]], vec![])
    );
    assert_eq!(
        trace(length_field(64, 4, true, false), &writes),
        t(vec![vec![]], vec![truncated(6)])
    );
}

#[test]
fn length_field_fail_slow_too_long_frame_cut_by_end_of_input() {
    let writes: [&[u8]; 1] = [&[0, 0, 0, 9, 1, 2]];
    assert_eq!(
        trace(length_field(5, 4, false, true), &writes),
        t(vec![vec![]], vec![])
    );
    assert_eq!(
        trace(length_field(5, 4, false, false), &writes),
        t(vec![vec![]], vec![too_long(13, 5)])
    );
}

// ---------------------------------------------------------------------------
// DelimiterBasedFrameDecoderTest
// ---------------------------------------------------------------------------

fn nul(max: usize, fail_fast: bool, netty: bool) -> DelimiterDecoder {
    let b = DelimiterDecoder::builder()
        .nul_delimiter()
        .max_frame_length(max)
        .fail_fast(fail_fast);
    if netty { b.netty_exact() } else { b }.build().unwrap()
}

#[test]
fn delimiter_fail_fast_too_long_frame_recovery() {
    let writes: [&[u8]; 4] = [&[1, 2], &[0, b'A', 0], &[1, 2], &[0, b'A', 0]];
    let round = [vec![too_long(2, 1)], vec![frame(b"A")]];
    assert_eq!(
        trace(nul(1, true, true), &writes),
        t(round.iter().chain(&round).cloned().collect(), vec![])
    );
}

#[test]
fn delimiter_fail_slow_too_long_frame_recovery() {
    let writes: [&[u8]; 6] = [&[1, 2], &[0], &[b'A', 0], &[1, 2], &[0], &[b'A', 0]];
    let round = [vec![], vec![too_long(2, 1)], vec![frame(b"A")]];
    assert_eq!(
        trace(nul(1, false, true), &writes),
        t(round.iter().chain(&round).cloned().collect(), vec![])
    );
}

#[test]
fn delimiter_frames_after_an_error_wait_for_the_next_read() {
    let writes: [&[u8]; 2] = [b"abc\0ok\0", b"x\0"];
    assert_eq!(
        trace(nul(2, true, true), &writes),
        t(
            vec![vec![too_long(3, 2)], vec![frame(b"ok"), frame(b"x")]],
            vec![]
        )
    );
    assert_eq!(
        trace(nul(2, true, false), &writes),
        t(
            vec![vec![too_long(3, 2), frame(b"ok")], vec![frame(b"x")]],
            vec![]
        )
    );
}

#[test]
fn delimiter_with_line_delimiters_goes_on_after_an_error_as_netty_line_decoder() {
    let d = DelimiterDecoder::builder()
        .line_delimiters()
        .max_frame_length(2)
        .netty_exact()
        .build()
        .unwrap();
    assert_eq!(
        trace(d, &[b"abc\nok\r\n", b"x\n"]),
        t(
            vec![vec![too_long(3, 2), frame(b"ok")], vec![frame(b"x")]],
            vec![]
        )
    );
}

#[test]
fn delimiter_incomplete_lines_stripped() {
    let d = DelimiterDecoder::builder()
        .line_delimiters()
        .max_frame_length(8192)
        .netty_exact()
        .build()
        .unwrap();
    assert_eq!(
        trace(d, &[b"Test", b"Line\r\ng\r\n", b"rest"]),
        t(
            vec![vec![], vec![frame(b"TestLine"), frame(b"g")], vec![]],
            vec![]
        )
    );
}

// ---------------------------------------------------------------------------
// LineBasedFrameDecoderTest
// ---------------------------------------------------------------------------

fn line(max: usize, strip: bool, fail_fast: bool, netty: bool) -> LineDecoder {
    let b = LineDecoder::builder()
        .max_frame_length(max)
        .strip_delimiter(strip)
        .fail_fast(fail_fast);
    if netty { b.netty_exact() } else { b }.build().unwrap()
}

#[test]
fn line_decode_with_strip() {
    let writes: [&[u8]; 1] = [b"first\r\nsecond\nthird"];
    let frames = vec![vec![frame(b"first"), frame(b"second")]];
    assert_eq!(
        trace(line(8192, true, true, true), &writes),
        t(frames.clone(), vec![])
    );
    assert_eq!(
        trace(line(8192, true, true, false), &writes),
        t(frames, vec![truncated(5)])
    );
}

#[test]
fn line_decode_without_strip() {
    assert_eq!(
        trace(line(8192, false, true, true), &[b"first\r\nsecond\nthird"]),
        t(vec![vec![frame(b"first\r\n"), frame(b"second\n")]], vec![])
    );
}

#[test]
fn line_too_long_line_1() {
    // Netty's line decoder fires its error and goes on in the same read.
    assert_eq!(
        trace(
            line(16, false, false, true),
            &[b"12345678901234567890\r\nfirst\nsecond"]
        ),
        t(vec![vec![too_long(20, 16), frame(b"first\n")]], vec![])
    );
}

#[test]
fn line_too_long_line_2() {
    assert_eq!(
        trace(
            line(16, false, false, true),
            &[b"12345678901234567", b"890\r\nfirst\r\n"]
        ),
        t(
            vec![vec![], vec![too_long(20, 16), frame(b"first\r\n")]],
            vec![]
        )
    );
}

#[test]
fn line_too_long_line_with_fail_fast() {
    assert_eq!(
        trace(
            line(16, false, true, true),
            &[b"12345678901234567", b"890", b"123\r\nfirst\r\n"]
        ),
        t(
            vec![vec![too_long(17, 16)], vec![], vec![frame(b"first\r\n")]],
            vec![]
        )
    );
}

// ---------------------------------------------------------------------------
// FixedLengthFrameDecoderTest
// ---------------------------------------------------------------------------

fn fixed(netty: bool) -> FixedLengthDecoder {
    let b = FixedLengthDecoder::builder().frame_length(3);
    if netty { b.netty_exact() } else { b }.build().unwrap()
}

#[test]
fn fixed_fragmented_decode() {
    assert_eq!(
        trace(fixed(true), &[b"A", b"B", b"C", b"DEF"]),
        t(
            vec![vec![], vec![], vec![frame(b"ABC")], vec![frame(b"DEF")]],
            vec![]
        )
    );
}

#[test]
fn fixed_partial_frame_at_end_of_input() {
    assert_eq!(
        trace(fixed(true), &[b"ABCD"]),
        t(vec![vec![frame(b"ABC")]], vec![])
    );
    assert_eq!(
        trace(fixed(false), &[b"ABCD"]),
        t(vec![vec![frame(b"ABC")]], vec![truncated(1)])
    );
}

// ---------------------------------------------------------------------------
// ByteToMessageDecoder: a custom decoder chooses Netty's error handling
// ---------------------------------------------------------------------------

/// Two-byte frames; a frame starting with `!` is refused without consuming it
/// (a Netty decoder that throws before reading) until `!` is cleared.
struct Picky {
    after: AfterError,
}

impl Decoder for Picky {
    type Item = CompositeBuf;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        if src.get_u8_at(0) == Some(b'!') {
            // Consume the marker only on the second attempt.
            if self.after == AfterError::WaitForNextRead && src.len() > 3 {
                use seine_buffer::Buf;
                src.advance(1);
                return Ok(None);
            }
            return Err(CodecError::CorruptFrame {
                reason: Corruption::Other("marker".into()),
            });
        }
        Ok(src.try_split_to(2))
    }

    fn after_error(&self) -> AfterError {
        self.after
    }
}

#[test]
fn wait_for_next_read_keeps_bytes_an_error_did_not_consume() {
    let marker = corrupt(Corruption::Other("marker".into()));
    let picky = |after| Handler::from(seine_codec::ByteToMessageDecoder::new(Picky { after }));
    // Netty's way: "!ab" is kept after the error; with the next read the decoder
    // gets it again (now it skips the marker), then decodes on.
    assert_eq!(
        trace(picky(AfterError::WaitForNextRead), &[b"!ab", b"cd"]),
        t(
            vec![vec![marker.clone()], vec![frame(b"ab"), frame(b"cd")]],
            vec![]
        )
    );
    // seine's default: an error that consumed nothing discards what is there.
    assert_eq!(
        trace(picky(AfterError::DecodeOn), &[b"!ab", b"cd"]),
        t(vec![vec![marker], vec![frame(b"cd")]], vec![])
    );
}
