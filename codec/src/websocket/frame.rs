//! [`Frame`] and [`Opcode`]: one WebSocket frame (RFC 6455, section 5.2).
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```

use seine_buffer::Bytes;

use super::error::WebSocketError;

/// A frame's opcode: what its payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// 0x0: the next fragment of a text or binary message.
    Continuation,
    /// 0x1: (the first fragment of) a text message, UTF-8.
    Text,
    /// 0x2: (the first fragment of) a binary message.
    Binary,
    /// 0x8: close, with an optional status code and reason.
    Close,
    /// 0x9: ping; answered by a pong with the same payload.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl Opcode {
    /// The opcode of the 4-bit value, or [`WebSocketError::UnknownOpcode`].
    ///
    /// ```
    /// use seine_codec::websocket::Opcode;
    /// assert_eq!(Opcode::from_u8(0x9), Ok(Opcode::Ping));
    /// assert!(Opcode::from_u8(0x3).is_err());
    /// ```
    pub fn from_u8(opcode: u8) -> Result<Self, WebSocketError> {
        Ok(match opcode {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return Err(WebSocketError::UnknownOpcode { opcode }),
        })
    }

    /// The 4-bit value.
    pub fn as_u8(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Whether this is a control opcode (close, ping, pong).
    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// One frame, its payload unmasked.
///
/// ```
/// use seine_codec::websocket::{Frame, Opcode};
///
/// // "Hel" then "lo": a text message in two fragments.
/// let first = Frame::new(Opcode::Text, false, "Hel");
/// let last = Frame::new(Opcode::Continuation, true, "lo");
/// assert!(!first.fin && last.fin);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The last fragment of its message (always set on control frames).
    pub fin: bool,
    /// RSV1: set on the first frame of a compressed message (permessage-deflate).
    pub rsv1: bool,
    /// What the payload is.
    pub opcode: Opcode,
    /// The payload, unmasked.
    pub payload: Bytes,
}

impl Frame {
    /// A frame without RSV bits.
    pub fn new(opcode: Opcode, fin: bool, payload: impl Into<Bytes>) -> Self {
        Frame {
            fin,
            rsv1: false,
            opcode,
            payload: payload.into(),
        }
    }
}

/// XORs `data` with the masking `key`, the key's byte `offset % 4` first. Its
/// own inverse.
pub(crate) fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let mut key = key;
    key.rotate_left(offset % 4);
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes((&*chunk).try_into().unwrap_or([0; 8])) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_matches_the_byte_by_byte_definition() {
        let key = [0x12, 0x34, 0x56, 0x78];
        for len in 0..40 {
            for offset in 0..4 {
                let data: Vec<u8> = (0..len as u8).collect();
                let mut fast = data.clone();
                apply_mask(&mut fast, key, offset);
                let slow: Vec<u8> = data
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ key[(i + offset) % 4])
                    .collect();
                assert_eq!(fast, slow, "len {len} offset {offset}");
            }
        }
    }
}
