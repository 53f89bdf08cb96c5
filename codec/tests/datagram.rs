//! The per-datagram adapters: one datagram, whole messages; errors stay with
//! their datagram; encoded parts are gathered into one datagram.

use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelConfig, DatagramPacket, Handler, OutboundBuf};
use seine_codec::{
    CodecError, DatagramPacketDecoder, DatagramPacketEncoder, EncodeBuf, Encoder,
    FixedLengthDecoder,
};

fn packet(bytes: &'static [u8], port: u16) -> DatagramPacket {
    DatagramPacket {
        content: Bytes::from_static(bytes),
        sender: Some(([127, 0, 0, 1], port).into()),
        recipient: Some(([127, 0, 0, 1], 53).into()),
    }
}

fn channel(handlers: Vec<(&'static str, Handler)>) -> EmbeddedChannel {
    let config = ChannelConfig {
        close_on_exception: false,
        ..ChannelConfig::default()
    };
    let mut ch = EmbeddedChannel::with_config(config);
    for (name, h) in handlers {
        if ch.pipeline().add_last(name, h).is_err() {
            panic!("handlers fit");
        }
    }
    ch.activate();
    ch
}

#[test]
fn leftover_bytes_are_reported_and_do_not_leak_into_the_next_datagram() {
    let mut ch = channel(vec![(
        "fixed",
        DatagramPacketDecoder::new(
            FixedLengthDecoder::builder()
                .frame_length(4)
                .build()
                .unwrap(),
        )
        .into(),
    )]);
    let err = ch.write_inbound(packet(b"abcdef", 1)).unwrap_err();
    let first: DatagramPacket<CompositeBuf> = ch.read_inbound().unwrap();
    assert_eq!(first.content.to_vec(), b"abcd");
    assert!(
        matches!(
            err.downcast_ref::<CodecError>(),
            Some(CodecError::TruncatedFrame { remaining: 2 })
        ),
        "{err}"
    );
    // "ef" was dropped with its datagram: the next one starts afresh.
    ch.write_inbound(packet(b"wxyz", 2)).unwrap();
    let next: DatagramPacket<CompositeBuf> = ch.read_inbound().unwrap();
    assert_eq!(next.content.to_vec(), b"wxyz");
    assert_eq!(next.sender, Some(([127, 0, 0, 1], 2).into()));
    assert!(ch.take_exception().is_ok());
}

struct Parts;
impl Encoder for Parts {
    type Item = u8;
    fn encode(&mut self, n: u8, dst: &mut EncodeBuf) -> Result<(), CodecError> {
        if n == 0 {
            return Err(CodecError::Encode {
                reason: "zero is not sent".into(),
            });
        }
        dst.put_slice(&[n]);
        dst.push_bytes(Bytes::from(vec![n; 100]));
        Ok(())
    }
}

#[test]
fn encoded_parts_are_one_datagram_and_errors_fail_the_write() {
    let mut ch = channel(vec![("enc", DatagramPacketEncoder::new(Parts).into())]);
    let to = ([127, 0, 0, 1], 9).into();
    let ok = ch.write_outbound(DatagramPacket::new(7u8, to));
    let out: DatagramPacket<OutboundBuf> = ch.read_outbound().unwrap();
    assert_eq!(out.content.len(), 101);
    assert_eq!(out.recipient, Some(to));
    assert!(matches!(ok.result(), Some(Ok(()))));
    let bad = ch.write_outbound(DatagramPacket::new(0u8, to));
    assert!(matches!(bad.result(), Some(Err(_))));
    assert!(ch.read_outbound::<DatagramPacket<OutboundBuf>>().is_none());
}
