//! [`DatagramPacket`]: the message at both ends of a datagram (UDP) pipeline.
//!
//! A datagram transport fires one `DatagramPacket` per datagram received (its
//! content a `Bytes` view of the receive buffer, never a copy) and accepts
//! `DatagramPacket`s to send, each sent as one datagram. A connected datagram
//! channel also accepts plain buffers (`Bytes`, `CompositeBuf`, `OutboundBuf`),
//! sent to its peer.

use std::net::SocketAddr;

use seine_buffer::Bytes;

/// One datagram and its addresses (Netty's `DatagramPacket`).
///
/// Received: `sender` is the peer that sent it, `recipient` the local address it
/// arrived on. To send: `recipient` is where it goes (`None` on a connected channel:
/// its peer); `sender` is ignored.
///
/// `T` is the content: `Bytes` at the transport's ends; a datagram codec adapter
/// turns it into a decoded message and back.
///
/// ```
/// use seine_channel::DatagramPacket;
/// use seine_buffer::Bytes;
///
/// let query = DatagramPacket {
///     content: Bytes::from_static(b"ping"),
///     sender: Some("127.0.0.1:5353".parse().unwrap()),
///     recipient: Some("127.0.0.1:53".parse().unwrap()),
/// };
/// let answer = query.reply(Bytes::from_static(b"pong"));
/// assert_eq!(answer.recipient, query.sender);
/// assert_eq!(answer.sender, query.recipient);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatagramPacket<T = Bytes> {
    /// The datagram's payload.
    pub content: T,
    /// Who sent it (received datagrams), or `None`.
    pub sender: Option<SocketAddr>,
    /// Where it is going (datagrams to send; `None`: the connected peer), or the
    /// local address it arrived on (received datagrams).
    pub recipient: Option<SocketAddr>,
}

impl<T> DatagramPacket<T> {
    /// A datagram to send to `recipient`. O(1), does not copy.
    pub fn new(content: T, recipient: SocketAddr) -> Self {
        DatagramPacket {
            content,
            sender: None,
            recipient: Some(recipient),
        }
    }

    /// A datagram to send, with the addresses of this one swapped: it goes back
    /// to whoever sent this one. O(1), does not copy.
    pub fn reply<U>(&self, content: U) -> DatagramPacket<U> {
        DatagramPacket {
            content,
            sender: self.recipient,
            recipient: self.sender,
        }
    }

    /// The same addresses with the content replaced (what a codec adapter does).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> DatagramPacket<U> {
        DatagramPacket {
            content: f(self.content),
            sender: self.sender,
            recipient: self.recipient,
        }
    }
}
