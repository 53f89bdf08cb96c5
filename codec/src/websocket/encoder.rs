//! Frame encoding: the header, then the payload (masked by a client).

use seine_buffer::{BufMut, Bytes};

use super::close_code::CloseCode;
use super::frame::{Frame, Opcode, apply_mask};
use super::message::{CloseFrame, Message};
use crate::encoder::EncodeBuf;

/// Payloads under this size are copied next to their header.
const SMALL_PAYLOAD: usize = 256;

/// Appends the frame `f` to `dst`: the header is written into the scratch
/// buffer; an unmasked payload of 256 bytes or more is appended without
/// copying, a smaller or masked one is copied (masking writes it).
///
/// ```
/// use seine_codec::EncodeBuf;
/// use seine_codec::websocket::{Frame, Opcode, encode_frame};
///
/// let mut out = EncodeBuf::new();
/// encode_frame(Frame::new(Opcode::Text, true, "Hi"), None, &mut out);
/// assert_eq!(out.len(), 4); // 0x81 0x02 'H' 'i'
/// ```
pub fn encode_frame(f: Frame, mask: Option<[u8; 4]>, dst: &mut EncodeBuf) {
    let len = f.payload.len();
    let scratch = dst.scratch();
    let b0 = (u8::from(f.fin) << 7) | (u8::from(f.rsv1) << 6) | f.opcode.as_u8();
    scratch.put_u8(b0);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        scratch.put_u8(mask_bit | len as u8);
    } else if let Ok(n) = u16::try_from(len) {
        scratch.put_u8(mask_bit | 126);
        scratch.put_u16(n);
    } else {
        scratch.put_u8(mask_bit | 127);
        scratch.put_u64(len as u64);
    }
    match mask {
        Some(key) => {
            scratch.put_slice(&key);
            let start = scratch.len();
            scratch.put_slice(&f.payload);
            apply_mask(&mut scratch[start..], key, 0);
        }
        // A small payload is copied next to its header: one buffer to write
        // costs less than a segment of its own.
        None if len < SMALL_PAYLOAD => scratch.put_slice(&f.payload),
        None => dst.push_bytes(f.payload),
    }
}

/// The frame a message is sent as (`None` for nothing to send).
pub(crate) fn message_frame(msg: Message) -> Frame {
    match msg {
        Message::Text(t) => Frame::new(Opcode::Text, true, Bytes::from(t.into_bytes())),
        Message::Binary(b) => Frame::new(Opcode::Binary, true, b),
        Message::Ping(b) => Frame::new(Opcode::Ping, true, b),
        Message::Pong(b) => Frame::new(Opcode::Pong, true, b),
        Message::Close(c) => Frame::new(Opcode::Close, true, close_payload(c.as_ref())),
        Message::Frame(f) => f,
    }
}

/// A close frame's payload: the code, then the reason cut to 123 bytes at a
/// character boundary (a control frame carries at most 125).
pub(crate) fn close_payload(c: Option<&CloseFrame>) -> Bytes {
    let Some(c) = c else {
        return Bytes::new();
    };
    let mut end = c.reason.len().min(123);
    while !c.reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut v = Vec::with_capacity(2 + end);
    v.extend_from_slice(&c.code.0.to_be_bytes());
    v.extend_from_slice(&c.reason.as_bytes()[..end]);
    v.into()
}

/// A close frame's payload with just `code`.
pub(crate) fn close_code_payload(code: CloseCode) -> Bytes {
    Bytes::copy_from_slice(&code.0.to_be_bytes())
}
