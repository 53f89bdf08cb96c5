//! Shared by the fuzz targets: cut the input into reads and drive a decoder the way
//! `ByteToMessageDecoder` does, checking its contract.

use seine_buffer::{Bytes, CompositeBuf, Cumulation, CumulationStrategy};
use seine_codec::{CodecError, Decoder};

/// Splits `data` into a configuration prefix of `n` bytes and the stream.
pub fn split_config<const N: usize>(data: &[u8]) -> Option<([u8; N], &[u8])> {
    let config: [u8; N] = data.get(..N)?.try_into().ok()?;
    Some((config, &data[N..]))
}

/// Feeds `stream` in reads whose sizes come from `cut` (cycled), decoding after
/// each read; returns the frames. Checks that every `Some` consumed input, that
/// errors other than a too-long frame being skipped leave the decoder usable, and
/// that no frame is longer than `max`.
pub fn drive<D: Decoder<Item = CompositeBuf>>(
    mut decoder: D,
    stream: &[u8],
    cut: u8,
    strategy: u8,
    max: usize,
) -> usize {
    let mut cumulation = cumulation_for(strategy);
    let mut frames = 0;
    let step = usize::from(cut % 64) + 1;
    for read in stream.chunks(step) {
        cumulation.push(Bytes::copy_from_slice(read));
        loop {
            let before = cumulation.len();
            match decoder.decode(cumulation.buf()) {
                Ok(Some(frame)) => {
                    assert!(cumulation.len() < before, "Some without consuming input");
                    assert!(frame.len() <= max, "frame of {} > {max}", frame.len());
                    frames += 1;
                }
                Ok(None) => break,
                Err(CodecError::CorruptFrame { .. }) => cumulation.clear(),
                Err(e) => assert!(cumulation.len() < before, "error without progress: {e}"),
            }
            if cumulation.is_empty() {
                break;
            }
        }
    }
    for _ in 0..1_000_000 {
        let before = cumulation.len();
        match decoder.decode_eof(cumulation.buf()) {
            Ok(Some(frame)) => {
                assert!(frame.len() <= max);
                frames += 1;
            }
            Ok(None) => return frames,
            Err(_) => assert!(cumulation.len() < before || cumulation.is_empty()),
        }
        if cumulation.is_empty() {
            // One more call must end it.
            assert!(matches!(
                decoder.decode_eof(cumulation.buf()),
                Ok(None) | Err(_)
            ));
            return frames;
        }
    }
    panic!("decode_eof never returned None");
}

/// A cumulation with the strategy the input byte `strategy` picks.
pub fn cumulation_for(strategy: u8) -> Cumulation {
    Cumulation::new(match strategy % 3 {
        0 => CumulationStrategy::Merge,
        1 => CumulationStrategy::Compose,
        _ => CumulationStrategy::Adaptive { threshold: 8 },
    })
}

/// Feeds `stream` as [`drive`] does to a protocol decoder, whose connection is
/// closed at its first error (as `HttpServerCodec` and `RespCodec` do): checks
/// that every message consumed input and passes `check`, and that end of input
/// terminates. Returns the number of messages.
pub fn drive_protocol<D: Decoder>(
    mut decoder: D,
    stream: &[u8],
    cut: u8,
    strategy: u8,
    mut check: impl FnMut(&D::Item),
) -> usize {
    let mut cumulation = cumulation_for(strategy);
    let mut messages = 0;
    let step = usize::from(cut % 64) + 1;
    for read in stream.chunks(step) {
        cumulation.push(Bytes::copy_from_slice(read));
        loop {
            let before = cumulation.len();
            match decoder.decode(cumulation.buf()) {
                Ok(Some(item)) => {
                    assert!(cumulation.len() < before, "Some without consuming input");
                    check(&item);
                    messages += 1;
                }
                Ok(None) if cumulation.len() < before => {}
                Ok(None) => break,
                Err(_) => return messages, // the connection closes
            }
            if cumulation.is_empty() {
                break;
            }
        }
    }
    for _ in 0..1_000_000 {
        match decoder.decode_eof(cumulation.buf()) {
            Ok(Some(item)) => {
                check(&item);
                messages += 1;
            }
            Ok(None) | Err(_) => return messages,
        }
    }
    panic!("decode_eof never returned None");
}
