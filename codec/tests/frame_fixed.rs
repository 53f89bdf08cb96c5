//! `FixedLengthDecoder` in an `EmbeddedChannel` (Netty's
//! `FixedLengthFrameDecoderTest`).

mod frame_support;

use frame_support::{Ev, assert_every_split, channel, frame};
use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::Handler;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::{CodecError, FixedLengthDecoder};

#[test]
fn frames_at_every_split() {
    assert_every_split(
        || {
            Handler::from(
                FixedLengthDecoder::builder()
                    .frame_length(3)
                    .build()
                    .unwrap(),
            )
        },
        b"ABCDEFGHI",
        &[frame(b"ABC"), frame(b"DEF"), frame(b"GHI")],
    );
}

/// Netty's testFragmentedDecode.
#[test]
fn fragmented() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "f",
        Handler::from(
            FixedLengthDecoder::builder()
                .frame_length(3)
                .build()
                .unwrap(),
        ),
    )]);
    ch.write_inbound(Bytes::from_static(b"A")).unwrap();
    assert_eq!(ch.inbound_len(), 0);
    ch.write_inbound(Bytes::from_static(b"B")).unwrap();
    assert_eq!(ch.inbound_len(), 0);
    ch.write_inbound(Bytes::from_static(b"C")).unwrap();
    assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), b"ABC"[..]);
}

#[test]
fn partial_frame_at_end_of_input_is_truncated() {
    let (mut ch, log) = channel(
        Handler::from(
            FixedLengthDecoder::builder()
                .frame_length(4)
                .build()
                .unwrap(),
        ),
        true,
    );
    ch.write_inbound(Bytes::from_static(b"abcdef")).unwrap();
    ch.close_inbound().unwrap();
    assert_eq!(
        *log.borrow(),
        [
            frame(b"abcd"),
            Ev::Err(CodecError::TruncatedFrame { remaining: 2 })
        ]
    );
}
