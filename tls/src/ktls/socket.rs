//! The socket options that hand a session to the kernel: the `tls` upper-layer
//! protocol, then each direction's keys.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::crypto_info::CryptoInfo;

/// `TCP_ULP` (linux/tcp.h): attaches an upper-layer protocol to a TCP socket.
pub(crate) const TCP_ULP: libc::c_int = 31;
/// `SOL_TLS` (linux/socket.h): the level of the kTLS options.
pub(crate) const SOL_TLS: libc::c_int = 282;
/// `TLS_TX` (linux/tls.h): the keys the kernel encrypts with.
pub(crate) const TLS_TX: libc::c_int = 1;
/// `TLS_RX` (linux/tls.h): the keys the kernel decrypts with.
pub(crate) const TLS_RX: libc::c_int = 2;

/// Which way a [`CryptoInfo`] works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Tx,
    Rx,
}

/// `setsockopt(IPPROTO_TCP, TCP_ULP, "tls")`. Until keys are set the socket
/// sends and receives as before, so a failure here leaves it untouched.
pub(crate) fn set_tls_ulp(fd: BorrowedFd<'_>) -> io::Result<()> {
    const NAME: &[u8] = b"tls";
    // SAFETY: NAME is a live buffer of the length given; the kernel reads it only
    // during the call; `fd` is borrowed for the call.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            TCP_ULP,
            NAME.as_ptr().cast(),
            NAME.len() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `setsockopt(SOL_TLS, TLS_TX | TLS_RX, crypto_info)`.
pub(crate) fn set_keys(fd: BorrowedFd<'_>, dir: Direction, info: &CryptoInfo) -> io::Result<()> {
    let name = match dir {
        Direction::Tx => TLS_TX,
        Direction::Rx => TLS_RX,
    };
    let (ptr, len) = info.as_sockopt();
    // SAFETY: `ptr` and `len` are the address and size of a #[repr(C)] struct
    // borrowed from `info` for the call, laid out as the kernel's crypto_info
    // (checked by the layout tests); the kernel copies it during the call; `fd` is
    // borrowed for the call.
    let r = unsafe { libc::setsockopt(fd.as_raw_fd(), SOL_TLS, name, ptr, len) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;

    use rustls::{ConnectionTrafficSecrets, ProtocolVersion};

    use super::*;
    use crate::ktls::KtlsSupport;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    fn info() -> CryptoInfo {
        let secrets = ConnectionTrafficSecrets::Aes256Gcm {
            key: [7u8; 32].into(),
            iv: [9u8; 12].into(),
        };
        CryptoInfo::new(ProtocolVersion::TLSv1_3, 0, &secrets).unwrap()
    }

    #[test]
    fn the_ulp_is_refused_exactly_where_the_kernel_lacks_it() {
        let (a, _b) = pair();
        let r = set_tls_ulp(a.as_fd());
        match KtlsSupport::detect() {
            KtlsSupport::Available => r.unwrap(),
            _ => {
                // ENOENT: no such ULP (the module is absent).
                let e = r.unwrap_err();
                assert_eq!(e.raw_os_error(), Some(libc::ENOENT), "{e}");
            }
        }
    }

    #[test]
    fn keys_without_the_ulp_are_refused_and_the_socket_still_works() {
        use std::io::{Read, Write};
        let (mut a, mut b) = pair();
        // SOL_TLS options exist only once the tls ULP is attached.
        let e = set_keys(a.as_fd(), Direction::Tx, &info()).unwrap_err();
        assert!(e.raw_os_error().is_some());
        let e = set_keys(a.as_fd(), Direction::Rx, &info()).unwrap_err();
        assert!(e.raw_os_error().is_some());
        a.write_all(b"still plain").unwrap();
        let mut got = [0u8; 11];
        b.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"still plain");
    }

    #[test]
    fn on_a_kernel_with_the_ulp_both_directions_take_keys() {
        if KtlsSupport::detect() != KtlsSupport::Available {
            eprintln!(
                "SKIPPED: this kernel offers no tls ULP ({}); setting TLS_TX/TLS_RX on a \
                 socket runs only where it does (not a missing tool: CI=true skips too)",
                crate::AVAILABLE_ULP_PATH
            );
            return;
        }
        let (a, _b) = pair();
        set_tls_ulp(a.as_fd()).unwrap();
        set_keys(a.as_fd(), Direction::Tx, &info()).unwrap();
        set_keys(a.as_fd(), Direction::Rx, &info()).unwrap();
    }
}
