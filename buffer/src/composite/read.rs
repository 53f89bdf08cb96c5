//! Absolute reads that do not consume: `get_*_at`.

use super::CompositeBuf;
use crate::{BufferError, ByteOrder};

macro_rules! get_at {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $from:ident) => {
        $(#[$doc])*
        ///
        /// Does not consume and does not copy the buffer (the field's bytes are read
        /// into a stack array). Fast path when the whole field lies in one segment;
        /// otherwise it is assembled across segment borders. O(segments) to find the
        /// segment holding `index`.
        #[inline]
        pub fn $name(&self, index: usize) -> Option<$ty> {
            self.read_array(index).map(<$ty>::$from)
        }
    };
}

impl CompositeBuf {
    /// Reads `N` bytes at `index` into an array: `None` when out of range.
    #[inline]
    fn read_array<const N: usize>(&self, index: usize) -> Option<[u8; N]> {
        let end = index.checked_add(N)?;
        if end > self.len {
            return None;
        }
        let (i, off) = self.locate(index);
        let seg = &self.segs[i];
        if let Some(field) = seg.get(off..off + N) {
            // Fast path: the whole field is in one segment.
            return field.try_into().ok();
        }
        let mut out = [0u8; N];
        self.gather(i, off, &mut out);
        Some(out)
    }

    /// Copies `dst.len()` bytes starting at offset `off` of segment `i` (which the
    /// caller checked are there) into `dst`.
    fn gather(&self, i: usize, off: usize, dst: &mut [u8]) {
        let mut filled = 0;
        let mut off = off;
        for seg in &self.segs[i..] {
            let n = (seg.len() - off).min(dst.len() - filled);
            dst[filled..filled + n].copy_from_slice(&seg[off..off + n]);
            filled += n;
            off = 0;
            if filled == dst.len() {
                break;
            }
        }
        debug_assert_eq!(filled, dst.len());
    }

    /// Copies `dst.len()` bytes starting at `index` into `dst` without consuming.
    ///
    /// Returns `false` (and leaves `dst` untouched) when `index + dst.len()` is past
    /// the end. Copies exactly `dst.len()` bytes; O(segments + dst.len()).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let buf: CompositeBuf = [Bytes::from_static(b"ab"), Bytes::from_static(b"cd")].into_iter().collect();
    /// let mut out = [0u8; 3];
    /// assert!(buf.copy_to_slice_at(1, &mut out));
    /// assert_eq!(&out, b"bcd");
    /// assert!(!buf.copy_to_slice_at(2, &mut out));
    /// ```
    pub fn copy_to_slice_at(&self, index: usize, dst: &mut [u8]) -> bool {
        match index.checked_add(dst.len()) {
            Some(end) if end <= self.len => {}
            _ => return false,
        }
        if dst.is_empty() {
            return true;
        }
        let (i, off) = self.locate(index);
        self.gather(i, off, dst);
        true
    }

    /// Reads the byte at `index` without consuming; `None` if `index >= len()`.
    ///
    /// O(segments) to find the segment; does not copy.
    ///
    /// # Examples
    ///
    /// ```
    /// let buf = seine_buffer::CompositeBuf::from(vec![7, 8]);
    /// assert_eq!(buf.get_u8_at(1), Some(8));
    /// assert_eq!(buf.get_u8_at(2), None);
    /// ```
    #[inline]
    pub fn get_u8_at(&self, index: usize) -> Option<u8> {
        if index >= self.len {
            return None;
        }
        let (i, off) = self.locate(index);
        Some(self.segs[i][off])
    }

    get_at!(
        /// Reads a big-endian `u16` at `index` without consuming; `None` if the two
        /// bytes are not all there.
        ///
        /// # Examples
        ///
        /// ```
        /// use seine_buffer::{Bytes, CompositeBuf};
        ///
        /// let buf: CompositeBuf = [Bytes::from_static(b"\x01"), Bytes::from_static(b"\x02")].into_iter().collect();
        /// assert_eq!(buf.get_u16_at(0), Some(0x0102)); // across a border
        /// assert_eq!(buf.get_u16_at(1), None);
        /// ```
        get_u16_at, u16, from_be_bytes
    );
    get_at!(
        /// Reads a little-endian `u16` at `index` without consuming; `None` if the
        /// two bytes are not all there.
        ///
        /// # Examples
        ///
        /// ```
        /// let buf = seine_buffer::CompositeBuf::from(vec![1, 2]);
        /// assert_eq!(buf.get_u16_le_at(0), Some(0x0201));
        /// ```
        get_u16_le_at, u16, from_le_bytes
    );
    get_at!(
        /// Reads a big-endian `u32` at `index` without consuming; `None` if the four
        /// bytes are not all there.
        ///
        /// # Examples
        ///
        /// ```
        /// let buf = seine_buffer::CompositeBuf::from(vec![0, 0, 1, 0, 9]);
        /// assert_eq!(buf.get_u32_at(0), Some(256));
        /// assert_eq!(buf.get_u32_at(2), None);
        /// ```
        get_u32_at, u32, from_be_bytes
    );
    get_at!(
        /// Reads a little-endian `u32` at `index` without consuming; `None` if the
        /// four bytes are not all there.
        ///
        /// # Examples
        ///
        /// ```
        /// let buf = seine_buffer::CompositeBuf::from(vec![0, 1, 0, 0]);
        /// assert_eq!(buf.get_u32_le_at(0), Some(256));
        /// ```
        get_u32_le_at, u32, from_le_bytes
    );
    get_at!(
        /// Reads a big-endian `u64` at `index` without consuming; `None` if the eight
        /// bytes are not all there.
        ///
        /// # Examples
        ///
        /// ```
        /// let buf = seine_buffer::CompositeBuf::from(vec![0, 0, 0, 0, 0, 0, 1, 0]);
        /// assert_eq!(buf.get_u64_at(0), Some(256));
        /// ```
        get_u64_at, u64, from_be_bytes
    );
    get_at!(
        /// Reads a little-endian `u64` at `index` without consuming; `None` if the
        /// eight bytes are not all there.
        ///
        /// # Examples
        ///
        /// ```
        /// let buf = seine_buffer::CompositeBuf::from(vec![0, 1, 0, 0, 0, 0, 0, 0]);
        /// assert_eq!(buf.get_u64_le_at(0), Some(256));
        /// ```
        get_u64_le_at, u64, from_le_bytes
    );

    /// Reads an unsigned integer of `width` bytes (1 to 8) at `index` in `order`,
    /// without consuming.
    ///
    /// Returns `None` for a width of 0 or more than 8, or when the bytes are not all
    /// there; never panics. This is what a length-field decoder calls on every
    /// frame: fast path when the field lies in one segment, assembled in a stack
    /// array across borders otherwise. Does not copy the buffer; O(segments) to find
    /// the segment holding `index`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{ByteOrder, Bytes, CompositeBuf};
    ///
    /// let buf: CompositeBuf = [Bytes::from_static(b"\x00\x01"), Bytes::from_static(b"\x02")].into_iter().collect();
    /// assert_eq!(buf.get_uint_at(0, 3, ByteOrder::BigEndian), Some(0x000102));
    /// assert_eq!(buf.get_uint_at(1, 2, ByteOrder::LittleEndian), Some(0x0201));
    /// assert_eq!(buf.get_uint_at(0, 9, ByteOrder::BigEndian), None);
    /// assert_eq!(buf.get_uint_at(2, 2, ByteOrder::BigEndian), None);
    /// ```
    #[inline]
    pub fn get_uint_at(&self, index: usize, width: usize, order: ByteOrder) -> Option<u64> {
        if width == 0 || width > 8 {
            return None;
        }
        let end = index.checked_add(width)?;
        if end > self.len {
            return None;
        }
        let (i, off) = self.locate(index);
        let seg = &self.segs[i];
        if let Some(field) = seg.get(off..off + width) {
            return order.decode_uint(field);
        }
        let mut tmp = [0u8; 8];
        self.gather(i, off, &mut tmp[..width]);
        order.decode_uint(&tmp[..width])
    }

    /// Like [`get_uint_at`](Self::get_uint_at), but says what was wrong.
    ///
    /// Same cost; does not copy the buffer.
    ///
    /// # Errors
    ///
    /// [`BufferError::InvalidWidth`] for a width of 0 or more than 8,
    /// [`BufferError::OutOfBounds`] when the bytes are not all there yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{BufferError, ByteOrder, CompositeBuf};
    ///
    /// let buf = CompositeBuf::from(vec![0, 5]);
    /// assert_eq!(buf.try_get_uint_at(0, 2, ByteOrder::BigEndian).unwrap(), 5);
    /// assert!(matches!(buf.try_get_uint_at(0, 9, ByteOrder::BigEndian), Err(BufferError::InvalidWidth { width: 9 })));
    /// assert!(matches!(buf.try_get_uint_at(1, 2, ByteOrder::BigEndian), Err(BufferError::OutOfBounds { index: 1, width: 2, len: 2 })));
    /// ```
    pub fn try_get_uint_at(
        &self,
        index: usize,
        width: usize,
        order: ByteOrder,
    ) -> Result<u64, BufferError> {
        if width == 0 || width > 8 {
            return Err(BufferError::InvalidWidth { width });
        }
        self.get_uint_at(index, width, order)
            .ok_or(BufferError::OutOfBounds {
                index,
                width,
                len: self.len,
            })
    }
}

#[cfg(test)]
mod tests {
    use crate::composite::tests::comp;
    use crate::{Buf, ByteOrder, CompositeBuf};

    fn data() -> Vec<u8> {
        (1..=20).collect()
    }

    fn be(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
    }

    fn le(bytes: &[u8]) -> u64 {
        bytes
            .iter()
            .rev()
            .fold(0, |acc, &b| (acc << 8) | u64::from(b))
    }

    /// Every segmentation that matters: one segment, a border inside each field,
    /// fields over three segments, one byte per segment.
    fn layouts() -> Vec<CompositeBuf> {
        let d = data();
        vec![
            comp(&[&d]),
            comp(&[&d[..3], &d[3..]]),
            comp(&[&d[..1], &d[1..2], &d[2..9], &d[9..]]),
            comp(&[&d[..5], &d[5..6], &d[6..7], &d[7..]]),
            d.chunks(1).map(bytes::Bytes::copy_from_slice).collect(),
            d.chunks(3).map(bytes::Bytes::copy_from_slice).collect(),
        ]
    }

    #[test]
    fn fixed_width_reads_in_every_layout() {
        let d = data();
        for buf in layouts() {
            for i in 0..=d.len() + 1 {
                let get = |w: usize| d.get(i..i + w);
                assert_eq!(buf.get_u8_at(i), d.get(i).copied());
                assert_eq!(buf.get_u16_at(i), get(2).map(|b| be(b) as u16));
                assert_eq!(buf.get_u16_le_at(i), get(2).map(|b| le(b) as u16));
                assert_eq!(buf.get_u32_at(i), get(4).map(|b| be(b) as u32));
                assert_eq!(buf.get_u32_le_at(i), get(4).map(|b| le(b) as u32));
                assert_eq!(buf.get_u64_at(i), get(8).map(be));
                assert_eq!(buf.get_u64_le_at(i), get(8).map(le));
            }
        }
    }

    #[test]
    fn uint_reads_in_every_layout_and_width() {
        let d = data();
        for buf in layouts() {
            for width in 0..=9 {
                for i in 0..=d.len() + 1 {
                    let want = (1..=8)
                        .contains(&width)
                        .then(|| d.get(i..i + width))
                        .flatten();
                    assert_eq!(
                        buf.get_uint_at(i, width, ByteOrder::BigEndian),
                        want.map(be),
                        "be width {width} at {i}"
                    );
                    assert_eq!(
                        buf.get_uint_at(i, width, ByteOrder::LittleEndian),
                        want.map(le),
                        "le width {width} at {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn reads_after_advance_and_on_empty() {
        let mut buf = comp(&[b"\x00\x01", b"\x02\x03"]);
        buf.advance(1);
        assert_eq!(buf.get_u16_at(0), Some(0x0102));
        assert_eq!(buf.get_uint_at(0, 3, ByteOrder::BigEndian), Some(0x010203));
        let empty = CompositeBuf::new();
        assert_eq!(empty.get_u8_at(0), None);
        assert_eq!(empty.get_u64_at(0), None);
        assert_eq!(empty.get_uint_at(0, 1, ByteOrder::BigEndian), None);
        assert_eq!(buf.get_uint_at(usize::MAX, 2, ByteOrder::BigEndian), None);
        assert_eq!(buf.get_u32_at(usize::MAX - 1), None);
    }

    #[test]
    fn copy_to_slice_at_cases() {
        let buf = comp(&[b"ab", b"c", b"def"]);
        let mut out = [0u8; 4];
        assert!(buf.copy_to_slice_at(1, &mut out));
        assert_eq!(&out, b"bcde");
        assert!(buf.copy_to_slice_at(6, &mut []));
        assert!(!buf.copy_to_slice_at(7, &mut []));
        assert!(!buf.copy_to_slice_at(usize::MAX, &mut out));
    }

    #[test]
    fn try_get_uint_at_errors() {
        let buf = comp(&[b"ab"]);
        assert!(buf.try_get_uint_at(0, 0, ByteOrder::BigEndian).is_err());
        assert_eq!(
            buf.try_get_uint_at(0, 2, ByteOrder::LittleEndian).unwrap(),
            0x6261
        );
        assert!(buf.try_get_uint_at(2, 1, ByteOrder::BigEndian).is_err());
    }
}
