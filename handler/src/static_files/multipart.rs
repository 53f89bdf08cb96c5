//! `multipart/byteranges` (RFC 9110 §14.6): several ranges of one file in one
//! 206 response, each part with its own `Content-Type` and `Content-Range`.

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::os::unix::fs::FileExt;

use seine_buffer::{Bytes, CompositeBuf};

use super::range::ByteRange;

/// A boundary for one response: `seine-` and 16 random hex digits (from the
/// standard library's per-process random hash keys). The parts are bytes of a
/// file the boundary was not chosen from; a 64-bit random value appearing in one
/// by chance is as likely as a guessed key.
pub(crate) fn boundary() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5e1e);
    format!("seine-{:016x}", h.finish())
}

/// The `Content-Type` of the response: `multipart/byteranges; boundary=...`.
pub(crate) fn content_type(boundary: &str) -> String {
    format!("multipart/byteranges; boundary={boundary}")
}

/// The bytes each part adds to its data: delimiter and part header.
fn part_head(boundary: &str, part_type: &[u8], r: ByteRange, len: u64) -> Vec<u8> {
    let mut head = format!("\r\n--{boundary}\r\nContent-Type: ").into_bytes();
    head.extend_from_slice(part_type);
    head.extend_from_slice(
        format!(
            "\r\nContent-Range: bytes {}-{}/{len}\r\n\r\n",
            r.start, r.end
        )
        .as_bytes(),
    );
    head
}

/// The body: each range of `file` (of `len` bytes) read into memory after its
/// part header, then the closing delimiter. The caller bounds the total of the
/// ranges. A short read (the file shrank meanwhile) is an error.
pub(crate) fn body(
    file: &File,
    ranges: &[ByteRange],
    len: u64,
    part_type: &[u8],
    boundary: &str,
) -> std::io::Result<CompositeBuf> {
    let mut out = CompositeBuf::new();
    for &r in ranges {
        out.push(Bytes::from(part_head(boundary, part_type, r, len)));
        let n = usize::try_from(r.len()).map_err(|_| std::io::ErrorKind::InvalidInput)?;
        let mut data = vec![0u8; n];
        file.read_exact_at(&mut data, r.start)?;
        out.push(Bytes::from(data));
    }
    out.push(Bytes::from(format!("\r\n--{boundary}--\r\n")));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn parts_carry_their_ranges_between_delimiters() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"hello, world\n").unwrap();
        let ranges = [
            ByteRange { start: 0, end: 4 },
            ByteRange { start: 7, end: 11 },
        ];
        let b = boundary();
        assert!(b.len() == 22 && b.starts_with("seine-"), "{b}");
        assert_ne!(b, boundary(), "a boundary per response");
        let body = body(&f, &ranges, 13, b"text/plain", &b).unwrap();
        let bytes: Vec<u8> = body.segments().flat_map(|s| s.to_vec()).collect();
        let text = String::from_utf8(bytes).unwrap();
        let want = format!(
            "\r\n--{b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/13\r\n\r\nhello\
             \r\n--{b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 7-11/13\r\n\r\nworld\
             \r\n--{b}--\r\n"
        );
        assert_eq!(text, want);
    }

    #[test]
    fn a_file_shorter_than_its_ranges_is_an_error() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"abc").unwrap();
        let ranges = [ByteRange { start: 0, end: 9 }];
        assert!(body(&f, &ranges, 10, b"x/y", "b").is_err());
    }
}
