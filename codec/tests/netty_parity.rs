//! Netty parity checks for the frame decoders/encoders and the
//! `ByteToMessageDecoder` driver, written against the behaviour Netty documents
//! (and implements) for `LengthFieldBasedFrameDecoder`, `LengthFieldPrepender`,
//! `LineBasedFrameDecoder`, `DelimiterBasedFrameDecoder`,
//! `FixedLengthFrameDecoder` and `ByteToMessageDecoder`.
//!
//! These complement `frame_*.rs` (which already cover the javadoc examples at
//! every split, every field size in both byte orders, and the basic too-long
//! paths); they focus on edges those tests leave out. Where seine differs from
//! Netty on purpose (a partial frame at end of input is reported as
//! `TruncatedFrame`, a corrupt frame discards what was accumulated, frames after
//! an error are decoded in the same read, the tail closes on an unhandled
//! error), `seine_codec::netty` lists it with the option that removes it, and
//! `netty_exact.rs` replays Netty's own test cases with those options on.

mod frame_support;

use std::cell::Cell;
use std::rc::Rc;

use frame_support::{Ev, channel, frame, run, too_long};
use seine_buffer::{Buf, ByteOrder, Bytes, CompositeBuf};
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelConfig, Error, Handler};
use seine_codec::{
    ByteToMessageDecoder, CodecError, Decoder, DelimiterDecoder, FixedLengthDecoder,
    LengthFieldDecoder, LengthFieldPrepender, LineDecoder,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Feeds `reads` one `write_inbound` each; returns, per read, what came out.
fn per_read(decoder: Handler, reads: &[&[u8]]) -> Vec<Vec<Ev>> {
    let (mut ch, log) = channel(decoder, true);
    let mut out = Vec::new();
    for r in reads {
        ch.write_inbound(Bytes::copy_from_slice(r)).unwrap();
        out.push(log.take());
    }
    assert!(ch.is_active());
    out
}

/// Feeds `reads`, then signals end of input; returns everything in order.
fn run_then_eof(decoder: Handler, reads: &[&[u8]]) -> Vec<Ev> {
    let (mut ch, log) = channel(decoder, true);
    for r in reads {
        ch.write_inbound(Bytes::copy_from_slice(r)).unwrap();
    }
    ch.close_inbound().unwrap();
    log.take()
}

fn no_close_on_exception() -> ChannelConfig {
    ChannelConfig {
        close_on_exception: false,
        ..ChannelConfig::default()
    }
}

// ---------------------------------------------------------------------------
// LengthFieldBasedFrameDecoder
// ---------------------------------------------------------------------------

/// A javadoc configuration: offset, field length, adjustment, strip, input,
/// output.
type JavadocCase = (usize, usize, i64, usize, Vec<u8>, Vec<u8>);

/// Netty compares `maxFrameLength` with the whole frame (header included, before
/// `initialBytesToStrip`): for each javadoc configuration a max equal to the
/// frame length accepts it and one less rejects it, reporting the frame length.
#[test]
fn lf_max_frame_length_counts_the_header_in_every_javadoc_configuration() {
    let hello = b"HELLO, WORLD";
    let cases: Vec<JavadocCase> = vec![
        (
            0,
            2,
            0,
            0,
            [&b"\x00\x0c"[..], hello].concat(),
            [&b"\x00\x0c"[..], hello].concat(),
        ),
        (
            0,
            2,
            0,
            2,
            [&b"\x00\x0c"[..], hello].concat(),
            hello.to_vec(),
        ),
        (
            0,
            2,
            -2,
            0,
            [&b"\x00\x0e"[..], hello].concat(),
            [&b"\x00\x0e"[..], hello].concat(),
        ),
        (
            2,
            3,
            0,
            0,
            [&b"\xca\xfe\x00\x00\x0c"[..], hello].concat(),
            [&b"\xca\xfe\x00\x00\x0c"[..], hello].concat(),
        ),
        (
            0,
            3,
            2,
            0,
            [&b"\x00\x00\x0c\xca\xfe"[..], hello].concat(),
            [&b"\x00\x00\x0c\xca\xfe"[..], hello].concat(),
        ),
        (
            1,
            2,
            1,
            3,
            [&b"\xca\x00\x0c\xfe"[..], hello].concat(),
            [&b"\xfe"[..], hello].concat(),
        ),
        (
            1,
            2,
            -3,
            3,
            [&b"\xca\x00\x10\xfe"[..], hello].concat(),
            [&b"\xfe"[..], hello].concat(),
        ),
    ];
    for (offset, width, adjustment, strip, input, output) in cases {
        let frame_length = input.len();
        let make = |max| {
            Handler::from(
                LengthFieldDecoder::builder()
                    .max_frame_length(max)
                    .length_field_offset(offset)
                    .length_field_length(width)
                    .length_adjustment(adjustment)
                    .initial_bytes_to_strip(strip)
                    .build()
                    .unwrap(),
            )
        };
        assert_eq!(
            run(make(frame_length), &[&input]),
            [frame(&output)],
            "max = frame length, config {offset}/{width}/{adjustment}/{strip}"
        );
        assert_eq!(
            run(make(frame_length - 1), &[&input]),
            [too_long(frame_length as u64, frame_length - 1)],
            "max = frame length - 1, config {offset}/{width}/{adjustment}/{strip}"
        );
    }
}

/// Byte order applies to the length field only, also with an offset, an
/// adjustment and a strip (little-endian 3-byte field between two headers).
#[test]
fn lf_little_endian_3_byte_field_with_offset_adjustment_and_strip() {
    let decoder = LengthFieldDecoder::builder()
        .max_frame_length(1024)
        .length_field_offset(1)
        .length_field_length(3)
        .length_adjustment(1)
        .initial_bytes_to_strip(4)
        .byte_order(ByteOrder::LittleEndian)
        .build()
        .unwrap();
    // HDR1 | len 5 (LE) | HDR2 | "hello"; then the same with 0x000102 = 258 bytes.
    let mut input = b"\xaa\x05\x00\x00\xbbhello".to_vec();
    let big = vec![b'z'; 0x0102];
    input.extend_from_slice(b"\xaa\x02\x01\x00\xbb");
    input.extend_from_slice(&big);
    let reads: Vec<&[u8]> = input.chunks(3).collect();
    let want = [frame(b"\xbbhello"), frame(&[&b"\xbb"[..], &big].concat())];
    assert_eq!(run(Handler::from(decoder), &reads), want);
}

/// failFast = true: the exception is raised once, at the read holding the header;
/// the frame's bytes are skipped over many later reads; the frame after it (in
/// the same read as the last skipped byte) decodes normally.
#[test]
fn lf_fail_fast_raises_once_and_skips_across_many_reads() {
    let decoder = LengthFieldDecoder::builder()
        .max_frame_length(16)
        .length_field_length(2)
        .initial_bytes_to_strip(2)
        .build()
        .unwrap();
    // A frame of 2 + 100 bytes, then a good frame "ok".
    let mut stream = vec![0x00, 100];
    stream.extend_from_slice(&[b'x'; 100]);
    stream.extend_from_slice(b"\x00\x02ok");
    let reads: Vec<&[u8]> = stream.chunks(7).collect();
    let got = per_read(Handler::from(decoder), &reads);
    assert_eq!(got[0], [too_long(102, 16)], "raised with the header");
    let later: Vec<Ev> = got[1..].concat();
    assert_eq!(
        later,
        [frame(b"ok")],
        "no second error, nothing of the frame"
    );
}

/// failFast = false: raised once, in the read that holds the frame's last byte
/// (here that byte ends the read), not before and not at the next read.
#[test]
fn lf_fail_slow_raises_when_the_last_byte_is_skipped() {
    let decoder = LengthFieldDecoder::builder()
        .max_frame_length(4)
        .length_field_length(1)
        .fail_fast(false)
        .build()
        .unwrap();
    // Frame of 1 + 9 bytes.
    let got = per_read(
        Handler::from(decoder),
        &[b"\x09abc", b"def", b"ghi", b"\x01z"],
    );
    assert_eq!(
        got,
        [vec![], vec![], vec![too_long(10, 4)], vec![frame(b"\x01z")]]
    );
}

/// The same, driving the decoder directly (Netty's decode() contract): the state
/// is "discarding" until the frame is fully skipped.
#[test]
fn lf_direct_decoder_discarding_state_follows_netty() {
    for fail_fast in [true, false] {
        let mut d = LengthFieldDecoder::builder()
            .max_frame_length(8)
            .length_field_length(2)
            .fail_fast(fail_fast)
            .build()
            .unwrap();
        let mut src = CompositeBuf::from(&b"\x00\x0aabcd"[..]);
        let first = d.decode(&mut src);
        if fail_fast {
            assert_eq!(first, Err(CodecError::TooLongFrame { length: 12, max: 8 }));
        } else {
            assert_eq!(first, Ok(None));
        }
        assert!(src.is_empty());
        assert!(d.is_discarding());
        src.push(Bytes::from_static(b"efgh"));
        assert_eq!(d.decode(&mut src), Ok(None));
        assert!(d.is_discarding());
        src.push(Bytes::from_static(b"ij\x00\x01!"));
        let last = d.decode(&mut src);
        if fail_fast {
            assert_eq!(last.unwrap().unwrap(), b"\x00\x01!"[..]);
        } else {
            assert_eq!(last, Err(CodecError::TooLongFrame { length: 12, max: 8 }));
            assert_eq!(d.decode(&mut src).unwrap().unwrap(), b"\x00\x01!"[..]);
        }
        assert!(!d.is_discarding());
    }
}

/// A negative (8-byte, signed) length is a CorruptedFrameException; a frame in a
/// later read decodes.
#[test]
fn lf_negative_length_is_corrupt_and_later_frames_decode() {
    let decoder = LengthFieldDecoder::builder()
        .max_frame_length(64)
        .length_field_offset(0)
        .length_field_length(8)
        .length_adjustment(0)
        .initial_bytes_to_strip(8)
        .build()
        .unwrap();
    let mut good = 2u64.to_be_bytes().to_vec();
    good.extend_from_slice(b"ok");
    let got = run(Handler::from(decoder), &[&(-5i64).to_be_bytes(), &good]);
    assert!(
        matches!(&got[..], [Ev::Err(CodecError::CorruptFrame { .. }), Ev::Frame(ok)] if ok == b"ok"),
        "{got:?}"
    );
}

/// At EOF complete frames still come out (Netty: callDecode then decodeLast).
#[test]
fn lf_complete_frames_come_out_before_eof_handling() {
    let got = run_then_eof(
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
        &[b"\x02a", b"b\x01c"],
    );
    assert_eq!(got, [frame(b"ab"), frame(b"c")]);
}

// ---------------------------------------------------------------------------
// LengthFieldPrepender
// ---------------------------------------------------------------------------

fn prepend(prepender: LengthFieldPrepender, payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    let mut ch = EmbeddedChannel::with_handlers([("prepender", Handler::from(prepender))]);
    let done = ch.write_outbound(CompositeBuf::from(payload));
    done.result().expect("write completed")?;
    Ok(ch.read_outbound_bytes())
}

/// `length = payload + lengthAdjustment (+ lengthFieldLength if included)`, for
/// every field size, in both byte orders.
#[test]
fn prep_adjustment_and_included_field_length_combine_for_every_width() {
    for width in [1usize, 2, 3, 4, 8] {
        for order in [ByteOrder::BigEndian, ByteOrder::LittleEndian] {
            let p = LengthFieldPrepender::builder()
                .length_field_length(width)
                .byte_order(order)
                .length_adjustment(3)
                .length_includes_length_field_length(true)
                .build()
                .unwrap();
            let value = (5 + 3 + width) as u64;
            let field = match order {
                ByteOrder::BigEndian => value.to_be_bytes()[8 - width..].to_vec(),
                ByteOrder::LittleEndian => value.to_le_bytes()[..width].to_vec(),
            };
            let got = prepend(p, b"hello".to_vec()).unwrap();
            assert_eq!(got, [&field[..], b"hello"].concat(), "{width} {order:?}");
        }
    }
}

/// The field-size limit applies to the adjusted length (Netty checks the value
/// written, after adjustment and the included field length).
#[test]
fn prep_limit_applies_to_the_adjusted_length() {
    // 1 byte: 200 + 55 = 255 fits, 200 + 56 = 256 does not.
    assert!(
        prepend(
            LengthFieldPrepender::builder()
                .length_field_length(1)
                .length_adjustment(55)
                .build()
                .unwrap(),
            vec![0; 200]
        )
        .is_ok()
    );
    let err = prepend(
        LengthFieldPrepender::builder()
            .length_field_length(1)
            .length_adjustment(56)
            .build()
            .unwrap(),
        vec![0; 200],
    );
    assert!(
        matches!(
            err.as_ref().unwrap_err().downcast_ref::<CodecError>(),
            Some(CodecError::Encode { .. })
        ),
        "{err:?}"
    );
    // 2 bytes, field length included: 65533 + 2 fits, 65534 + 2 does not.
    let p = || {
        LengthFieldPrepender::builder()
            .length_field_length(2)
            .length_includes_length_field_length(true)
            .build()
            .unwrap()
    };
    let ok = prepend(p(), vec![0; 65533]).unwrap();
    assert_eq!(&ok[..2], b"\xff\xff");
    assert!(prepend(p(), vec![0; 65534]).is_err());
    // 3 bytes: pushed over 2^24 - 1 by the adjustment.
    let adj = (1i64 << 24) - 4;
    let ok = prepend(
        LengthFieldPrepender::builder()
            .length_field_length(3)
            .length_adjustment(adj)
            .build()
            .unwrap(),
        vec![0; 3],
    )
    .unwrap();
    assert_eq!(&ok[..3], b"\xff\xff\xff");
    assert!(
        prepend(
            LengthFieldPrepender::builder()
                .length_field_length(3)
                .length_adjustment(adj)
                .build()
                .unwrap(),
            vec![0; 4]
        )
        .is_err()
    );
    // Negative after adjustment: IllegalArgumentException in Netty.
    assert!(
        prepend(
            LengthFieldPrepender::builder()
                .length_field_length(4)
                .length_adjustment(-4)
                .build()
                .unwrap(),
            vec![0; 3]
        )
        .is_err()
    );
    assert_eq!(
        prepend(
            LengthFieldPrepender::builder()
                .length_field_length(4)
                .length_adjustment(-3)
                .build()
                .unwrap(),
            vec![0; 3]
        )
        .unwrap(),
        b"\x00\x00\x00\x00\x00\x00\x00"
    );
}

/// With `close_on_exception` off, a refused message fails its promise and the
/// next message still goes out.
#[test]
fn prep_refused_message_does_not_block_later_writes_when_errors_do_not_close() {
    let mut ch = EmbeddedChannel::with_config(no_close_on_exception());
    ch.pipeline()
        .add_last(
            "prepender",
            Handler::from(
                LengthFieldPrepender::builder()
                    .length_field_length(1)
                    .build()
                    .unwrap(),
            ),
        )
        .unwrap();
    let bad = ch.write_outbound(CompositeBuf::from(vec![0u8; 256]));
    assert!(bad.result().unwrap().is_err());
    let good = ch.write_outbound(CompositeBuf::from(&b"ok"[..]));
    assert!(matches!(good.result(), Some(Ok(()))));
    assert_eq!(ch.read_outbound_bytes(), b"\x02ok");
}

/// Netty: an exception thrown by an outbound handler's write() only fails that
/// write's promise (AbstractChannelHandlerContext.invokeWrite0); nothing is fired
/// through exceptionCaught, the channel stays open and later writes go out.
#[test]
fn prep_refused_message_only_fails_its_promise() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "prepender",
        Handler::from(
            LengthFieldPrepender::builder()
                .length_field_length(1)
                .build()
                .unwrap(),
        ),
    )]);
    let bad = ch.write_outbound(CompositeBuf::from(vec![0u8; 256]));
    assert!(bad.result().unwrap().is_err());
    assert!(
        ch.take_exception().is_ok(),
        "nothing fired as exceptionCaught"
    );
    assert!(ch.is_active(), "channel stays open");
    let good = ch.write_outbound(CompositeBuf::from(&b"ok"[..]));
    assert!(matches!(good.result(), Some(Ok(()))));
    assert_eq!(ch.read_outbound_bytes(), b"\x02ok");
}

// ---------------------------------------------------------------------------
// LineBasedFrameDecoder
// ---------------------------------------------------------------------------

/// A line of exactly maxLength bytes fed one byte per read is accepted; one byte
/// more is refused once (failFast), and the next line is fine.
#[test]
fn line_long_line_one_byte_per_read_at_the_limit() {
    let mut line = vec![b'q'; 300];
    line.extend_from_slice(b"\r\nnext\n");
    let reads: Vec<&[u8]> = line.chunks(1).collect();
    assert_eq!(
        run(Handler::from(LineDecoder::new(300)), &reads),
        [frame(&[b'q'; 300]), frame(b"next")]
    );
    let got = run(Handler::from(LineDecoder::new(299)), &reads);
    assert_eq!(got, [too_long(300, 299), frame(b"next")]);
    let got = run(
        Handler::from(
            LineDecoder::builder()
                .max_frame_length(299)
                .fail_fast(false)
                .build()
                .unwrap(),
        ),
        &reads,
    );
    assert_eq!(got, [too_long(300, 299), frame(b"next")]);
}

/// stripDelimiter = false keeps `\r\n` or `\n` as received, and a lone `\r`
/// (even one ending a read) stays part of the line.
#[test]
fn line_unstripped_endings_and_lone_cr_across_reads() {
    let got = run(
        Handler::from(
            LineDecoder::builder()
                .max_frame_length(16)
                .strip_delimiter(false)
                .build()
                .unwrap(),
        ),
        &[b"a\r", b"b\r", b"\nc\n", b"\r", b"\r\n"],
    );
    assert_eq!(got, [frame(b"a\rb\r\n"), frame(b"c\n"), frame(b"\r\r\n")]);
}

/// Exception timing for both failFast values when the over-long line and the
/// following line arrive across reads: the too-long line is never delivered.
#[test]
fn line_too_long_timing_and_next_line() {
    let reads: [&[u8]; 3] = [b"abcdef", b"gh", b"ij\nok\n"];
    let fast = per_read(Handler::from(LineDecoder::new(4)), &reads);
    assert_eq!(fast, [vec![too_long(6, 4)], vec![], vec![frame(b"ok")]]);
    let slow = per_read(
        Handler::from(
            LineDecoder::builder()
                .max_frame_length(4)
                .fail_fast(false)
                .build()
                .unwrap(),
        ),
        &reads,
    );
    assert_eq!(slow, [vec![], vec![], vec![too_long(10, 4), frame(b"ok")]]);
}

// ---------------------------------------------------------------------------
// DelimiterBasedFrameDecoder
// ---------------------------------------------------------------------------

/// Netty's special case: with exactly the line delimiters (`\r\n` and `\n`, in
/// either order) DelimiterBasedFrameDecoder behaves as LineBasedFrameDecoder.
#[test]
fn delim_line_delimiters_behave_as_the_line_decoder() {
    let inputs: [&[u8]; 5] = [
        b"one\r\ntwo\n\nthree\r\r\nfour",
        b"a\rb\n\r\n\r",
        b"toolongline\nok\r\n",
        b"xxxxxxxxxxxxxxxxxxxx\r\nyy\n",
        b"abcd\r\nefgh\n",
    ];
    for input in inputs {
        for strip in [true, false] {
            for fail_fast in [true, false] {
                for size in [1, 2, 3, 5, input.len()] {
                    let reads: Vec<&[u8]> = input.chunks(size).collect();
                    let line = run(
                        Handler::from(
                            LineDecoder::builder()
                                .max_frame_length(4)
                                .strip_delimiter(strip)
                                .fail_fast(fail_fast)
                                .build()
                                .unwrap(),
                        ),
                        &reads,
                    );
                    let lines = run(
                        Handler::from(
                            DelimiterDecoder::builder()
                                .max_frame_length(4)
                                .line_delimiters()
                                .strip_delimiter(strip)
                                .fail_fast(fail_fast)
                                .build()
                                .unwrap(),
                        ),
                        &reads,
                    );
                    let swapped = run(
                        Handler::from(
                            DelimiterDecoder::builder()
                                .max_frame_length(4)
                                .delimiters([&b"\n"[..], b"\r\n"])
                                .strip_delimiter(strip)
                                .fail_fast(fail_fast)
                                .build()
                                .unwrap(),
                        ),
                        &reads,
                    );
                    let ctx = format!("{input:?} strip {strip} fast {fail_fast} size {size}");
                    assert_eq!(lines, line, "{ctx}");
                    assert_eq!(swapped, line, "{ctx}");
                }
            }
        }
    }
}

/// Netty picks the delimiter giving the shortest frame, whatever the delimiters'
/// lengths or order: a long delimiter found early beats a short one found late.
#[test]
fn delim_shortest_frame_wins_across_delimiter_lengths() {
    let make = || {
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(64)
                .delimiters([&b"\0"[..], b"END"])
                .build()
                .unwrap(),
        )
    };
    assert_eq!(
        run(make(), &[b"aENDb\0c\0dEN", b"D"]),
        [frame(b"a"), frame(b"b"), frame(b"c"), frame(b"d")]
    );
    let make = || {
        Handler::from(
            DelimiterDecoder::builder()
                .max_frame_length(64)
                .delimiters([&b"END"[..], b"\0"])
                .strip_delimiter(false)
                .build()
                .unwrap(),
        )
    };
    assert_eq!(run(make(), &[b"a\0bEND"]), [frame(b"a\0"), frame(b"bEND")]);
}

/// maxFrameLength excludes the delimiter: max accepted, max + 1 refused (with
/// its length), for both failFast values, and the next frame is fine.
#[test]
fn delim_max_frame_length_boundary() {
    for fail_fast in [true, false] {
        let make = || {
            Handler::from(
                DelimiterDecoder::builder()
                    .max_frame_length(3)
                    .delimiters([b"||"])
                    .fail_fast(fail_fast)
                    .build()
                    .unwrap(),
            )
        };
        assert_eq!(run(make(), &[b"abc||d||"]), [frame(b"abc"), frame(b"d")]);
        assert_eq!(
            run(make(), &[b"abcd||e||"]),
            [too_long(4, 3), frame(b"e")],
            "fail_fast {fail_fast}"
        );
    }
}

// ---------------------------------------------------------------------------
// FixedLengthFrameDecoder
// ---------------------------------------------------------------------------

/// Frames across reads of varying size, and the channel's `finish` reports the
/// frames still unread.
#[test]
fn fixed_frames_across_reads_and_finish() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "f",
        Handler::from(
            FixedLengthDecoder::builder()
                .frame_length(4)
                .build()
                .unwrap(),
        ),
    )]);
    for r in [&b"a"[..], b"bcdefghij", b"k", b"l"] {
        ch.write_inbound(Bytes::from_static(r)).unwrap();
    }
    assert!(ch.finish(), "frames pending");
    for want in ["abcd", "efgh", "ijkl"] {
        assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), want.as_bytes());
    }
    assert!(ch.read_inbound::<CompositeBuf>().is_none());
}

// ---------------------------------------------------------------------------
// ByteToMessageDecoder
// ---------------------------------------------------------------------------

/// Emits everything left as one message at EOF (a typical decodeLast override),
/// and one "EOF" marker even when nothing is left (Netty calls decodeLast with an
/// empty buffer). Counts decode_eof calls.
struct Rest {
    eof_calls: Rc<Cell<usize>>,
    marker_sent: bool,
}

impl Decoder for Rest {
    type Item = CompositeBuf;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        // Whole lines only.
        let Some(i) = src.to_vec().iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let line = src.split_to(i);
        src.advance(1);
        Ok(Some(line))
    }

    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        self.eof_calls.set(self.eof_calls.get() + 1);
        if let Some(line) = self.decode(src)? {
            return Ok(Some(line));
        }
        if !src.is_empty() {
            let n = src.len();
            return Ok(Some(src.split_to(n)));
        }
        if !self.marker_sent {
            self.marker_sent = true;
            return Ok(Some(CompositeBuf::from(&b"EOF"[..])));
        }
        Ok(None)
    }
}

fn rest() -> (Handler, Rc<Cell<usize>>) {
    let calls = Rc::new(Cell::new(0));
    let d = Rest {
        eof_calls: calls.clone(),
        marker_sent: false,
    };
    (Handler::from(ByteToMessageDecoder::new(d)), calls)
}

/// Channel close (inactive) runs decodeLast for the leftover, as Netty's
/// channelInactive -> channelInputClosed does.
#[test]
fn b2m_close_runs_decode_last_for_leftover() {
    let (h, _) = rest();
    let (mut ch, log) = channel(h, true);
    ch.write_inbound(Bytes::from_static(b"a\nbc")).unwrap();
    assert_eq!(*log.borrow(), [frame(b"a")]);
    ch.close();
    assert_eq!(*log.borrow(), [frame(b"a"), frame(b"bc"), frame(b"EOF")]);
}

/// Input shutdown (half-closure) runs decodeLast too (Netty's
/// ChannelInputShutdownEvent path), with an empty buffer when nothing is left.
#[test]
fn b2m_input_closed_runs_decode_last_even_when_empty() {
    let (h, calls) = rest();
    let (mut ch, log) = channel(h, true);
    ch.write_inbound(Bytes::from_static(b"a\n")).unwrap();
    ch.close_inbound().unwrap();
    assert_eq!(*log.borrow(), [frame(b"a"), frame(b"EOF")]);
    assert!(calls.get() >= 1);
}

/// Counts calls; never produces nor consumes.
struct Idle(Rc<Cell<usize>>);

impl Decoder for Idle {
    type Item = CompositeBuf;
    fn decode(&mut self, _src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        self.0.set(self.0.get() + 1);
        Ok(None)
    }
}

/// A decoder that neither produces nor consumes is called once per read (Netty's
/// callDecode breaks when `out` is empty and no byte was read): no spinning.
#[test]
fn b2m_idle_decoder_does_not_spin() {
    let calls = Rc::new(Cell::new(0));
    let (mut ch, log) = channel(
        Handler::from(ByteToMessageDecoder::new(Idle(calls.clone()))),
        true,
    );
    for _ in 0..3 {
        ch.write_inbound(Bytes::from_static(b"xyz")).unwrap();
    }
    assert_eq!(calls.get(), 3);
    assert!(log.borrow().is_empty());
    assert!(ch.is_active());
}

/// Skips one leading space per call without producing anything; otherwise
/// returns one byte.
struct SkipSpace;

impl Decoder for SkipSpace {
    type Item = CompositeBuf;
    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        match src.get_u8_at(0) {
            None => Ok(None),
            Some(b' ') => {
                src.advance(1);
                Ok(None)
            }
            Some(_) => Ok(Some(src.split_to(1))),
        }
    }
}

/// Netty's callDecode calls decode() again when it consumed input but produced
/// nothing (`if (out.isEmpty()) { if (oldInputLength == in.readableBytes()) break;
/// else continue; }`), so "  a" yields "a" within the same read.
#[test]
fn b2m_consumed_but_no_output_is_called_again() {
    let got = per_read(
        Handler::from(ByteToMessageDecoder::new(SkipSpace)),
        &[b"  a"],
    );
    assert_eq!(got, [vec![frame(b"a")]]);
}

/// Returns a message without consuming anything.
struct Stuck;

impl Decoder for Stuck {
    type Item = CompositeBuf;
    fn decode(&mut self, _src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        Ok(Some(CompositeBuf::from(&b"?"[..])))
    }
}

/// A message decoded without reading input is an error (Netty: DecoderException
/// "decode() did not read anything but decoded a message"), not an endless loop.
#[test]
fn b2m_message_without_consuming_is_an_error_not_a_loop() {
    let got = run(Handler::from(ByteToMessageDecoder::new(Stuck)), &[b"abc"]);
    assert!(
        got.iter()
            .any(|e| matches!(e, Ev::Err(CodecError::DecoderMadeNoProgress { .. }))),
        "{got:?}"
    );
    assert!(got.len() <= 2, "{got:?}");
}

/// One byte per frame; `!` is consumed and reported with `error`.
struct Bang(CodecError);

impl Decoder for Bang {
    type Item = CompositeBuf;
    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        match src.get_u8_at(0) {
            None => Ok(None),
            Some(b'!') => {
                src.advance(1);
                Err(self.0.clone())
            }
            Some(_) => Ok(Some(src.split_to(1))),
        }
    }
}

/// A decoder error is fired as an exception; a handler that takes it keeps the
/// channel open and input after the error is decoded (Netty keeps the bytes the
/// decoder did not consume and decodes them with the next read).
#[test]
fn b2m_error_is_reported_and_later_input_decoded() {
    let err = CodecError::InvalidUtf8 { valid_up_to: 0 };
    let (mut ch, log) = channel(
        Handler::from(ByteToMessageDecoder::new(Bang(err.clone()))),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"a!bc")).unwrap();
    ch.write_inbound(Bytes::from_static(b"d")).unwrap();
    assert!(ch.is_active());
    assert_eq!(
        *log.borrow(),
        [
            frame(b"a"),
            Ev::Err(err),
            frame(b"b"),
            frame(b"c"),
            frame(b"d")
        ]
    );
}

/// With `close_on_exception` off, an unhandled decoder error reaches the tail
/// (write_inbound returns it, like Netty's EmbeddedChannel.checkException) and
/// the channel keeps decoding later input.
#[test]
fn b2m_unhandled_error_without_close_on_exception_keeps_decoding() {
    let mut ch = EmbeddedChannel::with_config(no_close_on_exception());
    ch.pipeline()
        .add_last("lines", Handler::from(LineDecoder::new(4)))
        .unwrap();
    let err = ch
        .write_inbound(Bytes::from_static(b"toolong\nok\n"))
        .unwrap_err();
    assert!(matches!(
        err.downcast_ref::<CodecError>(),
        Some(CodecError::TooLongFrame { .. })
    ));
    assert!(ch.is_active());
    ch.write_inbound(Bytes::from_static(b"next\n")).unwrap();
    let mut got = Vec::new();
    while let Some(frame) = ch.read_inbound::<CompositeBuf>() {
        got.push(frame.to_vec());
    }
    assert_eq!(got, [b"ok".to_vec(), b"next".to_vec()]);
}
