//! Echo payloads derived from (connection id, sequence number), and a streaming
//! verifier that checks every echoed byte without buffering whole frames.
//!
//! Frame `seq` of connection `conn` with payload size `n`:
//! * 4-byte big-endian length `n`,
//! * payload bytes `0..min(8, n)`: `(seq ^ key(conn))` little-endian,
//! * payload bytes `8..n`: `pat[off + 8 .. off + n]`, where `pat` is a per-connection
//!   pseudo-random buffer of `n + ROTATE` bytes and `off = seq % ROTATE`.
//!
//! So consecutive frames differ everywhere, frames of different connections differ,
//! building a frame is one `memcpy` (or a borrowed slice for vectored writes), and
//! checking it is one `memcmp`.

use std::fmt;

/// Distinct body offsets before the body pattern repeats (a prime).
pub const ROTATE: usize = 251;
/// Length-prefix size.
pub const LEN_PREFIX: usize = 4;
/// Bytes of per-frame sequence header at the start of the payload.
pub const SEQ_HDR: usize = 8;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The per-connection payload generator.
pub struct Pattern {
    conn: u64,
    key: u64,
    size: usize,
    pat: Box<[u8]>,
}

impl Pattern {
    /// The pattern of connection `conn` for payloads of `size` bytes.
    pub fn new(conn: u64, size: usize) -> Pattern {
        let key = splitmix(conn ^ 0x5EED_0000_0000_0000);
        let len = size + ROTATE;
        let mut pat = Vec::with_capacity(len + 8);
        let mut s = key;
        while pat.len() < len {
            s = splitmix(s);
            pat.extend_from_slice(&s.to_le_bytes());
        }
        pat.truncate(len);
        Pattern {
            conn,
            key,
            size,
            pat: pat.into_boxed_slice(),
        }
    }

    /// Payload size.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Length of the sequence header inside the payload (`min(8, size)`).
    pub fn hdr_len(&self) -> usize {
        self.size.min(SEQ_HDR)
    }

    /// The 8 sequence-header bytes of frame `seq` (only `hdr_len()` of them are sent).
    #[inline]
    pub fn seq_header(&self, seq: u64) -> [u8; SEQ_HDR] {
        (seq ^ self.key).to_le_bytes()
    }

    /// Payload bytes `hdr_len()..size` of frame `seq`.
    #[inline]
    pub fn body(&self, seq: u64) -> &[u8] {
        let off = (seq % ROTATE as u64) as usize;
        &self.pat[off + self.hdr_len()..off + self.size]
    }

    /// The 4-byte length prefix followed by the sequence header.
    #[inline]
    pub fn prefix(&self, seq: u64) -> ([u8; LEN_PREFIX + SEQ_HDR], usize) {
        let mut p = [0u8; LEN_PREFIX + SEQ_HDR];
        p[..4].copy_from_slice(&(self.size as u32).to_be_bytes());
        p[4..].copy_from_slice(&self.seq_header(seq));
        (p, LEN_PREFIX + self.hdr_len())
    }

    /// Appends the whole frame `seq` (prefix and payload) to `out`.
    #[inline]
    pub fn write_frame(&self, seq: u64, out: &mut Vec<u8>) {
        let (p, plen) = self.prefix(seq);
        out.extend_from_slice(&p[..plen]);
        out.extend_from_slice(self.body(seq));
    }

    /// Checks `data` against payload bytes `pos..pos + data.len()` of frame `seq`.
    #[inline]
    fn check(&self, seq: u64, pos: usize, data: &[u8]) -> Result<(), Mismatch> {
        let h = self.hdr_len();
        let mut i = 0;
        if pos < h {
            let hdr = self.seq_header(seq);
            while i < data.len() && pos + i < h {
                if data[i] != hdr[pos + i] {
                    return Err(self.mismatch(seq, pos + i, hdr[pos + i], data[i]));
                }
                i += 1;
            }
        }
        if i < data.len() {
            let off = (seq % ROTATE as u64) as usize;
            let start = off + pos + i;
            let want = &self.pat[start..start + data.len() - i];
            if want != &data[i..] {
                let k = want
                    .iter()
                    .zip(&data[i..])
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                return Err(self.mismatch(seq, pos + i + k, want[k], data[i + k]));
            }
        }
        Ok(())
    }

    fn mismatch(&self, seq: u64, byte: usize, expected: u8, got: u8) -> Mismatch {
        Mismatch {
            conn: self.conn,
            seq,
            kind: MismatchKind::Payload {
                byte,
                expected,
                got,
            },
        }
    }
}

/// What was wrong with an echoed frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MismatchKind {
    /// The length prefix was not the frame size that was sent.
    Length {
        /// The size sent.
        expected: usize,
        /// The length prefix received.
        got: usize,
    },
    /// A payload byte differs from what was sent.
    Payload {
        /// Its index in the payload.
        byte: usize,
        /// The byte sent.
        expected: u8,
        /// The byte received.
        got: u8,
    },
    /// More frames came back than were sent.
    Unsolicited,
}

/// An echoed frame that is not the frame sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Connection id.
    pub conn: u64,
    /// Frame sequence number on that connection.
    pub seq: u64,
    /// What differed.
    pub kind: MismatchKind,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "echo verification failed on connection {} frame {}: ",
            self.conn, self.seq
        )?;
        match self.kind {
            MismatchKind::Length { expected, got } => write!(
                f,
                "length prefix says {got} bytes, the frame sent had {expected}"
            ),
            MismatchKind::Payload {
                byte,
                expected,
                got,
            } => write!(
                f,
                "payload byte {byte} is {got:#04x}, expected {expected:#04x} (the server corrupted the data)"
            ),
            MismatchKind::Unsolicited => write!(f, "the server sent a frame that was never sent"),
        }
    }
}

impl std::error::Error for Mismatch {}

/// Streaming verifier for one connection's echoed byte stream.
pub struct Verifier {
    hdr: [u8; LEN_PREFIX],
    hdr_have: usize,
    in_payload: bool,
    pos: usize,
    /// Sequence number of the frame being received.
    next_seq: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier expecting frame 0 next.
    pub fn new() -> Verifier {
        Verifier {
            hdr: [0; LEN_PREFIX],
            hdr_have: 0,
            in_payload: false,
            pos: 0,
            next_seq: 0,
        }
    }

    /// Frames fully received and verified so far.
    pub fn completed(&self) -> u64 {
        self.next_seq
    }

    /// Verifies `data` (the next bytes of the stream). `sent` is the number of frames
    /// sent so far; `on_frame(seq)` runs for each frame completed. Stops at the first
    /// mismatch.
    #[inline]
    pub fn feed(
        &mut self,
        pat: &Pattern,
        mut data: &[u8],
        sent: u64,
        mut on_frame: impl FnMut(u64),
    ) -> Result<(), Mismatch> {
        let n = pat.size();
        while !data.is_empty() {
            if !self.in_payload {
                if self.next_seq >= sent {
                    return Err(Mismatch {
                        conn: pat.conn,
                        seq: self.next_seq,
                        kind: MismatchKind::Unsolicited,
                    });
                }
                let take = (LEN_PREFIX - self.hdr_have).min(data.len());
                self.hdr[self.hdr_have..self.hdr_have + take].copy_from_slice(&data[..take]);
                self.hdr_have += take;
                data = &data[take..];
                if self.hdr_have < LEN_PREFIX {
                    break;
                }
                let got = u32::from_be_bytes(self.hdr) as usize;
                if got != n {
                    return Err(Mismatch {
                        conn: pat.conn,
                        seq: self.next_seq,
                        kind: MismatchKind::Length { expected: n, got },
                    });
                }
                self.hdr_have = 0;
                self.in_payload = true;
                self.pos = 0;
            }
            let take = (n - self.pos).min(data.len());
            pat.check(self.next_seq, self.pos, &data[..take])?;
            self.pos += take;
            data = &data[take..];
            if self.pos == n {
                self.in_payload = false;
                on_frame(self.next_seq);
                self.next_seq += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(pat: &Pattern, frames: u64) -> Vec<u8> {
        let mut v = Vec::new();
        for s in 0..frames {
            pat.write_frame(s, &mut v);
        }
        v
    }

    #[test]
    fn round_trip_in_any_chunking() {
        for size in [0usize, 1, 7, 8, 9, 64, 4096, 70_000] {
            let pat = Pattern::new(3, size);
            let bytes = stream(&pat, 20);
            assert_eq!(bytes.len(), 20 * (4 + size));
            for chunk in [1usize, 3, 5, 64, 1000, usize::MAX] {
                let mut v = Verifier::new();
                let mut seen = Vec::new();
                for c in bytes.chunks(chunk.min(bytes.len()).max(1)) {
                    v.feed(&pat, c, 20, |s| seen.push(s)).unwrap();
                }
                assert_eq!(
                    seen,
                    (0..20).collect::<Vec<_>>(),
                    "size {size} chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let pat = Pattern::new(1, 20);
        let good = stream(&pat, 3);
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            let err = Verifier::new().feed(&pat, &bad, 3, |_| {}).unwrap_err();
            let frame = (i / 24) as u64;
            assert_eq!(err.seq, frame, "byte {i}");
            match err.kind {
                MismatchKind::Length { .. } => assert!(i % 24 < 4),
                MismatchKind::Payload { byte, .. } => assert_eq!(byte, i % 24 - 4),
                MismatchKind::Unsolicited => panic!("byte {i}"),
            }
            assert!(err.to_string().contains("verification failed"));
        }
    }

    #[test]
    fn frames_of_other_connections_or_sequences_are_rejected() {
        let a = Pattern::new(1, 64);
        let b = Pattern::new(2, 64);
        let mut v = Vec::new();
        b.write_frame(0, &mut v);
        assert!(Verifier::new().feed(&a, &v, 1, |_| {}).is_err());
        let mut w = Vec::new();
        a.write_frame(1, &mut w); // frame 1 where frame 0 is expected
        assert!(Verifier::new().feed(&a, &w, 2, |_| {}).is_err());
        let mut x = Vec::new();
        a.write_frame(0, &mut x);
        assert_eq!(
            Verifier::new().feed(&a, &x, 0, |_| {}).unwrap_err().kind,
            MismatchKind::Unsolicited
        );
    }
}
