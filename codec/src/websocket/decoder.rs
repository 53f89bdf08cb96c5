//! [`FrameDecoder`]: cuts frames out of received bytes and checks the frame-level
//! rules (sans-IO; the codec and the fuzz target drive it).

use seine_buffer::{Buf, CompositeBuf};

use super::config::{DEFAULT_MAX_FRAME_SIZE, Role};
use super::error::WebSocketError;
use super::frame::{Frame, Opcode, apply_mask};

/// Decodes frames: the header is checked as soon as it is complete (masking,
/// reserved bits, opcode, control-frame rules, length), so a bad or oversized
/// frame is refused before its payload is waited for. The payload is unmasked
/// into a buffer of its own (one copy, which unmasking needs anyway); an unmasked
/// payload (from a server) is not copied when it lies in one read.
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
/// use seine_codec::websocket::{FrameDecoder, Opcode, Role, WebSocketError};
///
/// let mut dec = FrameDecoder::new(Role::Server);
/// // A masked text frame "Hi" (key 1, 2, 3, 4).
/// let mut src = CompositeBuf::from(Bytes::from_static(&[0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2]));
/// let frame = dec.decode(&mut src).unwrap().unwrap();
/// assert_eq!((frame.opcode, &frame.payload[..]), (Opcode::Text, &b"Hi"[..]));
///
/// // The same frame unmasked is refused.
/// let mut src = CompositeBuf::from(Bytes::from_static(&[0x81, 0x02, b'H', b'i']));
/// assert_eq!(dec.decode(&mut src), Err(WebSocketError::UnmaskedClientFrame));
/// ```
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    role: Role,
    max_frame_size: usize,
    allow_rsv1: bool,
}

/// A checked frame header.
struct Header {
    fin: bool,
    rsv1: bool,
    opcode: Opcode,
    mask: Option<[u8; 4]>,
    header_len: usize,
    payload_len: usize,
}

impl FrameDecoder {
    /// A decoder for `role` with the default 1 MiB frame limit, RSV1 refused.
    pub fn new(role: Role) -> Self {
        FrameDecoder {
            role,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            allow_rsv1: false,
        }
    }

    /// Sets the frame limit.
    pub fn with_max_frame_size(mut self, max: usize) -> Self {
        self.max_frame_size = max;
        self
    }

    /// Accepts RSV1 on the first frame of a data message (permessage-deflate was
    /// negotiated).
    pub fn with_rsv1(mut self, allow: bool) -> Self {
        self.allow_rsv1 = allow;
        self
    }

    /// Decodes one frame from the front of `src`: `Ok(None)` until it is
    /// complete. Never allocates more than the frame limit.
    ///
    /// # Errors
    ///
    /// A [`WebSocketError`] for a frame that breaks RFC 6455 or the limit; the
    /// connection cannot continue after it (`src` is left as it was).
    pub fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<Frame>, WebSocketError> {
        let Some(h) = self.header(src)? else {
            return Ok(None);
        };
        let total = h.header_len + h.payload_len;
        if src.len() < total {
            return Ok(None);
        }
        src.advance(h.header_len);
        let payload = match h.mask {
            Some(key) => {
                // Gathered from the segments (no zero-fill first).
                let mut data = Vec::with_capacity(h.payload_len);
                for seg in src.segments() {
                    let want = h.payload_len - data.len();
                    if want == 0 {
                        break;
                    }
                    data.extend_from_slice(&seg[..want.min(seg.len())]);
                }
                src.advance(h.payload_len);
                apply_mask(&mut data, key, 0);
                data.into()
            }
            None => src.split_to(h.payload_len).into_bytes(),
        };
        Ok(Some(Frame {
            fin: h.fin,
            rsv1: h.rsv1,
            opcode: h.opcode,
            payload,
        }))
    }

    fn header(&self, src: &CompositeBuf) -> Result<Option<Header>, WebSocketError> {
        let (Some(b0), Some(b1)) = (src.get_u8_at(0), src.get_u8_at(1)) else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let rsv = b0 & 0x70;
        let opcode = Opcode::from_u8(b0 & 0x0F)?;
        let rsv1 = rsv & 0x40 != 0;
        if rsv & 0x30 != 0
            || (rsv1 && !(self.allow_rsv1 && matches!(opcode, Opcode::Text | Opcode::Binary)))
        {
            return Err(WebSocketError::ReservedBits { bits: rsv });
        }
        let masked = b1 & 0x80 != 0;
        match (self.role, masked) {
            (Role::Server, false) => return Err(WebSocketError::UnmaskedClientFrame),
            (Role::Client, true) => return Err(WebSocketError::MaskedServerFrame),
            _ => {}
        }
        let (length, mut header_len) = match b1 & 0x7F {
            126 => match src.get_u16_at(2) {
                Some(n) => (u64::from(n), 4),
                None => return Ok(None),
            },
            127 => match src.get_u64_at(2) {
                Some(n) => (n, 10),
                None => return Ok(None),
            },
            n => (u64::from(n), 2),
        };
        if opcode.is_control() {
            if length > 125 {
                return Err(WebSocketError::ControlFrameTooLong { length });
            }
            if !fin {
                return Err(WebSocketError::FragmentedControlFrame);
            }
        }
        if length >> 63 != 0 {
            return Err(WebSocketError::InvalidLength { length });
        }
        let payload_len = match usize::try_from(length) {
            Ok(n) if n <= self.max_frame_size => n,
            _ => {
                return Err(WebSocketError::FrameTooLong {
                    length,
                    max: self.max_frame_size,
                });
            }
        };
        let mask = if masked {
            let mut key = [0u8; 4];
            if !src.copy_to_slice_at(header_len, &mut key) {
                return Ok(None);
            }
            header_len += 4;
            Some(key)
        } else {
            None
        };
        Ok(Some(Header {
            fin,
            rsv1,
            opcode,
            mask,
            header_len,
            payload_len,
        }))
    }
}
