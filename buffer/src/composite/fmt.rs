//! `Debug` for `CompositeBuf`: length, segment count and a short hex preview.

use std::fmt;

use super::CompositeBuf;

/// How many leading bytes the `Debug` output shows.
const PREVIEW: usize = 16;

struct Preview<'a>(&'a CompositeBuf);

impl fmt::Debug for Preview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = 0;
        'outer: for seg in self.0.live() {
            for b in seg.iter() {
                if shown == PREVIEW {
                    break 'outer;
                }
                write!(f, "{b:02x}")?;
                shown += 1;
            }
        }
        if self.0.len() > PREVIEW {
            f.write_str("..")?;
        }
        Ok(())
    }
}

/// Shows `len`, `segments` and the first 16 bytes in hex (`..` if there are more).
/// O(1) in the buffer length; does not copy.
impl fmt::Debug for CompositeBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompositeBuf")
            .field("len", &self.len())
            .field("segments", &self.segment_count())
            .field("preview", &Preview(self))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::composite::tests::comp;

    #[test]
    fn debug_shows_len_segments_preview() {
        let s = format!("{:?}", comp(&[b"\x01\x02", b"\xff"]));
        assert_eq!(s, "CompositeBuf { len: 3, segments: 2, preview: 0102ff }");
        let long = comp(&[&[0xab; 10], &[0xcd; 10]]);
        let s = format!("{long:?}");
        assert!(s.contains("len: 20, segments: 2"));
        let want = format!("preview: {}{}..", "ab".repeat(10), "cd".repeat(6));
        assert!(s.contains(&want), "{s}");
        assert_eq!(
            format!("{:?}", comp(&[])),
            "CompositeBuf { len: 0, segments: 0, preview:  }"
        );
    }
}
