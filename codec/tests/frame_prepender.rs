//! `LengthFieldPrepender` in an `EmbeddedChannel`: each option, the one-write
//! zero-copy output, length errors, and a decode/encode echo with the decoder.

use std::io::Write as _;

use seine_buffer::{ByteOrder, Bytes, CompositeBuf, FileRegion};
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelHandler, Handler, InboundContext, InboundHandler, OutboundBuf};
use seine_codec::{CodecError, LengthFieldDecoder, LengthFieldPrepender};

const HELLO: &[u8] = b"HELLO, WORLD";

fn encode<M: Into<OutboundBuf> + 'static>(prepender: LengthFieldPrepender<M>, msg: M) -> Vec<u8> {
    let mut ch = EmbeddedChannel::with_handlers([("prepender", Handler::from(prepender))]);
    let done = ch.write_outbound(msg);
    assert!(matches!(done.result(), Some(Ok(()))), "{done:?}");
    assert_eq!(ch.outbound_len(), 1, "one write");
    ch.read_outbound_bytes()
}

#[test]
fn each_option_as_documented() {
    let payload = || CompositeBuf::from(HELLO);
    assert_eq!(
        encode(
            LengthFieldPrepender::builder()
                .length_field_length(2)
                .build()
                .unwrap(),
            payload()
        ),
        [b"\x00\x0c", HELLO].concat()
    );
    assert_eq!(
        encode(
            LengthFieldPrepender::builder()
                .length_field_length(2)
                .length_includes_length_field_length(true)
                .build()
                .unwrap(),
            payload()
        ),
        [b"\x00\x0e", HELLO].concat()
    );
    assert_eq!(
        encode(
            LengthFieldPrepender::builder()
                .length_field_length(3)
                .length_adjustment(2)
                .build()
                .unwrap(),
            payload()
        ),
        [b"\x00\x00\x0e", HELLO].concat()
    );
    assert_eq!(
        encode(
            LengthFieldPrepender::builder()
                .length_field_length(4)
                .byte_order(ByteOrder::LittleEndian)
                .build()
                .unwrap(),
            payload()
        ),
        [b"\x0c\x00\x00\x00", HELLO].concat()
    );
    assert_eq!(
        encode(
            LengthFieldPrepender::builder()
                .length_field_length(1)
                .build()
                .unwrap(),
            payload()
        ),
        [b"\x0c", HELLO].concat()
    );
    assert_eq!(
        encode(
            LengthFieldPrepender::builder()
                .length_field_length(8)
                .build()
                .unwrap(),
            payload()
        ),
        [&12u64.to_be_bytes()[..], HELLO].concat()
    );
    assert_eq!(
        encode(
            LengthFieldPrepender::builder()
                .length_field_length(8)
                .byte_order(ByteOrder::LittleEndian)
                .build()
                .unwrap(),
            payload()
        ),
        [&12u64.to_le_bytes()[..], HELLO].concat()
    );
    assert_eq!(
        encode(
            LengthFieldPrepender::builder()
                .length_field_length(2)
                .build()
                .unwrap(),
            CompositeBuf::new()
        ),
        b"\x00\x00"
    );
}

#[test]
fn header_and_payload_are_segments_of_one_write_without_copy() {
    let a = Bytes::from(vec![1u8; 1000]);
    let b = Bytes::from(vec![2u8; 3000]);
    let payload: CompositeBuf = [a.clone(), b.clone()].into_iter().collect();
    let mut ch = EmbeddedChannel::with_handlers([(
        "prepender",
        Handler::from(
            LengthFieldPrepender::builder()
                .length_field_length(4)
                .build()
                .unwrap(),
        ),
    )]);
    drop(ch.write_outbound(payload));
    let out = ch.read_outbound::<CompositeBuf>().unwrap();
    assert_eq!(ch.outbound_len(), 0);
    assert_eq!(out.segment_count(), 3);
    assert_eq!(&out.segments()[0][..], &4000u32.to_be_bytes());
    assert_eq!(out.segments()[1].as_ptr(), a.as_ptr());
    assert_eq!(out.segments()[2].as_ptr(), b.as_ptr());
}

#[test]
fn accepts_bytes_and_outbound_buf() {
    let payload = Bytes::from(HELLO.to_vec());
    let mut ch = EmbeddedChannel::with_handlers([(
        "prepender",
        Handler::from(
            LengthFieldPrepender::builder()
                .length_field_length(2)
                .build()
                .unwrap()
                .accepting::<Bytes>(),
        ),
    )]);
    drop(ch.write_outbound(payload.clone()));
    let out = ch.read_outbound::<CompositeBuf>().unwrap();
    assert_eq!(out.segments()[1].as_ptr(), payload.as_ptr());
    assert_eq!(out, [b"\x00\x0c", HELLO].concat()[..]);

    let got = encode(
        LengthFieldPrepender::builder()
            .length_field_length(2)
            .build()
            .unwrap()
            .accepting::<OutboundBuf>(),
        OutboundBuf::from(Bytes::from_static(b"abc")),
    );
    assert_eq!(got, b"\x00\x03abc");
}

#[test]
fn a_file_region_gets_its_header_as_a_separate_write() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"file body").unwrap();
    file.flush().unwrap();
    let region = FileRegion::open(file.path()).unwrap();
    let mut ch = EmbeddedChannel::with_handlers([(
        "prepender",
        Handler::from(
            LengthFieldPrepender::builder()
                .length_field_length(2)
                .build()
                .unwrap()
                .accepting::<FileRegion>(),
        ),
    )]);
    let done = ch.write_outbound(region);
    assert!(matches!(done.result(), Some(Ok(()))));
    assert_eq!(ch.outbound_len(), 2);
    assert_eq!(ch.read_outbound_bytes(), b"\x00\x09file body");
}

#[test]
fn a_length_that_does_not_fit_fails_the_write() {
    for (width, len) in [(1usize, 256usize), (2, 65536)] {
        let mut ch = EmbeddedChannel::with_handlers([(
            "prepender",
            Handler::from(
                LengthFieldPrepender::builder()
                    .length_field_length(width)
                    .build()
                    .unwrap(),
            ),
        )]);
        let done = ch.write_outbound(CompositeBuf::from(vec![0u8; len]));
        let err = done.result().unwrap().unwrap_err();
        assert!(
            matches!(err.downcast_ref::<CodecError>(), Some(CodecError::Encode { reason })
                if reason.contains("does not fit")),
            "{err}"
        );
        assert_eq!(ch.outbound_len(), 0, "nothing written");
        // Reported once, to the completion (as Netty fails only the promise): no
        // exception, and the channel stays open for the next write.
        assert!(ch.take_exception().is_ok());
        assert!(ch.is_active());
        let next = ch.write_outbound(CompositeBuf::from(vec![7u8; 3]));
        assert!(matches!(next.result(), Some(Ok(()))));
        assert_eq!(ch.read_outbound_bytes().len(), width + 3);
    }
    // Just fits.
    assert_eq!(
        encode(
            LengthFieldPrepender::builder()
                .length_field_length(1)
                .build()
                .unwrap(),
            CompositeBuf::from(vec![0u8; 255])
        )
        .len(),
        256
    );
    // Negative after adjustment.
    let p = LengthFieldPrepender::builder()
        .length_field_length(2)
        .length_adjustment(-5)
        .build()
        .unwrap();
    assert!(
        matches!(p.length_for(4), Err(CodecError::Encode { reason }) if reason.contains("less than zero"))
    );
    // 3 and 4 byte limits.
    assert!(
        LengthFieldPrepender::builder()
            .length_field_length(3)
            .build()
            .unwrap()
            .length_for((1 << 24) - 1)
            .is_ok()
    );
    assert!(
        LengthFieldPrepender::builder()
            .length_field_length(3)
            .build()
            .unwrap()
            .length_for(1 << 24)
            .is_err()
    );
    assert!(
        LengthFieldPrepender::builder()
            .length_field_length(4)
            .build()
            .unwrap()
            .length_for(u32::MAX as u64)
            .is_ok()
    );
    assert!(
        LengthFieldPrepender::builder()
            .length_field_length(4)
            .build()
            .unwrap()
            .length_for(1 << 32)
            .is_err()
    );
    assert!(
        LengthFieldPrepender::builder()
            .length_field_length(8)
            .build()
            .unwrap()
            .length_for(u64::MAX)
            .is_ok()
    );
    assert!(
        LengthFieldPrepender::builder()
            .length_field_length(8)
            .length_adjustment(1)
            .build()
            .unwrap()
            .length_for(u64::MAX)
            .is_err()
    );
}

/// Echoes every frame it reads.
struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = CompositeBuf;
    type Fire = CompositeBuf;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, CompositeBuf>, msg: CompositeBuf) {
        drop(ctx.write(msg));
    }
}

#[test]
fn echo_server_pipeline_round_trips_frames() {
    let mut ch = EmbeddedChannel::with_handlers([
        (
            "decoder",
            Handler::from(
                LengthFieldDecoder::builder()
                    .max_frame_length(1 << 20)
                    .length_field_offset(0)
                    .length_field_length(4)
                    .length_adjustment(0)
                    .initial_bytes_to_strip(4)
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "prepender",
            Handler::from(
                LengthFieldPrepender::builder()
                    .length_field_length(4)
                    .build()
                    .unwrap(),
            ),
        ),
        ("echo", Handler::inbound(Echo)),
    ]);
    let mut stream = Vec::new();
    for i in 0..50u32 {
        let payload = vec![i as u8; (i * 37) as usize];
        stream.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        stream.extend_from_slice(&payload);
    }
    for read in stream.chunks(333) {
        ch.write_inbound(Bytes::copy_from_slice(read)).unwrap();
    }
    assert_eq!(ch.read_outbound_bytes(), stream);
}
