//! Datagram channels against Python's socket module (a client we did not write):
//! multicast and IPv6. `#[ignore]`d: `cargo test -- --ignored` (needs python3).
//! The multicast test skips, saying so, where no interface can join a group.

use std::net::{Ipv4Addr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use seine_channel::DatagramPacket;
use seine_channel::prelude::*;
use seine_transport::{DatagramBootstrap, DatagramEndpoint, DatagramOptions, EventLoopGroup};

/// Answers every datagram with "echo:" and its content, to its sender.
struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = DatagramPacket;
    type Fire = DatagramPacket;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, DatagramPacket>, msg: DatagramPacket) {
        let mut v = b"echo:".to_vec();
        v.extend_from_slice(&msg.content);
        ctx.write(msg.reply(seine_buffer::Bytes::from(v)));
    }
}

fn echo(group: &EventLoopGroup, addr: &str) -> DatagramEndpoint {
    DatagramBootstrap::new()
        .group(group)
        .options(DatagramOptions::default())
        .handler(|p| {
            p.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind(addr)
        .unwrap()
}

fn python(script: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs (apt-get install python3)");
    assert!(out.status.success(), "python failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "needs python3"]
fn python_reaches_a_channel_through_a_multicast_group() {
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo(&group, "0.0.0.0:0");
    let g = Ipv4Addr::new(239, 255, 77, 1);
    if let Err(e) = server.join_multicast_v4(g, Ipv4Addr::UNSPECIFIED) {
        eprintln!("skipped: no multicast-capable interface can join {g} here ({e})");
        return;
    }
    let script = format!(
        "import socket\n\
         s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)\n\
         s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)\n\
         s.settimeout(2)\n\
         for i in range(5):\n\
         \x20   s.sendto(b'hello group', ('{g}', {port}))\n\
         \x20   try:\n\
         \x20       data, addr = s.recvfrom(100)\n\
         \x20       print(data.decode())\n\
         \x20       break\n\
         \x20   except socket.timeout:\n\
         \x20       pass\n\
         else:\n\
         \x20   print('no answer')\n",
        port = server.local_addr().port()
    );
    let out = python(&script);
    if out.trim() == "no answer" {
        eprintln!("skipped: the group joined but loopback multicast did not arrive here");
    } else {
        assert_eq!(out.trim(), "echo:hello group");
        assert!(server.metrics().received >= 1);
    }
    // After leaving, the channel no longer hears the group.
    server.leave_multicast_v4(g, Ipv4Addr::UNSPECIFIED).unwrap();
    let before = server.metrics().received;
    let s = UdpSocket::bind("0.0.0.0:0").unwrap();
    s.set_multicast_loop_v4(true).unwrap();
    let _ = s.send_to(b"after leave", (g, server.local_addr().port()));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.metrics().received,
        before,
        "nothing after leaving the group"
    );
    server.shutdown_gracefully_blocking(Duration::from_secs(1));
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
}

#[test]
#[ignore = "needs python3"]
fn python_talks_to_a_channel_over_ipv6() {
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo(&group, "[::1]:0");
    let script = format!(
        "import socket\n\
         s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n\
         s.settimeout(10)\n\
         s.sendto(b'six', ('::1', {port}))\n\
         data, addr = s.recvfrom(100)\n\
         print(data.decode(), addr[0])\n",
        port = server.local_addr().port()
    );
    assert_eq!(python(&script).trim(), "echo:six ::1");
    server.shutdown_gracefully_blocking(Duration::from_secs(1));
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
}
