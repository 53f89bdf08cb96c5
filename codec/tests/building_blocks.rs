//! The building blocks in an `EmbeddedChannel`: `ByteToMessageDecoder` (events,
//! errors, removal, end of input), `ByteToMessageCodec`, `MessageToByteEncoder`,
//! the message-to-message handlers and the string codecs.

mod frame_support;

use std::cell::RefCell;
use std::rc::Rc;

use seine_buffer::{Buf, Bytes, CompositeBuf, CumulationStrategy};
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{
    ChannelConfig, ChannelHandler, Context, Error, Handler, InboundContext, InboundHandler,
};
use seine_codec::{
    ByteToMessageCodec, ByteToMessageDecoder, CodecError, Decoder, EncodeBuf, Encoder,
    LengthFieldDecoder, LineDecoder, MessageToByteEncoder, MessageToMessageDecoder,
    MessageToMessageEncoder, StringDecoder, StringEncoder,
};

/// Returns a message without consuming anything: a buggy decoder.
struct Stuck;
impl Decoder for Stuck {
    type Item = u8;
    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<u8>, CodecError> {
        Ok(src.get_u8_at(0))
    }
}

#[test]
fn a_decoder_that_makes_no_progress_is_an_error_not_a_busy_loop() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "stuck",
        Handler::from(ByteToMessageDecoder::new(Stuck)),
    )]);
    let err = ch.write_inbound(Bytes::from_static(b"abc")).unwrap_err();
    assert!(
        matches!(err.downcast_ref::<CodecError>(), Some(CodecError::DecoderMadeNoProgress { decoder })
            if decoder.contains("Stuck")),
        "{err}"
    );
    assert_eq!(ch.inbound_len(), 0, "the message was dropped");
    assert!(!ch.is_active());
}

/// Fails without consuming on `!`, otherwise decodes one byte.
struct Picky;
impl Decoder for Picky {
    type Item = u8;
    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<u8>, CodecError> {
        match src.get_u8_at(0) {
            Some(b'!') => Err(CodecError::InvalidUtf8 { valid_up_to: 0 }),
            Some(b) => {
                src.advance(1);
                Ok(Some(b))
            }
            None => Ok(None),
        }
    }
}

#[test]
fn an_error_without_progress_discards_the_cumulation_and_decoding_goes_on() {
    let config = ChannelConfig {
        close_on_exception: false,
        ..ChannelConfig::default()
    };
    let mut ch = EmbeddedChannel::with_config(config);
    ch.pipeline()
        .add_last("picky", Handler::from(ByteToMessageDecoder::new(Picky)))
        .unwrap();
    assert!(ch.write_inbound(Bytes::from_static(b"ab!cd")).is_err());
    assert!(ch.take_exception().is_ok(), "reported once");
    ch.write_inbound(Bytes::from_static(b"ef")).unwrap();
    let got: Vec<u8> = std::iter::from_fn(|| ch.read_inbound::<u8>()).collect();
    assert_eq!(got, b"abef");
    assert!(ch.is_active());
}

/// Removes the decoder after the first message, as a protocol upgrade does.
struct Upgrade {
    seen: Rc<RefCell<Vec<Vec<u8>>>>,
}
impl ChannelHandler for Upgrade {}
impl InboundHandler for Upgrade {
    type Read = CompositeBuf;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: CompositeBuf) {
        self.seen.borrow_mut().push(msg.to_vec());
        if msg == b"UPGRADE"[..] {
            // Remove the decoder, then this handler: raw bytes go to "raw".
            ctx.pipeline()
                .remove("lines")
                .expect("the decoder is in the pipeline");
            ctx.remove_self();
        }
    }
}

/// Collects raw bytes after the upgrade.
struct Raw {
    seen: Rc<RefCell<Vec<u8>>>,
    reads: Rc<RefCell<usize>>,
}
impl ChannelHandler for Raw {}
impl InboundHandler for Raw {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        self.seen.borrow_mut().extend_from_slice(&msg);
        *self.reads.borrow_mut() += 1;
    }
}

#[test]
fn removal_mid_decode_stops_decoding_and_passes_the_rest_on_as_bytes() {
    let lines_seen = Rc::new(RefCell::new(Vec::new()));
    let raw_seen = Rc::new(RefCell::new(Vec::new()));
    let reads = Rc::new(RefCell::new(0));
    let mut ch = EmbeddedChannel::with_handlers([
        (
            "lines",
            Handler::from(ByteToMessageDecoder::with_cumulation(
                LineDecoder::new(64),
                CumulationStrategy::Compose,
            )),
        ),
        (
            "upgrade",
            Handler::inbound(Upgrade {
                seen: lines_seen.clone(),
            }),
        ),
        (
            "raw",
            Handler::inbound(Raw {
                seen: raw_seen.clone(),
                reads: reads.clone(),
            }),
        ),
    ]);
    // Two reads; the upgrade line is in the second, with more lines after it.
    ch.write_inbound_all([
        Bytes::from_static(b"hello\nUPG"),
        Bytes::from_static(b"RADE\nnot a line\nbinary"),
    ])
    .unwrap();
    assert_eq!(
        *lines_seen.borrow(),
        [b"hello".to_vec(), b"UPGRADE".to_vec()]
    );
    assert_eq!(&raw_seen.borrow()[..], b"not a line\nbinary");
    ch.write_inbound(Bytes::from_static(b"!")).unwrap();
    assert_eq!(&raw_seen.borrow()[..], b"not a line\nbinary!");
    assert_eq!(ch.pipeline().names(), ["raw"]);
}

#[test]
fn removing_an_idle_decoder_passes_its_bytes_on() {
    let raw_seen = Rc::new(RefCell::new(Vec::new()));
    let reads = Rc::new(RefCell::new(0));
    let mut ch = EmbeddedChannel::new();
    ch.pipeline()
        .add_last(
            "frames",
            Handler::from(ByteToMessageDecoder::with_cumulation(
                LengthFieldDecoder::builder()
                    .max_frame_length(1 << 20)
                    .length_field_offset(0)
                    .length_field_length(4)
                    .length_adjustment(0)
                    .initial_bytes_to_strip(0)
                    .build()
                    .unwrap(),
                CumulationStrategy::Compose,
            )),
        )
        .unwrap();
    ch.write_inbound(Bytes::from_static(b"\x00\x00\x01\x00abc"))
        .unwrap();
    ch.write_inbound(Bytes::from_static(b"def")).unwrap();
    ch.pipeline()
        .replace(
            "frames",
            "raw",
            Handler::inbound(Raw {
                seen: raw_seen.clone(),
                reads: reads.clone(),
            }),
        )
        .unwrap();
    assert_eq!(&raw_seen.borrow()[..], b"\x00\x00\x01\x00abcdef");
    assert_eq!(*reads.borrow(), 2, "one read per segment, not copied");
}

/// Produces one message at end of input without consuming, to flush its state.
struct Summary {
    bytes: usize,
}
impl Decoder for Summary {
    type Item = String;
    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<String>, CodecError> {
        self.bytes += src.len();
        src.advance(src.len());
        Ok(None)
    }
    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<String>, CodecError> {
        self.decode(src)?;
        let n = std::mem::take(&mut self.bytes);
        Ok((n > 0).then(|| format!("{n} bytes")))
    }
}

#[test]
fn decode_eof_runs_once_at_input_closed_and_inactive() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "summary",
        Handler::from(ByteToMessageDecoder::new(Summary { bytes: 0 })),
    )]);
    ch.write_inbound(Bytes::from_static(b"abc")).unwrap();
    ch.write_inbound(Bytes::from_static(b"de")).unwrap();
    assert_eq!(ch.inbound_len(), 0);
    ch.close_inbound().unwrap();
    assert_eq!(ch.read_inbound::<String>().as_deref(), Some("5 bytes"));
    assert!(!ch.is_active(), "no half-closure: closed after input ended");
    assert_eq!(ch.inbound_len(), 0, "not run again at inactive");

    // Closing without end of input runs it at inactive.
    let mut ch = EmbeddedChannel::with_handlers([(
        "summary",
        Handler::from(ByteToMessageDecoder::new(Summary { bytes: 0 })),
    )]);
    ch.write_inbound(Bytes::from_static(b"xyz")).unwrap();
    ch.close();
    assert_eq!(ch.read_inbound::<String>().as_deref(), Some("3 bytes"));
}

/// Keeps returning messages at end of input: stopped after 64.
struct Chatty;
impl Decoder for Chatty {
    type Item = u8;
    fn decode(&mut self, _src: &mut CompositeBuf) -> Result<Option<u8>, CodecError> {
        Ok(None)
    }
    fn decode_eof(&mut self, _src: &mut CompositeBuf) -> Result<Option<u8>, CodecError> {
        Ok(Some(0))
    }
}

#[test]
fn decode_eof_that_never_ends_is_stopped() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "chatty",
        Handler::from(ByteToMessageDecoder::new(Chatty)),
    )]);
    let err = ch.close_inbound().unwrap_err();
    assert!(matches!(
        err.downcast_ref::<CodecError>(),
        Some(CodecError::DecoderMadeNoProgress { .. })
    ));
    assert_eq!(ch.inbound_len(), 64);
}

/// Closes the channel on the first message.
struct Quit;
impl ChannelHandler for Quit {}
impl InboundHandler for Quit {
    type Read = CompositeBuf;
    type Fire = CompositeBuf;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, CompositeBuf>, msg: CompositeBuf) {
        drop(ctx.write(Bytes::from(msg.to_vec())));
        ctx.close();
    }
}

#[test]
fn decoding_stops_once_the_channel_closed() {
    let mut ch = EmbeddedChannel::with_handlers([
        ("lines", Handler::from(LineDecoder::new(64))),
        ("quit", Handler::inbound(Quit)),
    ]);
    ch.write_inbound(Bytes::from_static(b"a\nb\nc\n")).unwrap();
    assert!(!ch.is_active());
    assert_eq!(
        ch.read_outbound_bytes(),
        b"a",
        "only the first line was handled"
    );
}

/// Counts read requests reaching the head's side.
struct CountReads(Rc<RefCell<usize>>);
impl ChannelHandler for CountReads {}
impl seine_channel::OutboundHandler for CountReads {
    type Write = Bytes;
    type Emit = Bytes;
    fn write(
        &mut self,
        ctx: &mut seine_channel::OutboundContext<'_, Bytes>,
        msg: Bytes,
        promise: seine_channel::Promise,
    ) {
        ctx.write(msg, promise);
    }
    fn read(&mut self, ctx: &mut seine_channel::OutboundContext<'_, Bytes>) {
        *self.0.borrow_mut() += 1;
        ctx.read();
    }
}

#[test]
fn a_partial_frame_asks_for_another_read_when_auto_read_is_off() {
    let count = Rc::new(RefCell::new(0));
    let config = seine_channel::ChannelConfig {
        auto_read: false,
        ..Default::default()
    };
    let mut ch = EmbeddedChannel::with_config(config);
    ch.pipeline()
        .add_last("reads", Handler::outbound(CountReads(count.clone())))
        .unwrap()
        .add_last("lines", Handler::from(LineDecoder::new(64)))
        .unwrap();
    ch.write_inbound(Bytes::from_static(b"abc")).unwrap();
    assert_eq!(
        *count.borrow(),
        1,
        "nothing decoded, bytes wait: read requested"
    );
    ch.write_inbound(Bytes::from_static(b"\n")).unwrap();
    assert_eq!(*count.borrow(), 1, "a frame was decoded: no extra request");
}

/// Takes codec errors and records them.
struct Catch(Rc<RefCell<Vec<CodecError>>>);
impl ChannelHandler for Catch {}
impl InboundHandler for Catch {
    type Read = String;
    type Fire = String;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
        ctx.fire_read(msg);
    }
    fn exception_caught(&mut self, _ctx: &mut InboundContext<'_, String>, error: Error) {
        self.0
            .borrow_mut()
            .push(error.downcast_ref::<CodecError>().unwrap().clone());
    }
}

#[test]
fn string_decoder_and_encoder() {
    let errors = Rc::new(RefCell::new(Vec::new()));
    let mut ch = EmbeddedChannel::with_handlers([
        ("lines", Handler::from(LineDecoder::new(64))),
        ("decoder", Handler::from(StringDecoder::new())),
        ("encoder", Handler::from(StringEncoder::new())),
        ("catch", Handler::inbound(Catch(errors.clone()))),
    ]);
    // Multi-byte characters cut between reads (and so between segments).
    let text = "naïve café ☕\n";
    let (a, b) = text.as_bytes().split_at(8);
    ch.write_inbound_all([Bytes::copy_from_slice(a), Bytes::copy_from_slice(b)])
        .unwrap();
    assert_eq!(
        ch.read_inbound::<String>().as_deref(),
        Some("naïve café ☕")
    );
    ch.write_inbound(Bytes::from_static(b"ok\xc3\x28\nfine\n"))
        .unwrap();
    assert_eq!(
        *errors.borrow(),
        [CodecError::InvalidUtf8 { valid_up_to: 2 }]
    );
    assert_eq!(ch.read_inbound::<String>().as_deref(), Some("fine"));
    assert!(ch.is_active());

    let s = String::from("héllo");
    let ptr = s.as_ptr();
    drop(ch.write_outbound(s));
    let out = ch.read_outbound::<Bytes>().unwrap();
    assert_eq!(out, "héllo".as_bytes());
    assert_eq!(out.as_ptr(), ptr, "the string's buffer, not a copy");
}

/// Writes `n` as decimal digits and a newline, passing large payloads through.
struct Numbers;
impl Encoder for Numbers {
    type Item = (u32, Option<Bytes>);
    fn encode(
        &mut self,
        (n, tail): (u32, Option<Bytes>),
        dst: &mut EncodeBuf,
    ) -> Result<(), CodecError> {
        if n == 13 {
            dst.put_slice(b"partial output, dropped");
            return Err(CodecError::Encode {
                reason: "13 is unlucky".into(),
            });
        }
        dst.put_slice(n.to_string().as_bytes());
        if let Some(t) = tail {
            dst.push_bytes(t);
        }
        dst.put_slice(b"\n");
        Ok(())
    }
}

#[test]
fn message_to_byte_encoder_parts_promises_and_errors() {
    let config = ChannelConfig {
        close_on_exception: false,
        ..ChannelConfig::default()
    };
    let mut ch = EmbeddedChannel::with_config(config);
    ch.pipeline()
        .add_last("numbers", Handler::from(MessageToByteEncoder::new(Numbers)))
        .unwrap();
    let done = ch.write_outbound((42u32, None::<Bytes>));
    assert!(matches!(done.result(), Some(Ok(()))));
    assert_eq!(ch.read_outbound::<Bytes>().unwrap(), "42\n");

    // A large payload is not copied: header, payload, newline as one composite.
    let big = Bytes::from(vec![b'x'; 4096]);
    let done = ch.write_outbound((7u32, Some(big.clone())));
    assert!(matches!(done.result(), Some(Ok(()))));
    let out = ch.read_outbound::<CompositeBuf>().unwrap();
    assert_eq!(out.segment_count(), 3);
    assert_eq!(out.segments()[1].as_ptr(), big.as_ptr());

    // An error fails the write's completion (and only that, as in Netty) and
    // writes nothing.
    let done = ch.write_outbound((13u32, None::<Bytes>));
    let err = done.result().unwrap().unwrap_err();
    assert!(matches!(
        err.downcast_ref::<CodecError>(),
        Some(CodecError::Encode { .. })
    ));
    assert!(ch.take_exception().is_ok());
    assert_eq!(ch.outbound_len(), 0);
    // A void write's error has no completion to go to: it is fired as an exception.
    struct VoidWriter;
    impl ChannelHandler for VoidWriter {}
    impl InboundHandler for VoidWriter {
        type Read = u32;
        type Fire = u32;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, u32>, n: u32) {
            ctx.write_void((n, None::<Bytes>));
        }
    }
    ch.pipeline()
        .add_last("void", Handler::inbound(VoidWriter))
        .unwrap();
    let err = ch.write_inbound(13u32).unwrap_err();
    assert!(matches!(
        err.downcast_ref::<CodecError>(),
        Some(CodecError::Encode { .. })
    ));
    assert_eq!(ch.outbound_len(), 0);
    // The next message is fine (the partial output was dropped).
    drop(ch.write_outbound((1u32, None::<Bytes>)));
    assert_eq!(ch.read_outbound_bytes(), b"1\n");
}

#[test]
fn many_small_messages_share_scratch_blocks() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "numbers",
        Handler::from(MessageToByteEncoder::new(Numbers)),
    )]);
    let mut want = Vec::new();
    for i in 0..2000u32 {
        drop(ch.write_outbound_unflushed((i + 100, None::<Bytes>)));
        want.extend_from_slice(format!("{}\n", i + 100).as_bytes());
    }
    ch.flush();
    assert_eq!(ch.read_outbound_bytes(), want);
}

/// A decoder of `u16` and an encoder of `u16`, for the duplex codec.
struct U16s;
impl Decoder for U16s {
    type Item = u16;
    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<u16>, CodecError> {
        let Some(n) = src.get_u16_at(0) else {
            return Ok(None);
        };
        src.advance(2);
        Ok(Some(n))
    }
}
impl Encoder for U16s {
    type Item = u16;
    fn encode(&mut self, n: u16, dst: &mut EncodeBuf) -> Result<(), CodecError> {
        dst.put_slice(&n.to_be_bytes());
        Ok(())
    }
}

/// Answers each number with its double.
struct Double;
impl ChannelHandler for Double {}
impl InboundHandler for Double {
    type Read = u16;
    type Fire = u16;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, u16>, n: u16) {
        drop(ctx.write(n.wrapping_mul(2)));
    }
}

#[test]
fn duplex_codec_decodes_and_encodes_in_one_slot() {
    let mut ch = EmbeddedChannel::with_handlers([
        ("codec", Handler::from(ByteToMessageCodec::new(U16s, U16s))),
        ("double", Handler::inbound(Double)),
    ]);
    ch.write_inbound_all([Bytes::from_static(&[0, 1, 0]), Bytes::from_static(&[21, 1])])
        .unwrap();
    assert_eq!(ch.read_outbound_bytes(), [0, 2, 0, 42]);
    ch.write_inbound(Bytes::from_static(&[0])).unwrap();
    assert_eq!(ch.read_outbound_bytes(), [2, 0]);
    assert_eq!(ch.pipeline().names(), ["codec", "double"]);
}

#[test]
fn message_to_message_encoder_splits_and_filters() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "split",
        Handler::from(MessageToMessageEncoder::from_fn(
            |s: String, out: &mut Vec<Bytes>| {
                out.extend(
                    s.split(',')
                        .filter(|p| !p.is_empty())
                        .map(|p| Bytes::from(p.to_owned())),
                );
                Ok(())
            },
        )),
    )]);
    let done = ch.write_outbound(String::from("a,b,c"));
    assert!(matches!(done.result(), Some(Ok(()))));
    assert_eq!(ch.outbound_len(), 3);
    assert_eq!(ch.read_outbound_bytes(), b"abc");
    let done = ch.write_outbound(String::from(",,"));
    assert!(
        matches!(done.result(), Some(Ok(()))),
        "nothing to write: done"
    );
    assert_eq!(ch.outbound_len(), 0);
}

#[test]
fn message_to_message_decoder_fans_out() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "words",
        Handler::from(MessageToMessageDecoder::from_fn(
            |s: String, out: &mut Vec<String>| {
                out.extend(s.split_whitespace().map(str::to_owned));
                Ok(())
            },
        )),
    )]);
    ch.write_inbound(String::from("one two  three")).unwrap();
    let got: Vec<String> = std::iter::from_fn(|| ch.read_inbound::<String>()).collect();
    assert_eq!(got, ["one", "two", "three"]);
}

#[test]
fn handler_removed_with_nothing_accumulated_fires_nothing() {
    struct Noisy(Rc<RefCell<usize>>);
    impl ChannelHandler for Noisy {
        fn handler_added(&mut self, _ctx: &mut Context<'_>) {}
    }
    impl InboundHandler for Noisy {
        type Read = CompositeBuf;
        type Fire = CompositeBuf;
        fn channel_read(
            &mut self,
            _ctx: &mut InboundContext<'_, CompositeBuf>,
            _msg: CompositeBuf,
        ) {
            *self.0.borrow_mut() += 1;
        }
        fn channel_read_complete(&mut self, _ctx: &mut InboundContext<'_, CompositeBuf>) {
            *self.0.borrow_mut() += 100;
        }
    }
    let count = Rc::new(RefCell::new(0));
    let mut ch = EmbeddedChannel::with_handlers([
        ("lines", Handler::from(LineDecoder::new(8))),
        ("noisy", Handler::inbound(Noisy(count.clone()))),
    ]);
    ch.pipeline().remove("lines").unwrap();
    assert_eq!(*count.borrow(), 0);
}

#[test]
fn with_auto_read_on_a_partial_frame_requests_nothing() {
    let count = Rc::new(RefCell::new(0));
    let mut ch = EmbeddedChannel::with_handlers([
        ("reads", Handler::outbound(CountReads(count.clone()))),
        ("lines", Handler::from(LineDecoder::new(64))),
    ]);
    ch.write_inbound(Bytes::from_static(b"abc")).unwrap();
    assert_eq!(*count.borrow(), 0);
}
