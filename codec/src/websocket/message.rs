//! [`Message`]: what the WebSocket codec fires and accepts.

use seine_buffer::Bytes;

use super::close_code::CloseCode;
use super::frame::Frame;

/// A whole message (its fragments joined), or a control frame.
///
/// The codec fires `Message`s and accepts them; [`Message::Frame`] writes one
/// frame as it is (to send a message in fragments) and is never fired.
///
/// ```
/// use seine_codec::websocket::{CloseCode, Message};
///
/// let hello = Message::text("hello");
/// assert_eq!(hello.as_text(), Some("hello"));
/// let bye = Message::close(CloseCode::NORMAL, "done");
/// assert!(matches!(bye, Message::Close(Some(ref c)) if c.code == CloseCode::NORMAL));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (valid UTF-8: the codec checked it).
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// A ping (the codec answers it with a pong unless configured not to).
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// A close frame, with its status code and reason if it had one.
    Close(Option<CloseFrame>),
    /// One raw frame, written as it is (outbound only).
    Frame(Frame),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message (not copied when given `Bytes`).
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// A close frame with a status code and a reason (at most 123 bytes of it are sent).
    pub fn close(code: CloseCode, reason: impl Into<String>) -> Self {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    }

    /// The text of a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// A close frame's status code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// Why, for humans (UTF-8, at most 123 bytes).
    pub reason: String,
}
