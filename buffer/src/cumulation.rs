//! What a decoder accumulates between reads: [`Cumulation`] and its
//! [`CumulationStrategy`].
//!
//! Netty's `ByteToMessageDecoder` keeps a *cumulation* buffer: every read is added to
//! it, the decoder cuts as many frames as it can off the front, and the rest waits for
//! the next read. How reads are added decides how many bytes get copied:
//!
//! ```text
//! Merge:     [frame|fra] + [me|frame|f]  ->  [frame|frame|frame|f]     one buffer, every read copied
//! Compose:   [frame|fra] + [me|frame|f]  ->  [frame|fra][me|frame|f]   segments, nothing copied
//! Adaptive:  a read onto nothing adopted, other small reads merged into a buffer of
//!            their own, large reads composed; a small leftover copied out (settle)
//! ```

use bytes::{Bytes, BytesMut};

use crate::CompositeBuf;

/// Default [`CumulationStrategy::Adaptive`] threshold: reads of at least this many
/// bytes (1 KiB) are composed without copying, smaller reads are copied.
pub const DEFAULT_MERGE_THRESHOLD: usize = 1024;

/// Largest spare room an adaptive merge buffer is allocated with.
const MAX_MERGE_CAPACITY: usize = 64 * 1024;

/// How a [`Cumulation`] adds each read to what it holds.
///
/// The default is `Adaptive { threshold: DEFAULT_MERGE_THRESHOLD }`. Choosing is
/// free (a `Copy` value); what each strategy costs per read is documented on its
/// variant.
///
/// # Examples
///
/// ```
/// use seine_buffer::{CumulationStrategy, DEFAULT_MERGE_THRESHOLD};
///
/// assert_eq!(
///     CumulationStrategy::default(),
///     CumulationStrategy::Adaptive { threshold: DEFAULT_MERGE_THRESHOLD }
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CumulationStrategy {
    /// Copy every read into one contiguous buffer (Netty's `MERGE_CUMULATOR`).
    ///
    /// Best for small frames: the decoder always sees one segment, so every field
    /// read takes the fast path. Costs one copy of each read, except a read that
    /// arrives while nothing is accumulated, which is adopted as is (as Netty does).
    /// The buffer is reused without copying when it is uniquely owned (all frames cut
    /// from it were dropped); when it is still shared, the leftover bytes are copied
    /// into a new buffer, and growing the buffer may move (copy) its content. All of
    /// this is counted in [`Cumulation::copied_bytes`].
    Merge,
    /// Append every read as a segment (Netty's `COMPOSITE_CUMULATOR`, without the
    /// 16-component consolidation). Never copies. Best for large frames; small reads
    /// make many small segments, so fields straddle borders more often.
    Compose,
    /// Compose reads of `threshold` bytes or more without copying; copy reads smaller
    /// than that into a merge buffer (so small reads do not pile up as tiny
    /// segments), except a read that arrives while nothing is accumulated, which is
    /// adopted as is: the usual request/response read holds whole messages and is
    /// never copied. A merge buffer is only extended in place when it is uniquely
    /// owned and has room, otherwise a new one is started. After decoding, the
    /// driver calls [`Cumulation::settle`]: a leftover smaller than `threshold` that
    /// still points into a received buffer is copied into one of its own, so a
    /// peer that stops mid-message pins a few bytes, not a receive buffer.
    Adaptive {
        /// Reads of at least this many bytes are composed; smaller ones are copied.
        threshold: usize,
    },
}

impl Default for CumulationStrategy {
    fn default() -> Self {
        CumulationStrategy::Adaptive {
            threshold: DEFAULT_MERGE_THRESHOLD,
        }
    }
}

/// The bytes a decoder has received but not yet decoded.
///
/// Push each read with [`push`](Self::push); decode from [`buf`](Self::buf) with
/// [`CompositeBuf::get_uint_at`], [`CompositeBuf::find_slice`] and
/// [`CompositeBuf::split_to`] (which share memory, so cutting a frame never copies).
/// What `push` copies depends on the [`CumulationStrategy`]; the running total is
/// [`copied_bytes`](Self::copied_bytes).
///
/// # Examples
///
/// A length-prefixed decoder loop (1-byte length, then the payload):
///
/// ```
/// use seine_buffer::{Bytes, Cumulation, CumulationStrategy};
///
/// let mut cumulation = Cumulation::new(CumulationStrategy::Compose);
/// let mut frames = Vec::new();
/// for read in [&b"\x03ab"[..], &b"c\x02x"[..], &b"y"[..]] {
///     cumulation.push(Bytes::copy_from_slice(read));
///     let buf = cumulation.buf();
///     while let Some(len) = buf.get_u8_at(0) {
///         if buf.len() < 1 + len as usize {
///             break;
///         }
///         let mut frame = buf.split_to(1 + len as usize);
///         bytes::Buf::advance(&mut frame, 1);
///         frames.push(frame.to_vec());
///     }
/// }
/// assert_eq!(frames, [b"abc".to_vec(), b"xy".to_vec()]);
/// assert_eq!(cumulation.copied_bytes(), 0);
/// assert!(cumulation.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct Cumulation {
    strategy: CumulationStrategy,
    buf: CompositeBuf,
    /// Address one past the last byte of the merge buffer this cumulation last
    /// wrote (Adaptive): the last segment is extended in place only if it still
    /// ends there.
    merged_end: Option<usize>,
    copied: u64,
}

/// Address one past the last byte of `seg` (only compared, never dereferenced).
fn end_addr(seg: &Bytes) -> usize {
    seg.as_ptr().addr() + seg.len()
}

impl Cumulation {
    /// Creates an empty cumulation with the given strategy. Does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Cumulation, CumulationStrategy};
    ///
    /// let c = Cumulation::new(CumulationStrategy::Merge);
    /// assert_eq!(c.strategy(), CumulationStrategy::Merge);
    /// assert!(c.is_empty());
    /// ```
    pub fn new(strategy: CumulationStrategy) -> Self {
        Cumulation {
            strategy,
            buf: CompositeBuf::new(),
            merged_end: None,
            copied: 0,
        }
    }

    /// The strategy this cumulation uses. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Cumulation, CumulationStrategy};
    ///
    /// assert_eq!(Cumulation::default().strategy(), CumulationStrategy::default());
    /// ```
    pub fn strategy(&self) -> CumulationStrategy {
        self.strategy
    }

    /// Adds one read at the end.
    ///
    /// Copies according to the [`CumulationStrategy`] (see its variants): nothing
    /// under `Compose`, for large reads under `Adaptive` and for any read onto an
    /// empty cumulation; `data.len()` bytes (plus any leftover that must move) under
    /// `Merge` and for other small reads under `Adaptive`. Empty reads are ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, Cumulation, CumulationStrategy};
    ///
    /// let mut c = Cumulation::new(CumulationStrategy::Adaptive { threshold: 4 });
    /// c.push(Bytes::from_static(b"ab"));       // onto nothing: adopted
    /// c.push(Bytes::from_static(b"c"));        // small: "ab" and "c" copied together
    /// c.push(Bytes::from_static(b"defgh"));    // large: composed
    /// assert_eq!(c.len(), 8);
    /// assert_eq!(c.copied_bytes(), 3);
    /// ```
    pub fn push(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        match self.strategy {
            CumulationStrategy::Compose => self.buf.push(data),
            CumulationStrategy::Merge => self.merge(data),
            CumulationStrategy::Adaptive { threshold } => {
                if data.len() >= threshold || self.buf.is_empty() {
                    self.merged_end = None;
                    self.buf.push(data);
                } else {
                    self.merge_small(data, threshold);
                }
            }
        }
    }

    /// `Merge`: keep everything in one contiguous segment.
    fn merge(&mut self, data: Bytes) {
        let Some(last) = self.buf.pop_back() else {
            // Nothing accumulated: adopt the read as is, like Netty's MERGE_CUMULATOR.
            self.buf.push(data);
            return;
        };
        let merged = match last.try_into_mut() {
            Ok(mut m) => {
                // Uniquely owned: reuse the allocation. Growing may move the content.
                let before = m.as_ptr();
                m.reserve(data.len());
                if m.as_ptr() != before {
                    self.copied += m.len() as u64;
                }
                m.extend_from_slice(&data);
                m
            }
            Err(last) => {
                // Still shared (frames cut from it are alive): copy the leftover.
                let need = last.len() + data.len();
                let mut m =
                    BytesMut::with_capacity(need.checked_next_power_of_two().unwrap_or(need));
                m.extend_from_slice(&last);
                self.copied += last.len() as u64;
                m.extend_from_slice(&data);
                m
            }
        };
        self.copied += data.len() as u64;
        self.buf.push(merged.freeze());
    }

    /// `Adaptive`, read below the threshold: copy it exactly once.
    fn merge_small(&mut self, data: Bytes, threshold: usize) {
        let ours = self.last_is_ours();
        if ours && let Some(last) = self.buf.pop_back() {
            match last.try_into_mut() {
                Ok(mut m) if m.capacity() - m.len() >= data.len() => {
                    // Ours, unique and with room: extend in place (no realloc).
                    m.extend_from_slice(&data);
                    self.copied += data.len() as u64;
                    let seg = m.freeze();
                    self.merged_end = Some(end_addr(&seg));
                    self.buf.push(seg);
                    return;
                }
                // Put it back unchanged (O(1)) and start a new merge buffer.
                Ok(m) => self.buf.push(m.freeze()),
                Err(last) => self.buf.push(last),
            }
        }
        // A small accumulation that is not ours (an adopted read's leftover) joins
        // the new merge buffer rather than staying a tiny segment of its own.
        let leftover = if !ours && self.buf.len() < threshold {
            std::mem::take(&mut self.buf)
        } else {
            CompositeBuf::new()
        };
        self.start_merge(&leftover, &data, threshold);
    }

    /// Whether the last segment is the merge buffer this cumulation last wrote.
    fn last_is_ours(&self) -> bool {
        self.buf
            .segments()
            .next_back()
            .is_some_and(|last| Some(end_addr(last)) == self.merged_end)
    }

    /// Starts a merge buffer holding `first` then `data` (copied), as the last
    /// segment.
    fn start_merge(&mut self, first: &CompositeBuf, data: &[u8], threshold: usize) {
        let need = first.len() + data.len();
        let cap = threshold
            .saturating_mul(2)
            .min(MAX_MERGE_CAPACITY)
            .max(need);
        let mut m = BytesMut::with_capacity(cap);
        for seg in first.segments() {
            m.extend_from_slice(seg);
        }
        m.extend_from_slice(data);
        self.copied += need as u64;
        let seg = m.freeze();
        self.merged_end = Some(end_addr(&seg));
        self.buf.push(seg);
    }

    /// Call once decoding stopped (the decoder needs more bytes): under `Adaptive`,
    /// a leftover smaller than the threshold that is not already in a merge buffer
    /// of this cumulation (an adopted or composed read's tail, still pointing into
    /// a receive buffer) is copied into one of its own. Other strategies, an empty
    /// cumulation and larger leftovers: nothing happens. Copies at most `threshold`
    /// bytes, only when a message is cut across reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Buf, Bytes, Cumulation};
    ///
    /// let received = Bytes::from(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b".to_vec());
    /// let mut c = Cumulation::default();
    /// c.push(received.clone()); // adopted: no copy
    /// let request = c.buf().split_to(27); // the decoder takes the whole request
    /// c.settle(); // "GET /b" is copied out of `received`
    /// assert_eq!(c.copied_bytes(), 6);
    /// assert_eq!(request.segments()[0].as_ptr(), received.as_ptr()); // not copied
    /// assert_ne!(c.buf().chunk().as_ptr(), received[27..].as_ptr());
    /// ```
    pub fn settle(&mut self) {
        let CumulationStrategy::Adaptive { threshold } = self.strategy else {
            return;
        };
        let len = self.buf.len();
        if len == 0 || len >= threshold {
            return;
        }
        if !(self.buf.segment_count() == 1 && self.last_is_ours()) {
            let leftover = std::mem::take(&mut self.buf);
            self.start_merge(&leftover, &[], threshold);
        }
    }

    /// Bytes accumulated and not yet taken. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, Cumulation};
    ///
    /// let mut c = Cumulation::default();
    /// c.push(Bytes::from_static(b"abc"));
    /// assert_eq!(c.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing is accumulated. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(seine_buffer::Cumulation::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The accumulated bytes, for the decoder to read and `split_to` from.
    ///
    /// O(1), no copy: this is the cumulation's own buffer, not a view that must be
    /// rebuilt. Whatever the decoder leaves in it stays for the next read.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, Cumulation};
    ///
    /// let mut c = Cumulation::default();
    /// c.push(Bytes::from_static(b"line\nrest"));
    /// let end = c.buf().find_byte(b'\n', 0).unwrap();
    /// let line = c.buf().split_to(end + 1);
    /// assert_eq!(line, b"line\n"[..]);
    /// assert_eq!(c.len(), 4);
    /// ```
    pub fn buf(&mut self) -> &mut CompositeBuf {
        &mut self.buf
    }

    /// Takes everything accumulated, leaving the cumulation empty. O(1), no copy.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, Cumulation};
    ///
    /// let mut c = Cumulation::default();
    /// c.push(Bytes::from_static(b"abc"));
    /// assert_eq!(c.take_all(), b"abc"[..]);
    /// assert!(c.is_empty());
    /// ```
    pub fn take_all(&mut self) -> CompositeBuf {
        self.merged_end = None;
        std::mem::take(&mut self.buf)
    }

    /// Drops everything accumulated. O(segments). [`copied_bytes`](Self::copied_bytes)
    /// keeps its running total.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, Cumulation};
    ///
    /// let mut c = Cumulation::default();
    /// c.push(Bytes::from_static(b"abc"));
    /// c.clear();
    /// assert!(c.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.merged_end = None;
        self.buf.clear();
    }

    /// Total payload bytes this cumulation has copied since it was created
    /// (including content moved when a merge buffer had to grow or be replaced).
    /// O(1); for tests and metrics.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, Cumulation, CumulationStrategy};
    ///
    /// let mut c = Cumulation::new(CumulationStrategy::Compose);
    /// c.push(Bytes::from(vec![0; 100]));
    /// assert_eq!(c.copied_bytes(), 0);
    /// ```
    pub fn copied_bytes(&self) -> u64 {
        self.copied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Buf;

    const KIB: usize = 1024;

    fn reads(total: usize, size: usize) -> Vec<Bytes> {
        (0..total)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<_>>()
            .chunks(size)
            .map(|c| Bytes::from(c.to_vec()))
            .collect()
    }

    fn content(rs: &[Bytes]) -> Vec<u8> {
        rs.iter().flat_map(|b| b.iter().copied()).collect()
    }

    /// The issue's test: a 1 MiB frame arriving in 64 KiB reads.
    #[test]
    fn big_frame_in_64k_reads_copied_bytes() {
        let rs = reads(1024 * KIB, 64 * KIB);
        let want = content(&rs);

        for strategy in [CumulationStrategy::Compose, CumulationStrategy::default()] {
            let mut c = Cumulation::new(strategy);
            for r in &rs {
                c.push(r.clone());
            }
            assert_eq!(c.copied_bytes(), 0, "{strategy:?}");
            assert_eq!(c.buf().segment_count(), 16);
            // The segments are the reads themselves.
            for (seg, r) in c.buf().segments().zip(&rs) {
                assert_eq!(seg.as_ptr(), r.as_ptr());
            }
            assert_eq!(c.take_all(), want);
        }

        let mut c = Cumulation::new(CumulationStrategy::Merge);
        for r in &rs {
            c.push(r.clone());
        }
        // Every read but the first (adopted while empty) is copied; growing the
        // buffer may copy more.
        assert!(
            c.copied_bytes() >= (1024 - 64) * KIB as u64,
            "{}",
            c.copied_bytes()
        );
        assert_eq!(c.buf().segment_count(), 1);
        assert_eq!(c.take_all(), want);
    }

    #[test]
    fn merge_copies_everything_once_held() {
        // Reads whose bytes are shared elsewhere (the test holds `rs`): the first is
        // adopted, the second is merged by copying both, after that appended.
        let rs = reads(10 * KIB, KIB);
        let mut c = Cumulation::new(CumulationStrategy::Merge);
        for r in &rs {
            c.push(r.clone());
        }
        assert_eq!(c.buf().segment_count(), 1);
        assert!(c.copied_bytes() >= 10 * KIB as u64);
        assert_eq!(c.take_all(), content(&rs));
    }

    #[test]
    fn adaptive_copies_only_small_reads_onto_something() {
        let sizes = [
            10,
            5000,
            100,
            200,
            1023,
            1024,
            7,
            64 * KIB,
            1,
            3000,
            500,
            500,
            500,
        ];
        let mut c = Cumulation::default();
        let mut all = Vec::new();
        let mut small = 0u64;
        for (i, &n) in sizes.iter().enumerate() {
            let r = Bytes::from(vec![i as u8; n]);
            // The first read lands on nothing: adopted, not copied.
            if n < DEFAULT_MERGE_THRESHOLD && i > 0 {
                small += n as u64;
            }
            all.extend_from_slice(&r);
            c.push(r);
        }
        assert_eq!(c.copied_bytes(), small);
        assert_eq!(c.take_all(), all);
    }

    #[test]
    fn adaptive_adopts_a_read_onto_nothing_and_settles_small_leftovers() {
        let mut c = Cumulation::default();
        let read = Bytes::from(vec![5; 300]);
        c.push(read.clone());
        assert_eq!(
            c.buf().chunk().as_ptr(),
            read.as_ptr(),
            "adopted, not copied"
        );
        let whole = c.buf().split_to(300);
        c.settle(); // nothing left: nothing to do
        assert_eq!((c.copied_bytes(), whole.len()), (0, 300));

        // A message cut across reads: the tail is copied out of the read.
        c.push(read.clone());
        c.buf().advance(280);
        c.settle();
        assert_eq!(c.copied_bytes(), 20);
        assert_ne!(c.buf().chunk().as_ptr(), read[280..].as_ptr());
        c.settle(); // already ours: not copied again
        assert_eq!(c.copied_bytes(), 20);
        // The next small read extends that merge buffer in place.
        c.push(Bytes::from(vec![6; 10]));
        assert_eq!(c.buf().segment_count(), 1);
        assert_eq!(c.buf().to_vec(), [&[5u8; 20][..], &[6; 10]].concat());

        // A large leftover stays where it is; other strategies never settle.
        let mut big = Cumulation::default();
        big.push(Bytes::from(vec![1; 5000]));
        big.buf().advance(2000);
        big.settle();
        assert_eq!(big.copied_bytes(), 0);
        let mut compose = Cumulation::new(CumulationStrategy::Compose);
        compose.push(read.clone());
        compose.buf().advance(290);
        compose.settle();
        assert_eq!(compose.copied_bytes(), 0);
    }

    #[test]
    fn adaptive_merges_an_adopted_leftover_with_the_next_small_read() {
        let mut c = Cumulation::default();
        c.push(Bytes::from_static(b"abc")); // adopted
        c.push(Bytes::from_static(b"de")); // "abc" joins the merge buffer
        assert_eq!(c.buf().segment_count(), 1);
        assert_eq!(c.copied_bytes(), 5);
        assert_eq!(c.take_all(), b"abcde"[..]);
    }

    #[test]
    fn adaptive_small_reads_share_one_merge_buffer() {
        let mut c = Cumulation::default();
        for i in 0..10u8 {
            c.push(Bytes::from(vec![i; 100]));
        }
        // 2 KiB merge buffers: 1000 bytes fit in one segment.
        assert_eq!(c.buf().segment_count(), 1);
        assert_eq!(c.copied_bytes(), 1000);
        // A frame cut from it is alive: the next small read cannot extend in place,
        // and must not copy the leftover either.
        let frame = c.buf().split_to(150);
        c.push(Bytes::from(vec![99; 50]));
        assert_eq!(c.copied_bytes(), 1050);
        assert_eq!(c.buf().segment_count(), 2);
        drop(frame);
        assert_eq!(c.len(), 900);
    }

    #[test]
    fn adaptive_extends_in_place_when_unique() {
        let mut c = Cumulation::new(CumulationStrategy::Adaptive { threshold: 100 });
        c.push(Bytes::from(vec![1; 10])); // adopted
        c.push(Bytes::from(vec![2; 10])); // both copied into a merge buffer
        let ptr = c.buf().chunk().as_ptr();
        assert_eq!(c.buf().segment_count(), 1);
        c.buf().advance(5);
        c.push(Bytes::from(vec![2; 5]));
        assert_eq!(c.buf().segment_count(), 1);
        assert_eq!(c.buf().chunk().as_ptr(), ptr.wrapping_add(5));
        // Consumed from the front, then more small data: still the same buffer.
        c.buf().advance(15);
        c.push(Bytes::from(vec![3; 10]));
        assert_eq!(c.buf().segment_count(), 1);
        assert_eq!(c.buf().to_vec(), [&[2u8; 5][..], &[3; 10]].concat());
        assert_eq!(c.copied_bytes(), 35);
    }

    #[test]
    fn adaptive_does_not_extend_foreign_segments() {
        let mut c = Cumulation::new(CumulationStrategy::Adaptive { threshold: 100 });
        let mut big = BytesMut::with_capacity(1000);
        big.extend_from_slice(&[7; 200]);
        c.push(big.freeze()); // large: composed, has spare capacity
        c.push(Bytes::from(vec![1; 10]));
        assert_eq!(c.buf().segment_count(), 2);
        assert_eq!(c.copied_bytes(), 10);
    }

    #[test]
    fn compose_never_copies_and_keeps_segments() {
        let mut c = Cumulation::new(CumulationStrategy::Compose);
        for i in 0..100u8 {
            c.push(Bytes::from(vec![i; 3]));
        }
        c.push(Bytes::new());
        assert_eq!(c.buf().segment_count(), 100);
        assert_eq!(c.copied_bytes(), 0);
        c.clear();
        assert!(c.is_empty());
    }

    #[test]
    fn merge_reuses_unique_buffer_without_copying_leftover() {
        let mut c = Cumulation::new(CumulationStrategy::Merge);
        c.push(Bytes::from(vec![1; 100]));
        c.push(Bytes::from(vec![2; 100])); // copies 100 (+ maybe a move of the first)
        // Decode most of it, frames dropped immediately.
        drop(c.buf().split_to(190));
        let before = c.copied_bytes();
        c.push(Bytes::from(vec![3; 10]));
        assert_eq!(c.buf().segment_count(), 1);
        assert_eq!(c.buf().to_vec(), [&[2u8; 10][..], &[3; 10]].concat());
        // 10 new bytes, plus at most the 10 leftover bytes moved.
        assert!(c.copied_bytes() - before <= 20);
    }

    #[test]
    fn merge_with_live_frames_copies_leftover() {
        let mut c = Cumulation::new(CumulationStrategy::Merge);
        c.push(Bytes::from(vec![1; 100]));
        let frame = c.buf().split_to(90);
        c.push(Bytes::from(vec![2; 5]));
        assert_eq!(c.copied_bytes(), 15);
        assert_eq!(c.buf().to_vec(), [&[1u8; 10][..], &[2; 5]].concat());
        assert_eq!(frame.len(), 90);
    }

    #[test]
    fn small_frames_hot_path_stays_inline() {
        // 64-byte frames with a 2-byte length prefix arriving in 64 KiB reads.
        let mut stream = Vec::new();
        for i in 0..4000u32 {
            stream.extend_from_slice(&62u16.to_be_bytes());
            stream.extend_from_slice(&[i as u8; 62]);
        }
        for strategy in [
            CumulationStrategy::Merge,
            CumulationStrategy::Compose,
            CumulationStrategy::default(),
        ] {
            let mut c = Cumulation::new(strategy);
            let mut n = 0;
            for read in stream.chunks(64 * KIB) {
                c.push(Bytes::copy_from_slice(read));
                let buf = c.buf();
                while let Some(len) = buf.get_uint_at(0, 2, crate::ByteOrder::BigEndian) {
                    let total = 2 + len as usize;
                    if buf.len() < total {
                        break;
                    }
                    let frame = buf.split_to(total);
                    assert!(frame.segment_count() <= 2);
                    assert_eq!(frame.get_u8_at(2), Some(n as u8));
                    n += 1;
                }
            }
            assert_eq!(n, 4000, "{strategy:?}");
            assert!(c.is_empty());
        }
    }
}
