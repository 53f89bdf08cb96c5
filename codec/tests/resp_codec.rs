//! RESP through `EmbeddedChannel`: pipelined commands split at every byte, inline
//! commands, limits and malformed input, and the replies the codec writes.

use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::resp::{RespCodec, RespCommand, RespCommandDecoder, RespValue, RespValueDecoder};
use seine_codec::{CodecError, Decoder};

/// Replies to each command with an array of its arguments as bulk strings.
struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = RespCommand;
    type Fire = RespCommand;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, RespCommand>, cmd: RespCommand) {
        drop(ctx.write(cmd.to_value()));
    }
}

fn channel() -> EmbeddedChannel {
    EmbeddedChannel::with_handlers([
        ("resp", RespCodec::new().into()),
        ("echo", Handler::inbound(Echo)),
    ])
}

fn commands(ch: &mut EmbeddedChannel) -> Vec<RespCommand> {
    std::iter::from_fn(|| ch.read_inbound::<RespCommand>()).collect()
}

const PIPELINE: &[u8] = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nv\r\nal\r\n\
PING\r\n\
*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n\
*0\r\n\
*1\r\n$0\r\n\r\n\
ECHO  a   b\n";

fn expected() -> Vec<RespCommand> {
    vec![
        RespCommand::from_args(["SET", "key", "v\r\nal"]),
        RespCommand::from_args(["PING"]),
        RespCommand::from_args(["GET", "key"]),
        RespCommand::from_args([""]),
        RespCommand::from_args(["ECHO", "a", "b"]),
    ]
}

#[test]
fn pipeline_split_at_every_byte_boundary() {
    for at in 0..=PIPELINE.len() {
        let mut ch = EmbeddedChannel::with_handlers([("resp", RespCodec::new().into())]);
        ch.write_inbound(Bytes::copy_from_slice(&PIPELINE[..at]))
            .unwrap();
        ch.write_inbound(Bytes::copy_from_slice(&PIPELINE[at..]))
            .unwrap();
        assert_eq!(commands(&mut ch), expected(), "split at {at}");
    }
}

#[test]
fn pipeline_one_byte_per_read() {
    let mut ch = EmbeddedChannel::with_handlers([("resp", RespCodec::new().into())]);
    for b in PIPELINE {
        ch.write_inbound(Bytes::copy_from_slice(&[*b])).unwrap();
    }
    assert_eq!(commands(&mut ch), expected());
}

#[test]
fn decoder_on_composites_split_three_ways() {
    // The decoder alone, on composites of three segments (the multi-segment path).
    for a in 0..=PIPELINE.len() {
        for b in (a..=PIPELINE.len()).step_by(3) {
            let mut dec = RespCommandDecoder::new();
            let mut buf = CompositeBuf::new();
            let mut got = Vec::new();
            for piece in [&PIPELINE[..a], &PIPELINE[a..b], &PIPELINE[b..]] {
                buf.push(Bytes::copy_from_slice(piece));
            }
            while let Some(cmd) = dec.decode(&mut buf).unwrap() {
                got.push(cmd);
            }
            assert_eq!(got, expected(), "split at {a}, {b}");
        }
    }
}

#[test]
fn replies_are_written_in_order() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
    ))
    .unwrap();
    assert_eq!(
        ch.read_outbound_bytes(),
        b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"
    );
}

#[test]
fn large_value_arrives_in_many_reads_and_is_echoed_without_copy() {
    let value = vec![b'x'; 1 << 20];
    let mut wire = format!("*2\r\n$4\r\nECHO\r\n${}\r\n", value.len()).into_bytes();
    wire.extend_from_slice(&value);
    wire.extend_from_slice(b"\r\n");
    let mut ch = channel();
    for chunk in wire.chunks(64 * 1024) {
        ch.write_inbound(Bytes::copy_from_slice(chunk)).unwrap();
    }
    let out = ch.read_outbound_bytes();
    let mut dec = RespValueDecoder::new();
    let reply = dec.decode(&mut CompositeBuf::from(out)).unwrap().unwrap();
    assert_eq!(
        reply,
        RespValue::Array(vec![RespValue::bulk("ECHO"), RespValue::bulk(value)])
    );
}

fn protocol_error(input: &[u8]) -> (Vec<u8>, CodecError, bool) {
    let mut ch = channel();
    let err = ch
        .write_inbound(Bytes::copy_from_slice(input))
        .expect_err("a protocol error reaches the tail");
    let err = err
        .downcast_ref::<CodecError>()
        .expect("a CodecError")
        .clone();
    let out = ch.read_outbound_bytes();
    (out, err, ch.is_active())
}

#[test]
fn malformed_input_answers_and_closes() {
    for (input, reply) in [
        (
            &b"*1\r\n$-1\r\n"[..],
            "-ERR Protocol error: invalid bulk length -1",
        ),
        (
            b"SET \"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request",
        ),
        (
            b"*2\r\n$3\r\nGET\r\n:1\r\n",
            "-ERR Protocol error: expected '$'",
        ),
        (
            b"*1\r\n*1\r\n$1\r\nx\r\n",
            "-ERR Protocol error: expected '$'",
        ),
        (b"*1\r\n$abc\r\n", "-ERR Protocol error: a header line"),
        (
            b"*1\r\n$3\r\nfoobar\r\n",
            "-ERR Protocol error: bulk string of 3 bytes",
        ),
    ] {
        let (out, err, active) = protocol_error(input);
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with(reply),
            "{text:?} for {:?}",
            String::from_utf8_lossy(input)
        );
        assert!(text.ends_with("\r\n"));
        assert!(matches!(err, CodecError::CorruptFrame { .. }));
        assert!(!active, "closed after {:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn commands_before_the_error_are_answered_first() {
    let mut ch = channel();
    assert!(
        ch.write_inbound(Bytes::from_static(b"PING\r\n*1\r\n$x\r\n"))
            .is_err()
    );
    let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
    assert!(
        out.starts_with("*1\r\n$4\r\nPING\r\n-ERR Protocol error"),
        "{out:?}"
    );
}

#[test]
fn huge_claimed_bulk_is_refused_without_allocating() {
    let (out, err, active) = protocol_error(b"*2\r\n$3\r\nSET\r\n$4294967296\r\n");
    assert_eq!(
        err,
        CodecError::TooLongFrame {
            length: 4 << 30,
            max: 512 << 20
        }
    );
    assert!(String::from_utf8_lossy(&out).starts_with("-ERR Protocol error: length 4294967296"));
    assert!(!active);
}

#[test]
fn configured_limits() {
    let mut dec = RespCommandDecoder::builder()
        .max_array_length(2)
        .max_bulk_length(3)
        .max_inline_length(10)
        .build()
        .unwrap();
    for (input, length, max) in [
        (&b"*3\r\n"[..], 3, 2),
        (b"*1\r\n$4\r\n", 4, 3),
        (b"0123456789A", 11, 10),
    ] {
        let mut buf = CompositeBuf::from(input);
        assert_eq!(
            dec.decode(&mut buf),
            Err(CodecError::TooLongFrame { length, max }),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    // At the limits, fine.
    let mut buf = CompositeBuf::from(&b"*2\r\n$3\r\nabc\r\n$0\r\n\r\n012345678\r\n"[..]);
    assert_eq!(dec.decode(&mut buf).unwrap().unwrap().len(), 2);
    assert_eq!(dec.decode(&mut buf).unwrap().unwrap().name(), b"012345678");
}

#[test]
fn truncated_command_at_eof() {
    let mut dec = RespCommandDecoder::new();
    let mut buf = CompositeBuf::from(&b"*2\r\n$3\r\nGET\r\n"[..]);
    assert!(dec.decode(&mut buf).unwrap().is_none());
    assert_eq!(
        dec.decode_eof(&mut buf),
        Err(CodecError::TruncatedFrame { remaining: 13 })
    );
    // Through the codec, a client that hangs up mid-command is not answered.
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(b"PING\r\n*2\r\n"))
        .unwrap();
    ch.close_inbound().unwrap();
    assert_eq!(ch.read_outbound_bytes(), b"*1\r\n$4\r\nPING\r\n");
}

#[test]
fn nested_arrays_with_the_value_decoder() {
    let wire = b"*3\r\n*2\r\n:1\r\n*1\r\n$1\r\na\r\n*-1\r\n$-1\r\n";
    let want = RespValue::Array(vec![
        RespValue::Array(vec![
            RespValue::Integer(1),
            RespValue::Array(vec![RespValue::bulk("a")]),
        ]),
        RespValue::NullArray,
        RespValue::Null,
    ]);
    for at in 0..=wire.len() {
        let mut dec = RespValueDecoder::new();
        let mut buf = CompositeBuf::from(Bytes::copy_from_slice(&wire[..at]));
        let first = dec.decode(&mut buf).unwrap();
        buf.push(Bytes::copy_from_slice(&wire[at..]));
        let got = match first {
            Some(v) => v,
            None => dec.decode(&mut buf).unwrap().unwrap(),
        };
        assert_eq!(got, want, "split at {at}");
        assert!(buf.is_empty());
    }
}

#[test]
fn encoder_refuses_crlf_and_fails_the_write() {
    let mut ch = channel();
    let done = ch.write_outbound(RespValue::simple("bad\r\nreply"));
    assert!(matches!(done.result(), Some(Err(_))));
    assert_eq!(ch.outbound_len(), 0);
    let done = ch.write_outbound(RespValue::Integer(1));
    assert!(matches!(done.result(), Some(Ok(()))));
    assert_eq!(ch.read_outbound_bytes(), b":1\r\n");
}

#[test]
fn removing_the_codec_passes_leftover_bytes_on() {
    let mut ch = EmbeddedChannel::with_handlers([("resp", RespCodec::new().into())]);
    ch.write_inbound(Bytes::from_static(b"PING\r\n*1\r\n$4\r\nPI"))
        .unwrap();
    assert_eq!(
        ch.read_inbound::<RespCommand>().unwrap(),
        RespCommand::from_args(["PING"])
    );
    ch.pipeline().remove("resp").unwrap();
    assert_eq!(ch.read_inbound::<Bytes>().unwrap(), "*1\r\n$4\r\nPI");
}

#[test]
fn pipelined_replies_leave_in_one_write_and_every_completion_resolves() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(b"PING\r\nPING\r\nPING\r\n"))
        .unwrap();
    assert_eq!(ch.outbound_len(), 1, "one write for the batch");
    assert_eq!(ch.read_outbound_bytes(), b"*1\r\n$4\r\nPING\r\n".repeat(3));
    // Replies written from outside a read batch: each flushed, each resolved.
    let big = Bytes::from(vec![b'z'; 100]);
    let a = ch.write_outbound(RespValue::Integer(1));
    let b = ch.write_outbound(RespValue::Bulk(big.clone()));
    assert!(matches!(a.result(), Some(Ok(()))), "{a:?}");
    assert!(matches!(b.result(), Some(Ok(()))), "{b:?}");
    assert_eq!(ch.read_outbound::<Bytes>().unwrap(), ":1\r\n");
    let out = ch.read_outbound::<CompositeBuf>().unwrap();
    assert_eq!(
        out.segments()[1].as_ptr(),
        big.as_ptr(),
        "the bulk is not copied"
    );
    assert_eq!(out, [&b"$100\r\n"[..], &big, b"\r\n"].concat()[..]);
}
