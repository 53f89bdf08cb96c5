//! Property test: `CompositeBuf` against a plain `Vec<u8>` model, over random
//! segmentations and random sequences of operations.

use std::io::IoSlice;

use proptest::prelude::*;
use seine_buffer::{Buf, ByteOrder, Bytes, CompositeBuf};

/// Splits `data` at the given cut points into a composite (one segment per piece).
fn segmented(data: &[u8], cuts: &[usize]) -> CompositeBuf {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();
    let mut buf = CompositeBuf::new();
    let mut prev = 0;
    for c in cuts.into_iter().chain([data.len()]) {
        buf.push(Bytes::copy_from_slice(&data[prev..c]));
        prev = c;
    }
    buf
}

fn model_uint(model: &[u8], index: usize, width: usize, order: ByteOrder) -> Option<u64> {
    if !(1..=8).contains(&width) {
        return None;
    }
    let field = model.get(index..index.checked_add(width)?)?;
    let mut v = 0u64;
    match order {
        ByteOrder::BigEndian => field.iter().for_each(|&b| v = (v << 8) | u64::from(b)),
        ByteOrder::LittleEndian => field
            .iter()
            .rev()
            .for_each(|&b| v = (v << 8) | u64::from(b)),
    }
    Some(v)
}

fn model_find(model: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > model.len() {
        return None;
    }
    if needle.is_empty() {
        return Some(from);
    }
    model[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[derive(Debug, Clone)]
enum Op {
    Push(Vec<u8>, Vec<usize>),
    Prepend(Vec<u8>),
    Advance(usize),
    SplitTo(usize, bool),
    SplitOff(usize, bool),
    Slice(usize, usize),
    GetAt(usize, usize, bool),
    FindByte(u8, usize),
    FindSliceFromData(usize, usize, usize),
    FindSliceRandom(Vec<u8>, usize),
    CopyToBytes(usize),
    Vectored(usize),
    Consolidate,
    Truncate(usize),
    PopFront,
    Resegment(Vec<usize>),
}

fn op() -> impl Strategy<Value = Op> {
    let bytes = || prop::collection::vec(0u8..4, 0..40);
    let idx = || 0usize..300;
    prop_oneof![
        (bytes(), prop::collection::vec(0usize..64, 0..4)).prop_map(|(d, c)| Op::Push(d, c)),
        bytes().prop_map(Op::Prepend),
        idx().prop_map(Op::Advance),
        (idx(), any::<bool>()).prop_map(|(n, keep)| Op::SplitTo(n, keep)),
        (idx(), any::<bool>()).prop_map(|(n, keep)| Op::SplitOff(n, keep)),
        (idx(), idx()).prop_map(|(a, b)| Op::Slice(a, b)),
        (idx(), 0usize..10, any::<bool>()).prop_map(|(i, w, le)| Op::GetAt(i, w, le)),
        (0u8..5, idx()).prop_map(|(b, f)| Op::FindByte(b, f)),
        (idx(), 0usize..12, idx()).prop_map(|(s, l, f)| Op::FindSliceFromData(s, l, f)),
        (prop::collection::vec(0u8..4, 0..6), idx()).prop_map(|(n, f)| Op::FindSliceRandom(n, f)),
        idx().prop_map(Op::CopyToBytes),
        (1usize..20).prop_map(Op::Vectored),
        Just(Op::Consolidate),
        idx().prop_map(Op::Truncate),
        Just(Op::PopFront),
        prop::collection::vec(0usize..300, 0..8).prop_map(Op::Resegment),
    ]
}

/// Index in `0..=len + 1` (sometimes one past the end, to test bounds).
fn pick(n: usize, len: usize) -> usize {
    n % (len + 2)
}

fn check_reads(buf: &CompositeBuf, model: &[u8], i: usize) {
    let get = |w: usize| model.get(i..i.checked_add(w)?);
    assert_eq!(buf.get_u8_at(i), model.get(i).copied());
    assert_eq!(
        buf.get_u16_at(i),
        get(2).map(|b| u16::from_be_bytes(b.try_into().unwrap()))
    );
    assert_eq!(
        buf.get_u16_le_at(i),
        get(2).map(|b| u16::from_le_bytes(b.try_into().unwrap()))
    );
    assert_eq!(
        buf.get_u32_at(i),
        get(4).map(|b| u32::from_be_bytes(b.try_into().unwrap()))
    );
    assert_eq!(
        buf.get_u32_le_at(i),
        get(4).map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    );
    assert_eq!(
        buf.get_u64_at(i),
        get(8).map(|b| u64::from_be_bytes(b.try_into().unwrap()))
    );
    assert_eq!(
        buf.get_u64_le_at(i),
        get(8).map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    );
}

fn apply(buf: &mut CompositeBuf, model: &mut Vec<u8>, op: Op) {
    let len = model.len();
    match op {
        Op::Push(data, cuts) => {
            let other = segmented(&data, &cuts);
            for seg in other.segments() {
                buf.push(seg.clone());
            }
            model.extend_from_slice(&data);
        }
        Op::Prepend(data) => {
            buf.prepend(Bytes::from(data.clone()));
            model.splice(0..0, data);
        }
        Op::Advance(n) => {
            let n = n % (len + 1);
            buf.advance(n);
            model.drain(..n);
        }
        Op::SplitTo(n, keep_head) => {
            let n = pick(n, len);
            if n > len {
                assert!(buf.try_split_to(n).is_none());
                return;
            }
            let head = buf.split_to(n);
            let mhead: Vec<u8> = model.drain(..n).collect();
            assert_eq!(head, mhead);
            if keep_head {
                *buf = head;
                *model = mhead;
            }
        }
        Op::SplitOff(n, keep_tail) => {
            let n = pick(n, len);
            if n > len {
                assert!(buf.try_split_off(n).is_none());
                return;
            }
            let tail = buf.split_off(n);
            let mtail = model.split_off(n);
            assert_eq!(tail, mtail);
            if keep_tail {
                *buf = tail;
                *model = mtail;
            }
        }
        Op::Slice(a, b) => {
            let (a, b) = (pick(a, len), pick(b, len));
            if a <= b && b <= len {
                let s = buf.slice(a..b);
                assert_eq!(s, model[a..b]);
                // Shares memory: every segment of the slice points into a segment of buf.
                for seg in s.segments() {
                    let p = seg.as_ptr().addr();
                    assert!(buf.segments().any(|o| {
                        let start = o.as_ptr().addr();
                        p >= start && p + seg.len() <= start + o.len()
                    }));
                }
            } else {
                assert!(buf.try_slice(a..b).is_none());
            }
        }
        Op::GetAt(i, width, le) => {
            let i = pick(i, len);
            let order = if le {
                ByteOrder::LittleEndian
            } else {
                ByteOrder::BigEndian
            };
            assert_eq!(
                buf.get_uint_at(i, width, order),
                model_uint(model, i, width, order)
            );
            check_reads(buf, model, i);
        }
        Op::FindByte(b, from) => {
            let from = pick(from, len);
            let want = model
                .get(from..)
                .and_then(|s| s.iter().position(|&x| x == b))
                .map(|p| p + from);
            assert_eq!(buf.find_byte(b, from), want);
        }
        Op::FindSliceFromData(start, l, from) => {
            let start = start % (len + 1);
            let end = (start + l).min(len);
            let needle = model[start..end].to_vec();
            let from = pick(from, len);
            assert_eq!(
                buf.find_slice(&needle, from),
                model_find(model, &needle, from)
            );
            if from <= start {
                assert!(buf.find_slice(&needle, from).unwrap() <= start);
            }
        }
        Op::FindSliceRandom(needle, from) => {
            let from = pick(from, len);
            assert_eq!(
                buf.find_slice(&needle, from),
                model_find(model, &needle, from)
            );
        }
        Op::CopyToBytes(n) => {
            let n = n % (len + 1);
            let first_len = buf.chunk().len();
            let first_ptr = buf.chunk().as_ptr();
            let b = buf.copy_to_bytes(n);
            let mb: Vec<u8> = model.drain(..n).collect();
            assert_eq!(&b[..], &mb[..]);
            if n > 0 && n <= first_len {
                assert_eq!(b.as_ptr(), first_ptr, "zero-copy inside the first segment");
            }
        }
        Op::Vectored(slots) => {
            let mut dst = vec![IoSlice::new(&[]); slots];
            let n = buf.chunks_vectored(&mut dst);
            assert_eq!(n, buf.segment_count().min(slots));
            let joined: Vec<u8> = dst[..n].iter().flat_map(|s| s.iter().copied()).collect();
            if n == buf.segment_count() {
                assert_eq!(joined, *model);
            } else {
                assert_eq!(joined[..], model[..joined.len()]);
            }
        }
        Op::Consolidate => {
            buf.consolidate();
            assert!(buf.segment_count() <= 1);
        }
        Op::Truncate(n) => {
            let n = pick(n, len);
            buf.truncate(n);
            model.truncate(n);
        }
        Op::PopFront => {
            if let Some(seg) = buf.pop_front() {
                assert!(!seg.is_empty());
                let m: Vec<u8> = model.drain(..seg.len()).collect();
                assert_eq!(&seg[..], &m[..]);
            } else {
                assert!(model.is_empty());
            }
        }
        Op::Resegment(cuts) => {
            let other = segmented(model, &cuts);
            assert_eq!(*buf, other);
            assert_eq!(other, *buf);
            *buf = other;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn composite_matches_vec_model(
        data in prop::collection::vec(0u8..4, 0..120),
        cuts in prop::collection::vec(0usize..200, 0..10),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut buf = segmented(&data, &cuts);
        let mut model = data;
        for op in ops {
            apply(&mut buf, &mut model, op);
            prop_assert_eq!(buf.len(), model.len());
            prop_assert_eq!(buf.remaining(), model.len());
            prop_assert_eq!(buf.is_empty(), model.is_empty());
            prop_assert!(buf.segments().all(|s| !s.is_empty()));
            prop_assert_eq!(&buf, &model);
            prop_assert_eq!(buf.to_vec(), model.clone());
            prop_assert_eq!(buf.chunk(), buf.segments().next().map_or(&[][..], |s| &s[..]));
        }
        // Every read position, once more, at the end.
        for i in 0..=model.len() + 1 {
            check_reads(&buf, &model, i);
        }
        let bytes = buf.clone().into_bytes();
        prop_assert_eq!(&bytes[..], &model[..]);
        prop_assert_eq!(&buf.to_bytes()[..], &model[..]);
    }

    #[test]
    fn find_slice_needles_split_across_segments(
        prefix in prop::collection::vec(0u8..3, 0..30),
        needle in prop::collection::vec(0u8..3, 1..8),
        suffix in prop::collection::vec(0u8..3, 0..30),
        cuts in prop::collection::vec(0usize..80, 0..12),
        from in 0usize..70,
    ) {
        let data = [&prefix[..], &needle[..], &suffix[..]].concat();
        let buf = segmented(&data, &cuts);
        let from = from % (data.len() + 2);
        prop_assert_eq!(buf.find_slice(&needle, from), model_find(&data, &needle, from));
        prop_assert!(buf.find_slice(&needle, 0).unwrap() <= prefix.len());
    }
}
