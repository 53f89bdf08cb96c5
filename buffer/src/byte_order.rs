//! Byte order of multi-byte integers read from a buffer.

/// The byte order of a multi-byte integer field.
///
/// Network protocols are mostly big-endian ("network byte order"), which is why
/// [`ByteOrder::BigEndian`] is the [`Default`], as in Netty's `ByteBuf`.
/// This is a plain `Copy` value: choosing an order costs nothing.
///
/// # Examples
///
/// ```
/// use seine_buffer::{ByteOrder, CompositeBuf};
///
/// let buf = CompositeBuf::from(vec![0x01, 0x02]);
/// assert_eq!(ByteOrder::default(), ByteOrder::BigEndian);
/// assert_eq!(buf.get_uint_at(0, 2, ByteOrder::BigEndian), Some(0x0102));
/// assert_eq!(buf.get_uint_at(0, 2, ByteOrder::LittleEndian), Some(0x0201));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Most significant byte first (network byte order).
    #[default]
    BigEndian,
    /// Least significant byte first.
    LittleEndian,
}

impl ByteOrder {
    /// The byte order of the machine this code runs on.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::ByteOrder;
    ///
    /// let native = ByteOrder::NATIVE;
    /// assert!(native == ByteOrder::BigEndian || native == ByteOrder::LittleEndian);
    /// ```
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "big") {
        ByteOrder::BigEndian
    } else {
        ByteOrder::LittleEndian
    };

    /// Decodes an unsigned integer of `bytes.len()` bytes (at most 8) in this order.
    ///
    /// Returns `None` when `bytes` is empty or longer than 8 bytes. This is an O(1)
    /// operation and does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::ByteOrder;
    ///
    /// assert_eq!(ByteOrder::BigEndian.decode_uint(&[1, 0, 0]), Some(0x01_00_00));
    /// assert_eq!(ByteOrder::LittleEndian.decode_uint(&[1, 0, 0]), Some(1));
    /// assert_eq!(ByteOrder::BigEndian.decode_uint(&[]), None);
    /// ```
    #[inline]
    pub fn decode_uint(self, bytes: &[u8]) -> Option<u64> {
        let width = bytes.len();
        if width == 0 || width > 8 {
            return None;
        }
        let mut buf = [0u8; 8];
        Some(match self {
            ByteOrder::BigEndian => {
                buf[8 - width..].copy_from_slice(bytes);
                u64::from_be_bytes(buf)
            }
            ByteOrder::LittleEndian => {
                buf[..width].copy_from_slice(bytes);
                u64::from_le_bytes(buf)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_big_endian() {
        assert_eq!(ByteOrder::default(), ByteOrder::BigEndian);
    }

    #[test]
    fn decode_all_widths() {
        let bytes = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
        for width in 1..=8 {
            let be = ByteOrder::BigEndian.decode_uint(&bytes[..width]).unwrap();
            let le = ByteOrder::LittleEndian
                .decode_uint(&bytes[..width])
                .unwrap();
            let mut want_be = 0u64;
            for &b in &bytes[..width] {
                want_be = (want_be << 8) | u64::from(b);
            }
            let mut want_le = 0u64;
            for &b in bytes[..width].iter().rev() {
                want_le = (want_le << 8) | u64::from(b);
            }
            assert_eq!(be, want_be, "width {width}");
            assert_eq!(le, want_le, "width {width}");
        }
        assert_eq!(ByteOrder::BigEndian.decode_uint(&bytes), None);
        assert_eq!(ByteOrder::LittleEndian.decode_uint(&[]), None);
    }
}
