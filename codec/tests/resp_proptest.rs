//! Property tests: the RESP decoders never panic on arbitrary bytes, and commands
//! survive any split into reads (compared against a plain model: the list of
//! argument vectors).

use proptest::prelude::*;
use seine_buffer::{Bytes, CompositeBuf};
use seine_codec::resp::{RespCommand, RespCommandDecoder, RespValue, RespValueDecoder};
use seine_codec::{Decoder, EncodeBuf, Encoder};

/// Feeds `data` cut at `cuts` into `dec`, collecting items until an error.
fn feed<D: Decoder>(dec: &mut D, data: &[u8], cuts: &[usize]) -> (Vec<D::Item>, bool) {
    let mut buf = CompositeBuf::new();
    let mut out = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.push(0);
    points.push(data.len());
    points.sort_unstable();
    for w in points.windows(2) {
        buf.push(Bytes::copy_from_slice(&data[w[0]..w[1]]));
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(item)) => out.push(item),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    match dec.decode_eof(&mut buf) {
        Ok(Some(item)) => out.push(item),
        Ok(None) => {}
        Err(_) => return (out, true),
    }
    (out, false)
}

fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn command_decoder_never_panics(data in prop::collection::vec(any::<u8>(), 0..256), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
        let mut dec = RespCommandDecoder::builder().max_bulk_length(1 << 16).build().unwrap();
        let _ = feed(&mut dec, &data, &cuts);
    }

    #[test]
    fn command_decoder_never_panics_on_resp_like_bytes(
        data in prop::collection::vec(prop::sample::select(&b"*$:+-\r\n0123456789-aZ "[..]), 0..200),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut dec = RespCommandDecoder::new();
        let _ = feed(&mut dec, &data, &cuts);
        let mut dec = RespValueDecoder::new();
        let _ = feed(&mut dec, &data, &cuts);
    }

    #[test]
    fn value_decoder_never_panics(data in prop::collection::vec(any::<u8>(), 0..256), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
        let mut dec = RespValueDecoder::new();
        let _ = feed(&mut dec, &data, &cuts);
    }

    #[test]
    fn commands_survive_any_split(
        cmds in prop::collection::vec(prop::collection::vec(arg(), 1..8), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut wire = Vec::new();
        for c in &cmds {
            let cmd = RespCommand::from_args(c.iter().cloned().map(Bytes::from));
            wire.extend_from_slice(&cmd.to_value().to_vec());
        }
        let mut dec = RespCommandDecoder::new();
        let (got, failed) = feed(&mut dec, &wire, &cuts);
        prop_assert!(!failed);
        let got: Vec<Vec<Vec<u8>>> = got.iter().map(|c| c.args().iter().map(|a| a.to_vec()).collect()).collect();
        prop_assert_eq!(got, cmds);
    }

    #[test]
    fn values_round_trip(v in value(), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let mut out = EncodeBuf::new();
        seine_codec::resp::RespEncoder.encode(v.clone(), &mut out).unwrap();
        let wire = v.to_vec();
        prop_assert_eq!(out.len(), wire.len());
        let mut dec = RespValueDecoder::new();
        let (got, failed) = feed(&mut dec, &wire, &cuts);
        prop_assert!(!failed);
        prop_assert_eq!(got, vec![v]);
    }
}

fn value() -> impl Strategy<Value = RespValue> {
    let text = "[a-zA-Z0-9 ]{0,20}";
    let leaf = prop_oneof![
        text.prop_map(|s| RespValue::Simple(Bytes::from(s))),
        text.prop_map(|s| RespValue::Error(Bytes::from(s))),
        any::<i64>().prop_map(RespValue::Integer),
        prop::collection::vec(any::<u8>(), 0..100).prop_map(|b| RespValue::Bulk(Bytes::from(b))),
        Just(RespValue::Null),
        Just(RespValue::NullArray),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop::collection::vec(inner, 0..6).prop_map(RespValue::Array)
    })
}
