//! Property tests: frames written by `LengthFieldPrepender` and cut into random
//! reads decode back to the same frames; line and delimiter decoders match a
//! plain model; no decoder panics on arbitrary bytes in arbitrary reads.

mod frame_support;

use frame_support::{Ev, run};
use proptest::prelude::*;
use seine_buffer::{ByteOrder, Bytes, CompositeBuf, CumulationStrategy};
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelConfig, Handler};
use seine_codec::{
    ByteToMessageDecoder, CodecError, Decoder, DelimiterDecoder, FixedLengthDecoder,
    LengthFieldDecoder, LengthFieldPrepender, LineDecoder,
};

/// Cuts `data` at the given (sorted, deduplicated) positions.
fn cut<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut at = 0;
    for p in points {
        out.push(&data[at..p]);
        at = p;
    }
    out.push(&data[at..]);
    out
}

fn strategy_of(n: u8) -> CumulationStrategy {
    match n % 4 {
        0 => CumulationStrategy::Merge,
        1 => CumulationStrategy::Compose,
        2 => CumulationStrategy::default(),
        _ => CumulationStrategy::Adaptive { threshold: 16 },
    }
}

#[derive(Debug, Clone)]
struct Config {
    width: usize,
    order: ByteOrder,
    adjustment: i64,
    includes: bool,
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(vec![1usize, 2, 3, 4, 8]),
        any::<bool>(),
        0i64..16,
        any::<bool>(),
    )
        .prop_map(|(width, le, adjustment, includes)| Config {
            width,
            order: if le {
                ByteOrder::LittleEndian
            } else {
                ByteOrder::BigEndian
            },
            adjustment,
            includes,
        })
}

/// Encodes `frames` with a prepender configured by `c`, through a pipeline.
fn encode(c: &Config, frames: &[Vec<u8>]) -> Vec<u8> {
    let prepender = LengthFieldPrepender::builder()
        .length_field_length(c.width)
        .length_adjustment(c.adjustment)
        .length_includes_length_field_length(c.includes)
        .byte_order(c.order)
        .build()
        .unwrap();
    let mut ch = EmbeddedChannel::with_handlers([("prepender", Handler::from(prepender))]);
    for f in frames {
        let done = ch.write_outbound(CompositeBuf::from(f.clone()));
        assert!(matches!(done.result(), Some(Ok(()))));
    }
    ch.read_outbound_bytes()
}

/// The decoder matching `c`, stripping the header.
fn decoder(c: &Config) -> LengthFieldDecoder {
    let includes = if c.includes { c.width as i64 } else { 0 };
    LengthFieldDecoder::builder()
        .max_frame_length(1 << 20)
        .length_field_length(c.width)
        .length_adjustment(-c.adjustment - includes)
        .initial_bytes_to_strip(c.width)
        .byte_order(c.order)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn prepended_frames_decode_back(
        c in config(),
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        strategy in any::<u8>(),
    ) {
        let stream = encode(&c, &frames);
        let reads = cut(&stream, &cuts);
        let handler = Handler::from(ByteToMessageDecoder::with_cumulation(
            decoder(&c),
            strategy_of(strategy),
        ));
        let got = run(handler, &reads);
        let want: Vec<Ev> = frames.into_iter().map(Ev::Frame).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn lines_match_a_model(
        lines in prop::collection::vec(
            (prop::collection::vec(prop::sample::select(b"ab \r".to_vec()), 0..30), any::<bool>()),
            0..10,
        ),
        tail in prop::collection::vec(prop::sample::select(b"ab \r".to_vec()), 0..5),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        strip in any::<bool>(),
    ) {
        let mut data = Vec::new();
        let mut want = Vec::new();
        for (line, crlf) in &lines {
            data.extend_from_slice(line);
            let ending: &[u8] = if *crlf { b"\r\n" } else { b"\n" };
            data.extend_from_slice(ending);
            // Model: the line ends at the first '\n'; a '\r' right before it is
            // part of the ending.
            let mut whole = line.clone();
            whole.extend_from_slice(ending);
            let body_len = whole.len() - if whole.ends_with(b"\r\n") { 2 } else { 1 };
            want.push(Ev::Frame(if strip { whole[..body_len].to_vec() } else { whole }));
        }
        data.extend_from_slice(&tail);
        let reads = cut(&data, &cuts);
        let got = run(Handler::from(LineDecoder::builder().max_frame_length(1000).strip_delimiter(strip).build().unwrap()), &reads);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn delimited_frames_match_a_model(
        frames in prop::collection::vec(prop::collection::vec(prop::sample::select(b"abc-".to_vec()), 0..20), 0..10),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        // Delimiters "--" and "-x": frames never contain "-x", and "--" only where
        // it is a delimiter if the model splits there too: the model is a plain
        // search for the earliest delimiter.
        let delimiters: [&[u8]; 2] = [b"--", b"-x"];
        let mut data = Vec::new();
        for f in &frames {
            data.extend_from_slice(f);
            data.extend_from_slice(b"-x");
        }
        let mut want = Vec::new();
        let mut rest = &data[..];
        loop {
            let hit = delimiters
                .iter()
                .filter_map(|d| rest.windows(d.len()).position(|w| w == *d).map(|i| (i, d.len())))
                .min_by_key(|&(i, _)| i);
            let Some((i, n)) = hit else { break };
            want.push(Ev::Frame(rest[..i].to_vec()));
            rest = &rest[i + n..];
        }
        let reads = cut(&data, &cuts);
        let got = run(Handler::from(DelimiterDecoder::builder().max_frame_length(1000).delimiters(delimiters).build().unwrap()), &reads);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_input(
        data in prop::collection::vec(any::<u8>(), 0..600),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
        width in prop::sample::select(vec![1usize, 2, 3, 4, 8]),
        offset in 0usize..4,
        adjustment in -20i64..20,
        strip in 0usize..12,
        max in 12usize..64,
        flags in any::<u8>(),
    ) {
        let fail_fast = flags & 1 == 0;
        let order = if flags & 2 == 0 { ByteOrder::BigEndian } else { ByteOrder::LittleEndian };
        let reads = cut(&data, &cuts);
        let handlers: Vec<Handler> = vec![
            Handler::from(ByteToMessageDecoder::with_cumulation(
                LengthFieldDecoder::builder()
                    .max_frame_length(max)
                    .length_field_offset(offset)
                    .length_field_length(width)
                    .length_adjustment(adjustment)
                    .initial_bytes_to_strip(strip)
                    .byte_order(order)
                    .fail_fast(fail_fast)
                    .build().unwrap(),
                strategy_of(flags >> 2),
            )),
            Handler::from(LineDecoder::builder().max_frame_length(max).fail_fast(fail_fast).strip_delimiter(flags & 4 == 0).build().unwrap()),
            Handler::from(DelimiterDecoder::builder().max_frame_length(max).delimiters([&b"\0"[..], b"\r\n", b"ab"]).fail_fast(fail_fast).build().unwrap()),
            Handler::from(FixedLengthDecoder::builder().frame_length(max).build().unwrap()),
        ];
        for (i, handler) in handlers.into_iter().enumerate() {
            let config = ChannelConfig { close_on_exception: i % 2 == 0, ..ChannelConfig::default() };
            let mut ch = EmbeddedChannel::with_config(config);
            ch.pipeline().add_last("decoder", handler).unwrap();
            for r in &reads {
                let _ = ch.write_inbound(Bytes::copy_from_slice(r));
            }
            let _ = ch.close_inbound();
            while ch.take_exception().is_err() {}
            while let Some(frame) = ch.read_inbound::<CompositeBuf>() {
                // No frame exceeds the maximum (plus a delimiter when kept).
                prop_assert!(frame.len() <= max + 2, "decoder {} frame of {}", i, frame.len());
            }
        }
    }

    #[test]
    fn length_field_decoder_direct_never_panics(
        data in prop::collection::vec(any::<u8>(), 0..400),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
        width in prop::sample::select(vec![1usize, 2, 3, 4, 8]),
        adjustment in any::<i64>(),
        strip in any::<u16>(),
        fail_fast in any::<bool>(),
    ) {
        let mut d = LengthFieldDecoder::builder()
            .max_frame_length(300)
            .length_field_length(width)
            .length_adjustment(adjustment)
            .initial_bytes_to_strip(usize::from(strip))
            .fail_fast(fail_fast)
            .build().unwrap();
        let mut src = CompositeBuf::new();
        for r in cut(&data, &cuts) {
            src.push(Bytes::copy_from_slice(r));
            for _ in 0..1000 {
                let before = src.len();
                match d.decode(&mut src) {
                    Ok(Some(f)) => prop_assert!(f.len() <= 300 && src.len() < before),
                    Ok(None) => break,
                    Err(CodecError::CorruptFrame { .. }) => src.clear(),
                    Err(_) => prop_assert!(src.len() < before),
                }
            }
        }
        while let Ok(Some(_)) | Err(CodecError::TooLongFrame { .. }) = d.decode_eof(&mut src) {}
    }
}
