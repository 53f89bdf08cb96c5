//! The socket side of kTLS: a TCP socket whose TLS record layer the kernel runs
//! (a TLS handler handed it over through
//! [`Transport::offload_tls`](seine_channel::Transport::offload_tls)).
//!
//! Writes need nothing new: `writev` of plaintext and `sendfile` of a file are
//! encrypted into records by the kernel. Two things change, both here:
//!
//! * **Reading** uses `recvmsg` with room for a control message: the kernel
//!   returns the plaintext of application-data records as ordinary bytes, and
//!   every other record (an alert, a TLS 1.3 NewSessionTicket or KeyUpdate) alone,
//!   with its content type in a `TLS_GET_RECORD_TYPE` control message
//!   ([`Received::Record`]). A plain `read` would fail on such a record (`EIO`).
//! * **A graceful shutdown** sends `close_notify` (an alert record, `[1, 0]`) with
//!   `sendmsg` and a `TLS_SET_RECORD_TYPE` control message before the FIN
//!   ([`send_close_notify`]).
//!
//! [`RecordLayer`] is the one flag the writer and the reader share.

use std::cell::Cell;
use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::rc::Rc;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, TlsGetRecordType, recvmsg};

/// `SOL_TLS` (linux/socket.h): the socket level of kTLS options and messages.
pub(crate) const SOL_TLS: libc::c_int = 282;
/// `TLS_SET_RECORD_TYPE` (linux/tls.h): the content type of a record sent with `sendmsg`.
pub(crate) const TLS_SET_RECORD_TYPE: libc::c_int = 1;
/// TLS content type of application data.
pub(crate) const CONTENT_APPLICATION_DATA: u8 = 23;
/// TLS content type of an alert.
pub(crate) const CONTENT_ALERT: u8 = 21;
/// A `close_notify` alert's payload: level warning (1), description 0.
pub(crate) const CLOSE_NOTIFY: [u8; 2] = [1, 0];

/// Whether the kernel runs this channel's TLS record layer: set once by the
/// writer when the offload succeeds, read by the driver before each read.
#[derive(Clone, Default)]
pub(crate) struct RecordLayer(Rc<Cell<bool>>);

impl RecordLayer {
    /// The kernel encrypts and decrypts the records.
    pub(crate) fn is_offloaded(&self) -> bool {
        self.0.get()
    }

    pub(crate) fn set_offloaded(&self) {
        self.0.set(true);
    }
}

/// What one `recvmsg` on a kTLS socket returned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// `n` bytes of application data (0: end of input).
    Data(usize),
    /// One record of another content type, its `n` bytes of payload.
    Record { content_type: u8, len: usize },
}

/// Reads into `buf` (its length is what may be filled) with `recvmsg`, noting the
/// record type the kernel reports (`TLS_GET_RECORD_TYPE`, decoded by nix).
/// Never blocks (`MSG_DONTWAIT`).
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Received> {
    let mut cmsg = nix::cmsg_space!(u8);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        fd.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_DONTWAIT,
    )
    .map_err(io::Error::from)?;
    let n = msg.bytes;
    let mut content_type = CONTENT_APPLICATION_DATA;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::TlsGetRecordType(t) = c {
            content_type = match t {
                TlsGetRecordType::ChangeCipherSpec => 20,
                TlsGetRecordType::Alert => CONTENT_ALERT,
                TlsGetRecordType::Handshake => 22,
                TlsGetRecordType::ApplicationData => CONTENT_APPLICATION_DATA,
                TlsGetRecordType::Unknown(t) => t,
                // A later variant nix may add: not application data.
                _ => 0,
            };
        }
    }
    Ok(if content_type == CONTENT_APPLICATION_DATA {
        Received::Data(n)
    } else {
        Received::Record {
            content_type,
            len: n,
        }
    })
}

/// Sends one record of `content_type` holding `payload`, with `sendmsg` and a
/// `TLS_SET_RECORD_TYPE` control message. Returns the bytes sent.
pub(crate) fn send_record(
    fd: BorrowedFd<'_>,
    content_type: u8,
    payload: &[u8],
) -> io::Result<usize> {
    // The control message: a cmsghdr and one byte, in a buffer aligned as
    // cmsghdr (CMSG_LEN / CMSG_SPACE of 1 byte, computed as the C macros do).
    #[repr(C)]
    struct Control {
        hdr: libc::cmsghdr,
        data: [u8; 8],
    }
    let align = |n: usize| n.next_multiple_of(std::mem::size_of::<usize>());
    let hdr_len = align(std::mem::size_of::<libc::cmsghdr>());
    let mut control = Control {
        hdr: libc::cmsghdr {
            cmsg_len: (hdr_len + 1) as _,
            cmsg_level: SOL_TLS,
            cmsg_type: TLS_SET_RECORD_TYPE,
        },
        data: [content_type, 0, 0, 0, 0, 0, 0, 0],
    };
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    let msg = libc::msghdr {
        msg_name: std::ptr::null_mut(),
        msg_namelen: 0,
        msg_iov: &mut iov,
        msg_iovlen: 1,
        msg_control: (&mut control as *mut Control).cast(),
        msg_controllen: (hdr_len + align(1)) as _,
        msg_flags: 0,
    };
    // SAFETY: `msg` points at `iov` (over `payload`, read only by the kernel) and
    // at `control`, both alive for the call; lengths match the buffers; `fd` is
    // a socket borrowed for the call.
    let n = unsafe {
        libc::sendmsg(
            fd.as_raw_fd(),
            &msg,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Sends `close_notify` through the kernel's record layer.
pub(crate) fn send_close_notify(fd: BorrowedFd<'_>) -> io::Result<()> {
    send_record(fd, CONTENT_ALERT, &CLOSE_NOTIFY).map(|_| ())
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;

    use super::*;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    // On a socket without kTLS (no tls ULP here, or not set), the calls run
    // as on any TCP socket: TCP ignores a SOL_TLS control message on send and
    // sends no record type on receive. With the ULP the same calls carry
    // records; that path runs in seine-tls' end-to-end test where the kernel
    // has it.
    #[test]
    fn send_record_sends_the_payload_and_recv_reads_data() {
        let (a, mut b) = pair();
        assert_eq!(
            send_record(a.as_fd(), CONTENT_ALERT, &CLOSE_NOTIFY).unwrap(),
            2
        );
        send_close_notify(a.as_fd()).unwrap();
        let mut got = [0u8; 4];
        b.read_exact(&mut got).unwrap();
        assert_eq!(got, [1, 0, 1, 0]);

        b.write_all(b"plain").unwrap();
        let mut buf = [0u8; 16];
        // Blocking until the bytes are there: the socket is blocking, MSG_DONTWAIT
        // may say WouldBlock first.
        let r = loop {
            match recv(a.as_fd(), &mut buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                r => break r.unwrap(),
            }
        };
        assert_eq!(r, Received::Data(5));
        assert_eq!(&buf[..5], b"plain");
        drop(b);
        let end = loop {
            match recv(a.as_fd(), &mut buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                r => break r.unwrap(),
            }
        };
        assert_eq!(end, Received::Data(0));
    }

    #[test]
    fn recv_on_an_empty_nonblocking_socket_would_block() {
        let (a, _b) = pair();
        let mut buf = [0u8; 4];
        let e = recv(a.as_fd(), &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn send_record_on_a_closed_peer_reports_the_error() {
        let (a, b) = pair();
        a.shutdown(std::net::Shutdown::Write).unwrap();
        drop(b);
        let e = send_record(a.as_fd(), CONTENT_ALERT, &CLOSE_NOTIFY).unwrap_err();
        assert!(e.raw_os_error().is_some());
    }

    #[test]
    fn the_flag_is_shared() {
        let a = RecordLayer::default();
        let b = a.clone();
        assert!(!b.is_offloaded());
        a.set_offloaded();
        assert!(b.is_offloaded());
    }
}
