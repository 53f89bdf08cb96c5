//! A 16 MiB frame arriving in 64 KiB reads is passed on without copying a payload
//! byte under the Compose and Adaptive cumulations: the fired frame's segments are
//! the reads themselves.

use seine_buffer::{Bytes, CompositeBuf, Cumulation, CumulationStrategy};
use seine_channel::Handler;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::{ByteToMessageDecoder, Decoder, LengthFieldDecoder};

const MIB: usize = 1024 * 1024;
const READ: usize = 64 * 1024;

/// A 4-byte length header and a 16 MiB - 4 payload: exactly 256 reads of 64 KiB.
fn reads() -> Vec<Bytes> {
    let payload_len = 16 * MIB - 4;
    let mut stream = Vec::with_capacity(16 * MIB);
    stream.extend_from_slice(&(payload_len as u32).to_be_bytes());
    stream.extend((0..payload_len).map(|i| (i % 251) as u8));
    stream.chunks(READ).map(Bytes::copy_from_slice).collect()
}

fn decoder() -> LengthFieldDecoder {
    LengthFieldDecoder::builder()
        .max_frame_length(32 * MIB)
        .length_field_offset(0)
        .length_field_length(4)
        .length_adjustment(0)
        .initial_bytes_to_strip(4)
        .build()
        .unwrap()
}

#[test]
fn sixteen_mib_frame_in_64k_reads_is_not_copied() {
    let reads = reads();
    assert_eq!(reads.len(), 256);
    for strategy in [CumulationStrategy::Compose, CumulationStrategy::default()] {
        let mut ch = EmbeddedChannel::with_handlers([(
            "frames",
            Handler::from(ByteToMessageDecoder::with_cumulation(decoder(), strategy)),
        )]);
        for r in &reads {
            ch.write_inbound(r.clone()).unwrap();
        }
        let frame = ch.read_inbound::<CompositeBuf>().unwrap();
        assert_eq!(frame.len(), 16 * MIB - 4);
        assert_eq!(frame.segment_count(), 256, "{strategy:?}");
        // Segment i is read i (the first without the 4-byte header): same memory.
        for (i, (seg, read)) in frame.segments().zip(&reads).enumerate() {
            let start = if i == 0 { 4 } else { 0 };
            assert_eq!(
                seg.as_ptr(),
                read[start..].as_ptr(),
                "segment {i} {strategy:?}"
            );
            assert_eq!(seg.len(), read.len() - start);
        }
        assert!(ch.read_inbound::<CompositeBuf>().is_none());
    }
}

#[test]
fn cumulation_copies_no_payload_byte() {
    let reads = reads();
    for strategy in [CumulationStrategy::Compose, CumulationStrategy::default()] {
        let mut cumulation = Cumulation::new(strategy);
        let mut d = decoder();
        let mut frames = Vec::new();
        for r in &reads {
            cumulation.push(r.clone());
            while let Some(f) = d.decode(cumulation.buf()).unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(cumulation.copied_bytes(), 0, "{strategy:?}");
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].len(), 16 * MIB - 4);
    }
    // Merge, for contrast, copies (nearly) all of it.
    let mut cumulation = Cumulation::new(CumulationStrategy::Merge);
    for r in &reads {
        cumulation.push(r.clone());
    }
    assert!(cumulation.copied_bytes() >= (16 * MIB - READ) as u64);
}
