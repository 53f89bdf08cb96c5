//! `CompositeBuf` holds its first two segments inline, as its docs say (not four,
//! as they once said): the value is wide enough for two `Bytes` handles and too
//! narrow for three, so a third segment lives on the heap.

use std::mem::size_of;

use seine_buffer::{Bytes, CompositeBuf};

#[test]
fn room_for_two_segments_inline_not_three() {
    let bytes = size_of::<Bytes>();
    let composite = size_of::<CompositeBuf>();
    assert!(
        composite >= 2 * bytes,
        "{composite} bytes cannot hold two segments"
    );
    assert!(
        composite < 3 * bytes,
        "{composite} bytes would hold three segments"
    );
    // Two, three and many segments behave alike (only where they live differs).
    let mut buf = CompositeBuf::new();
    for part in [&b"ab"[..], b"cd", b"ef", b"gh"] {
        buf.push(Bytes::from_static(part));
    }
    assert_eq!(buf.segment_count(), 4);
    assert_eq!(buf.to_vec(), b"abcdefgh");
}
