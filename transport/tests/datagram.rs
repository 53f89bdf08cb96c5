//! Datagram channels end to end over loopback: echo through the pipeline, batched
//! receives, GSO replies, drops counted, connected channels, IPv6, SO_REUSEPORT.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seine_buffer::Bytes;
use seine_channel::DatagramPacket;
use seine_channel::prelude::*;
use seine_transport::{DatagramBootstrap, DatagramEndpoint, DatagramOptions, EventLoopGroup};

/// Sends every datagram back to its sender.
struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = DatagramPacket;
    type Fire = DatagramPacket;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, DatagramPacket>, msg: DatagramPacket) {
        ctx.write(msg.reply(msg.content.clone()));
    }
}

/// Passes every datagram on and records it.
struct Record(Arc<Mutex<Vec<DatagramPacket>>>);
impl ChannelHandler for Record {}
impl InboundHandler for Record {
    type Read = DatagramPacket;
    type Fire = DatagramPacket;
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, DatagramPacket>, msg: DatagramPacket) {
        self.0.lock().unwrap().push(msg);
    }
}

fn echo(group: &EventLoopGroup, addr: &str, opts: DatagramOptions) -> DatagramEndpoint {
    DatagramBootstrap::new()
        .group(group)
        .options(opts)
        .handler(|p| {
            p.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind(addr)
        .unwrap()
}

fn client(addr: &str) -> UdpSocket {
    let c = UdpSocket::bind(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

/// Closes `endpoints`, then the loops, each with a second's grace.
fn stop<const N: usize>(group: &EventLoopGroup, endpoints: [&DatagramEndpoint; N]) {
    for ep in endpoints {
        ep.shutdown_gracefully_blocking(Duration::from_secs(1));
    }
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
}

/// Receives `n` datagrams, returning them in order.
fn recv_n(c: &UdpSocket, n: usize) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 70_000];
    (0..n)
        .map(|_| {
            let (k, _) = c.recv_from(&mut buf).expect("an answer within the timeout");
            buf[..k].to_vec()
        })
        .collect()
}

#[test]
fn datagrams_are_echoed_to_their_senders() {
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo(&group, "127.0.0.1:0", DatagramOptions::default());
    let (a, b) = (client("127.0.0.1:0"), client("127.0.0.1:0"));
    a.send_to(b"from a", server.local_addr()).unwrap();
    b.send_to(b"from b", server.local_addr()).unwrap();
    assert_eq!(recv_n(&a, 1), [b"from a".to_vec()]);
    assert_eq!(recv_n(&b, 1), [b"from b".to_vec()]);
    // The counters are stored just after the send returns: wait for them.
    let mut m = server.metrics();
    for _ in 0..1000 {
        if m.sent == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
        m = server.metrics();
    }
    assert_eq!((m.received, m.sent, m.dropped()), (2, 2, 0));
    stop(&group, [&server]);
}

#[test]
fn a_burst_is_received_in_batches_and_answered_in_order() {
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo(&group, "127.0.0.1:0", DatagramOptions::default());
    let c = client("127.0.0.1:0");
    socket2::SockRef::from(&c)
        .set_recv_buffer_size(4 << 20)
        .unwrap();
    // Windows of 64 (the kernel's default receive buffer holds about 200 small
    // datagrams; more would be dropped, and counted, before the server reads).
    let n = 512;
    for w in 0..n / 64 {
        for i in w * 64..(w + 1) * 64 {
            c.send_to(format!("{i:08}").as_bytes(), server.local_addr())
                .unwrap();
        }
        let got = recv_n(&c, 64);
        for (k, d) in got.iter().enumerate() {
            assert_eq!(d, format!("{:08}", w * 64 + k).as_bytes());
        }
    }
    let m = server.metrics();
    assert_eq!(m.received, n as u64);
    assert!(m.recv_calls <= m.received, "{m}");
    assert_eq!(m.dropped(), 0, "{m}");
    stop(&group, [&server]);
}

#[test]
fn replies_to_one_peer_leave_as_gso_messages_where_the_kernel_has_it() {
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo(&group, "127.0.0.1:0", DatagramOptions::default());
    let c = client("127.0.0.1:0");
    socket2::SockRef::from(&c)
        .set_recv_buffer_size(4 << 20)
        .unwrap();
    let n = 2048;
    for _ in 0..n / 64 {
        for _ in 0..64 {
            c.send_to(&[9u8; 64], server.local_addr()).unwrap();
        }
        let got = recv_n(&c, 64);
        assert!(got.iter().all(|d| d == &[9u8; 64]), "GSO cuts at 64 bytes");
    }
    let m = server.metrics();
    eprintln!("{}; {m}", server.path());
    if server.path().gso {
        // Unless every read happened to take a single datagram, some replies
        // left together; the sends stay well under one per datagram.
        assert!(m.send_calls < n as u64, "{m}");
    } else {
        eprintln!("no UDP GSO on this kernel: {}", server.path());
    }
    stop(&group, [&server]);
}

#[test]
fn datagrams_the_kernel_drops_at_a_full_queue_are_counted() {
    let group = EventLoopGroup::new(1).unwrap();
    let mut opts = DatagramOptions {
        recv_buffer_size: Some(1), // the kernel's minimum: a few datagrams
        ..DatagramOptions::default()
    };
    opts.config.auto_read = false;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let server = DatagramBootstrap::new()
        .group(&group)
        .options(opts)
        .handler(move |p| {
            p.add_last("record", Handler::inbound(Record(record.clone())))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let c = client("127.0.0.1:0");
    for _ in 0..64 {
        c.send_to(&[7u8; 1000], server.local_addr()).unwrap();
    }
    server.channel().set_auto_read(true);
    // Bounded wait: every datagram is received or counted as dropped.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let m = loop {
        let m = server.metrics();
        if m.received + m.dropped_kernel >= 64 {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "received + dropped_kernel never reached 64: {m}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(m.received + m.dropped_kernel, 64, "{m}");
    assert!(m.dropped_kernel > 0, "a tiny queue overflows: {m}");
    assert_eq!(seen.lock().unwrap().len() as u64, m.received);
    stop(&group, [&server]);
}

#[test]
fn a_datagram_longer_than_the_maximum_is_dropped_and_counted() {
    let group = EventLoopGroup::new(1).unwrap();
    let opts = DatagramOptions {
        max_datagram_size: 512,
        ..DatagramOptions::default()
    };
    let server = echo(&group, "127.0.0.1:0", opts);
    let c = client("127.0.0.1:0");
    c.send_to(&vec![1u8; 65_507], server.local_addr()).unwrap();
    c.send_to(b"small", server.local_addr()).unwrap();
    assert_eq!(recv_n(&c, 1), [b"small".to_vec()]);
    let m = server.metrics();
    assert_eq!((m.dropped_truncated, m.received), (1, 1), "{m}");
    stop(&group, [&server]);
}

#[test]
fn a_maximum_size_datagram_passes_whole_when_allowed() {
    let group = EventLoopGroup::new(1).unwrap();
    let opts = DatagramOptions {
        max_datagram_size: 65_535,
        batch: 4,
        ..DatagramOptions::default()
    };
    let server = echo(&group, "127.0.0.1:0", opts);
    let c = client("127.0.0.1:0");
    socket2::SockRef::from(&c)
        .set_recv_buffer_size(1 << 20)
        .unwrap();
    let big: Vec<u8> = (0..65_507u32).map(|i| i as u8).collect();
    c.send_to(&big, server.local_addr()).unwrap();
    assert_eq!(recv_n(&c, 1), [big]);
    stop(&group, [&server]);
}

#[test]
fn a_connected_channel_sends_plain_bytes_and_hears_only_its_peer() {
    let group = EventLoopGroup::new(1).unwrap();
    let peer = client("127.0.0.1:0");
    let stranger = client("127.0.0.1:0");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rec = seen.clone();
    let ep = DatagramBootstrap::new()
        .group(&group)
        .handler(move |p| {
            p.add_last("record", Handler::inbound(Record(rec.clone())))?;
            Ok(())
        })
        .connect(peer.local_addr().unwrap())
        .unwrap();
    assert_eq!(ep.peer_addr(), Some(peer.local_addr().unwrap()));
    // Plain bytes go to the peer.
    let done = ep.channel().write_and_flush(Bytes::from_static(b"hello"));
    assert_eq!(recv_n(&peer, 1), [b"hello".to_vec()]);
    let to = SocketAddr::from((Ipv4Addr::LOCALHOST, ep.local_addr().port()));
    stranger.send_to(b"not you", to).unwrap();
    peer.send_to(b"reply", to).unwrap();
    for _ in 0..1000 {
        if !seen.lock().unwrap().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(&seen[0].content[..], b"reply");
    assert_eq!(seen[0].sender, Some(peer.local_addr().unwrap()));
    drop(seen);
    drop(done);
    stop(&group, [&ep]);
}

#[test]
fn ipv6_datagrams_are_echoed() {
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo(&group, "[::1]:0", DatagramOptions::default());
    let c = client("[::1]:0");
    c.send_to(b"six", server.local_addr()).unwrap();
    assert_eq!(recv_n(&c, 1), [b"six".to_vec()]);
    stop(&group, [&server]);
}

#[test]
fn reuse_port_opens_one_socket_per_loop_and_all_of_them_answer() {
    let group = EventLoopGroup::new(2).unwrap();
    let server = echo(&group, "127.0.0.1:0", DatagramOptions::default());
    assert_eq!(server.channels().len(), 2);
    // Many senders: the kernel hashes them over both sockets.
    let clients: Vec<UdpSocket> = (0..16).map(|_| client("127.0.0.1:0")).collect();
    for (i, c) in clients.iter().enumerate() {
        c.send_to(&[i as u8], server.local_addr()).unwrap();
    }
    for (i, c) in clients.iter().enumerate() {
        assert_eq!(recv_n(c, 1), [vec![i as u8]]);
    }
    stop(&group, [&server]);
}

#[test]
fn multicast_membership_can_be_joined_and_left() {
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo(&group, "0.0.0.0:0", DatagramOptions::default());
    let g = Ipv4Addr::new(239, 255, 42, 99);
    match server.join_multicast_v4(g, Ipv4Addr::UNSPECIFIED) {
        Ok(()) => server.leave_multicast_v4(g, Ipv4Addr::UNSPECIFIED).unwrap(),
        Err(e) => eprintln!("skipped: no multicast-capable interface here ({e})"),
    }
    // Not a multicast address: a clear error, not a panic.
    assert!(
        server
            .join_multicast_v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::UNSPECIFIED)
            .is_err()
    );
    stop(&group, [&server]);
}

#[test]
fn a_send_the_kernel_refuses_fails_alone_and_is_counted() {
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo(&group, "127.0.0.1:0", DatagramOptions::default());
    // An IPv6 destination from an IPv4 socket: EAFNOSUPPORT/EINVAL for that one.
    let bad = server.channel().write_and_flush(DatagramPacket::new(
        Bytes::from_static(b"x"),
        "[::1]:9".parse().unwrap(),
    ));
    let c = client("127.0.0.1:0");
    let good = server.channel().write_and_flush(DatagramPacket::new(
        Bytes::from_static(b"y"),
        c.local_addr().unwrap(),
    ));
    assert_eq!(recv_n(&c, 1), [b"y".to_vec()]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert!(rt.block_on(bad).is_err());
    assert!(rt.block_on(good).is_ok());
    assert_eq!(server.metrics().dropped_send_failed, 1);
    assert!(
        server.channel().is_active(),
        "one bad datagram does not close the channel"
    );
    stop(&group, [&server]);
}

#[test]
fn gro_on_the_receiver_splits_a_gso_burst_back_into_datagrams() {
    let group = EventLoopGroup::new(1).unwrap();
    let opts = DatagramOptions {
        gro: true,
        batch: 4,
        ..DatagramOptions::default()
    };
    let server = echo(&group, "127.0.0.1:0", opts);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rec = seen.clone();
    let client = DatagramBootstrap::new()
        .group(&group)
        .handler(move |p| {
            p.add_last("record", Handler::inbound(Record(rec.clone())))?;
            Ok(())
        })
        .connect(server.local_addr())
        .unwrap();
    // Ten equal datagrams written, then one flush: one GSO message where the kernel
    // has it, which a GRO receiver gets as one buffer.
    for i in 0..10u8 {
        client.channel().write(Bytes::from(vec![i; 100]));
    }
    client.channel().flush();
    for _ in 0..2000 {
        if seen.lock().unwrap().len() == 10 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let got: Vec<Vec<u8>> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|d| d.content.to_vec())
        .collect();
    let want: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 100]).collect();
    assert_eq!(got, want, "each datagram whole and in order");
    let (path, m) = (server.path(), server.metrics());
    eprintln!("{path}; server {m}; client {}", client.metrics());
    assert_eq!(m.received, 10, "{m}");
    if path.gro && client.path().gso {
        assert!(
            m.gro_messages >= 1,
            "a GSO burst reached a GRO socket whole: {m}"
        );
    }
    stop(&group, [&client, &server]);
}

/// Answers each datagram from a timer set when it arrives, not from the read.
struct Delayed {
    held: Vec<DatagramPacket>,
}
impl ChannelHandler for Delayed {
    fn timer_fired(&mut self, ctx: &mut Context<'_>, _key: u64) {
        for msg in self.held.drain(..) {
            ctx.write_void(msg.reply(msg.content.clone()));
        }
        ctx.flush();
    }
}
impl InboundHandler for Delayed {
    type Read = DatagramPacket;
    type Fire = DatagramPacket;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, DatagramPacket>, msg: DatagramPacket) {
        self.held.push(msg);
        ctx.set_timer_after(1, Duration::from_millis(20));
    }
}

#[test]
fn handler_timers_fire_on_datagram_channels() {
    let group = EventLoopGroup::new(1).unwrap();
    let server = DatagramBootstrap::new()
        .group(&group)
        .handler(|p| {
            p.add_last("delayed", Handler::inbound(Delayed { held: Vec::new() }))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let c = client("127.0.0.1:0");
    c.send_to(b"later", server.local_addr()).unwrap();
    assert_eq!(recv_n(&c, 1), [b"later".to_vec()]);
}
