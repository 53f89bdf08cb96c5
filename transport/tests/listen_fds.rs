//! systemd socket activation without systemd: `sh` puts a listening socket at
//! descriptor 3 and sets `LISTEN_FDS`/`LISTEN_PID` (its own pid, which `exec`
//! keeps) before running this test binary again, which takes the socket with
//! `listen_fds` and serves on it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_transport::ServerBootstrap;
use seine_transport::listen_fds::listen_fds;

const CHILD: &str = "SEINE_LISTEN_FDS_CHILD";
const NAME: &str = "takes_and_serves_the_socket_passed_as_descriptor_3";

struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.write_void(msg);
    }
}

#[test]
fn takes_and_serves_the_socket_passed_as_descriptor_3() {
    if let Ok(addr) = std::env::var(CHILD) {
        return child(addr.parse().unwrap());
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Inherited across exec.
    nix::fcntl::fcntl(
        &listener,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .unwrap();
    let status = Command::new("sh")
        .args([
            "-c",
            "exec 3<&\"$1\"; shift; export LISTEN_FDS=1 LISTEN_PID=$$; exec \"$@\"",
            "sh",
            &listener.as_raw_fd().to_string(),
        ])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads", "1"])
        .env(CHILD, addr.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "the child failed: {status}");
}

fn child(expected: SocketAddr) {
    let mut socks = listen_fds().unwrap();
    assert_eq!(socks.len(), 1);
    assert_eq!(socks[0].local_addr().unwrap().as_socket(), Some(expected));
    // Taken once: a second call finds nothing.
    assert!(listen_fds().unwrap().is_empty());
    let server = ServerBootstrap::new()
        .child_handler(|p| p.add_last("echo", Handler::inbound(Echo)).map(|_| ()))
        .serve_listener(socks.pop().unwrap())
        .unwrap();
    assert_eq!(server.local_addr().unwrap(), expected);
    let mut c = TcpStream::connect(expected).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(b"activated").unwrap();
    let mut back = [0u8; 9];
    c.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"activated");
    assert_eq!(
        server.shutdown_gracefully_blocking(Duration::from_secs(5)),
        0
    );
}
