//! `splice_bidirectional` as a 127.0.0.1 proxy in front of plain tokio servers:
//! bulk data both ways at once, half-close in each direction, backpressure, and a
//! reset ending both directions.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use seine_transport::splice::{
    splice_bidirectional, splice_bidirectional_with_idle_timeout, splice_supported,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(120);

/// A proxy for one connection: accepts a client, connects to `backend`, splices.
async fn proxy(backend: SocketAddr) -> (SocketAddr, JoinHandle<io::Result<(u64, u64)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (client, _) = listener.accept().await?;
        let upstream = TcpStream::connect(backend).await?;
        splice_bidirectional(client, upstream).await
    });
    (addr, task)
}

/// A plain tokio echo server for one connection: copies until EOF, then shuts
/// down its write side.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (mut r, mut w) = stream.into_split();
        tokio::io::copy(&mut r, &mut w).await.unwrap();
        w.shutdown().await.unwrap();
    });
    addr
}

/// A server for one connection that reads nothing until the returned sender is
/// used (or dropped), then closes.
async fn silent_server() -> (SocketAddr, tokio::sync::oneshot::Sender<()>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let _ = released.await; // holds the connection, reads nothing
        drop(s);
    });
    (addr, release, server)
}

/// Writes until a write stalls for `stall` (at most 1 GiB); returns the bytes
/// written.
async fn write_until_stalled(client: &mut TcpStream, stall: Duration) -> usize {
    let buf = vec![7u8; 64 << 10];
    let mut written = 0usize;
    while written < 1 << 30 {
        match timeout(stall, client.write(&buf)).await {
            Ok(n) => written += n.unwrap(),
            Err(_) => break,
        }
    }
    written
}

/// Pseudo-random bytes (xorshift), one block of the stream.
fn pattern(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Block `i` of the stream: the pattern rotated by `i * 4099` bytes, so lost,
/// repeated, reordered or shifted bytes all show.
fn block(pattern: &[u8], i: usize, out: &mut Vec<u8>) {
    let off = (i * 4099) % pattern.len();
    out.clear();
    out.extend_from_slice(&pattern[off..]);
    out.extend_from_slice(&pattern[..off]);
}

/// FNV-1a over the stream, 8 bytes at a time: a checksum to print and compare.
fn checksum(mut h: u64, bytes: &[u8]) -> u64 {
    for word in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..word.len()].copy_from_slice(word);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_256_mib_both_ways_concurrently() {
    assert!(splice_supported());
    const BLOCK: usize = 1 << 20;
    const BLOCKS: usize = 256;
    let (proxy_addr, proxy_task) = proxy(echo_server().await).await;
    let client = TcpStream::connect(proxy_addr).await.unwrap();
    let (mut rx, mut tx) = client.into_split();
    let pattern = std::sync::Arc::new(pattern(BLOCK));

    let writer = tokio::spawn({
        let pattern = pattern.clone();
        async move {
            let mut buf = Vec::with_capacity(BLOCK);
            let mut sum = 0xcbf2_9ce4_8422_2325;
            for i in 0..BLOCKS {
                block(&pattern, i, &mut buf);
                sum = checksum(sum, &buf);
                tx.write_all(&buf).await.unwrap();
            }
            tx.shutdown().await.unwrap();
            sum
        }
    });
    let reader = tokio::spawn(async move {
        let mut got = vec![0u8; BLOCK];
        let mut want = Vec::with_capacity(BLOCK);
        let mut sum = 0xcbf2_9ce4_8422_2325;
        for i in 0..BLOCKS {
            rx.read_exact(&mut got).await.unwrap();
            block(&pattern, i, &mut want);
            assert!(got == want, "block {i} differs");
            sum = checksum(sum, &got);
        }
        assert_eq!(rx.read(&mut got).await.unwrap(), 0, "bytes after the end");
        sum
    });

    let (sent, received, relayed) = timeout(LIMIT, async {
        let sent = writer.await.unwrap();
        let received = reader.await.unwrap();
        (sent, received, proxy_task.await.unwrap())
    })
    .await
    .expect("relay took too long");
    assert_eq!(sent, received, "checksums differ");
    let total = (BLOCK * BLOCKS) as u64;
    assert_eq!(relayed.unwrap(), (total, total));
}

#[tokio::test]
async fn client_half_close_reaches_the_server_and_the_reply_comes_back() {
    let (proxy_addr, proxy_task) = proxy(echo_server().await).await;
    let mut client = TcpStream::connect(proxy_addr).await.unwrap();
    client.write_all(b"ping").await.unwrap();
    client.shutdown().await.unwrap(); // EOF to the echo server, through the proxy
    let mut back = Vec::new();
    timeout(LIMIT, client.read_to_end(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back, b"ping");
    assert_eq!(proxy_task.await.unwrap().unwrap(), (4, 4));
}

#[tokio::test]
async fn server_half_close_leaves_the_other_direction_open() {
    // The server says hello and closes its write side first, then reads on.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"hello").await.unwrap();
        s.shutdown().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        got
    });
    let (proxy_addr, proxy_task) = proxy(backend).await;
    let mut client = TcpStream::connect(proxy_addr).await.unwrap();
    let mut hello = Vec::new();
    timeout(LIMIT, client.read_to_end(&mut hello))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hello, b"hello"); // and EOF
    client.write_all(b"late data").await.unwrap(); // still goes through
    client.shutdown().await.unwrap();
    assert_eq!(timeout(LIMIT, server).await.unwrap().unwrap(), b"late data");
    assert_eq!(proxy_task.await.unwrap().unwrap(), (9, 5));
}

#[tokio::test]
async fn a_server_that_does_not_read_stops_the_client_backpressure() {
    let (backend, stall_tx, server) = silent_server().await;
    let (proxy_addr, proxy_task) = proxy(backend).await;
    let mut client = TcpStream::connect(proxy_addr).await.unwrap();
    let written = write_until_stalled(&mut client, Duration::from_millis(500)).await;
    // Socket buffers on both sides of the proxy plus one pipe: a few MiB at most.
    assert!(
        written < 64 << 20,
        "{written} bytes accepted: no backpressure"
    );
    stall_tx.send(()).unwrap();
    server.await.unwrap();
    // The server closed with unread data (a reset) or cleanly: either way it ends.
    drop(client);
    timeout(LIMIT, proxy_task).await.unwrap().unwrap().ok();
}

#[tokio::test]
async fn a_reset_ends_both_directions_with_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4];
        let mut s = s;
        s.read_exact(&mut buf).await.unwrap();
        // Close with SO_LINGER 0: the peer gets a reset, not an end of stream.
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(s);
    });
    let (proxy_addr, proxy_task) = proxy(backend).await;
    let mut client = TcpStream::connect(proxy_addr).await.unwrap();
    client.write_all(b"boom").await.unwrap();
    let err = timeout(LIMIT, proxy_task)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
        "{err}"
    );
    // The client's side is reset too: a clean end of stream would pass a
    // truncated stream off as a complete one.
    let mut rest = Vec::new();
    let end = timeout(LIMIT, client.read_to_end(&mut rest))
        .await
        .expect("the client's connection was left open");
    assert_eq!(
        end.map_err(|e| e.kind()),
        Err(io::ErrorKind::ConnectionReset)
    );
    assert!(rest.is_empty());
}

#[tokio::test]
async fn a_client_reset_is_noticed_while_the_server_does_not_read() {
    let (backend, done_tx, _server) = silent_server().await;
    let (proxy_addr, proxy_task) = proxy(backend).await;
    let mut client = TcpStream::connect(proxy_addr).await.unwrap();
    // Fill the path until writes stall.
    write_until_stalled(&mut client, Duration::from_millis(300)).await;
    // The client goes away with a reset while the proxy waits on the server.
    socket2::SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(client);
    let err = timeout(LIMIT, proxy_task)
        .await
        .expect("the relay noticed the reset")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    let _ = done_tx.send(());
}

#[tokio::test]
async fn an_idle_relay_times_out_and_resets_both_sides() {
    let backend = echo_server().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = listener.local_addr().unwrap();
    let relay = tokio::spawn(async move {
        let (client, _) = listener.accept().await?;
        let upstream = TcpStream::connect(backend).await?;
        splice_bidirectional_with_idle_timeout(client, upstream, Duration::from_millis(200)).await
    });
    let mut client = TcpStream::connect(proxy_addr).await.unwrap();
    // Traffic first: echoed through.
    client.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    client.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"ping");
    // Then silence: the relay gives up and resets the client.
    let err = timeout(LIMIT, relay).await.unwrap().unwrap().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    let mut rest = Vec::new();
    let end = timeout(LIMIT, client.read_to_end(&mut rest)).await.unwrap();
    assert_eq!(
        end.map_err(|e| e.kind()),
        Err(io::ErrorKind::ConnectionReset)
    );
}
