//! `FileRegion` writes through the TCP transport: with sendfile (the default), by
//! copy (`FilePolicy::ForceCopy`), mixed with memory buffers in order, and a file
//! truncated under a pending region failing the channel cleanly.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use common::{bounded, init_tracing, random_bytes, read_to_end};
use seine_buffer::{Bytes, FileRegion};
use seine_channel::prelude::*;
use seine_transport::{ChannelOptions, EventLoopGroup, FilePolicy, Server, ServerBootstrap};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const FILE_LEN: usize = 3 << 20;

/// On any read: header, the file (or `range` of it), trailer, then close.
struct ServeFile {
    path: PathBuf,
    range: Option<(u64, u64)>,
}
impl ChannelHandler for ServeFile {}
impl InboundHandler for ServeFile {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {
        let region = match self.range {
            Some((pos, n)) => FileRegion::open_range(&self.path, pos, n).unwrap(),
            None => FileRegion::open(&self.path).unwrap(),
        };
        ctx.write(Bytes::from_static(b"HEADER\n"));
        ctx.write(region);
        ctx.write(Bytes::from_static(b"\nTRAILER"));
        ctx.close();
    }
}

fn file_server(
    group: &EventLoopGroup,
    path: PathBuf,
    policy: FilePolicy,
    range: Option<(u64, u64)>,
) -> Server {
    ServerBootstrap::new()
        .group(group)
        .child_options(ChannelOptions {
            file_policy: policy,
            ..ChannelOptions::default()
        })
        .child_handler(move |p| {
            p.add_last(
                "file",
                Handler::inbound(ServeFile {
                    path: path.clone(),
                    range,
                }),
            )?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap()
}

fn temp_file(data: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    f.flush().unwrap();
    f
}

async fn fetch(server: &Server) -> Vec<u8> {
    let mut c = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    c.write_all(b"GET").await.unwrap();
    read_to_end(&mut c).await
}

fn expected(body: &[u8]) -> Vec<u8> {
    [&b"HEADER\n"[..], body, b"\nTRAILER"].concat()
}

async fn serve_with(policy: FilePolicy) {
    init_tracing();
    let data = random_bytes(31, FILE_LEN);
    let file = temp_file(&data);
    let group = EventLoopGroup::new(1).unwrap();
    let server = file_server(&group, file.path().to_path_buf(), policy, None);
    for _ in 0..3 {
        let got = fetch(&server).await;
        assert_eq!(got.len(), FILE_LEN + 15);
        assert!(got == expected(&data), "file bytes differ ({policy:?})");
    }
    let m = server.metrics().io;
    match policy {
        FilePolicy::ForceCopy => {
            assert_eq!(m.bytes_written_sendfile, 0);
            assert_eq!(m.bytes_written_copy, 3 * (FILE_LEN as u64 + 15));
        }
        _ => {
            assert_eq!(m.bytes_written_sendfile, 3 * FILE_LEN as u64);
            assert_eq!(m.bytes_written_copy, 3 * 15);
        }
    }
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn file_region_by_sendfile() {
    serve_with(FilePolicy::ForceSendfile).await;
}

#[tokio::test]
async fn file_region_by_copy() {
    serve_with(FilePolicy::ForceCopy).await;
}

#[tokio::test]
async fn file_region_range() {
    let data = random_bytes(32, 100_000);
    let file = temp_file(&data);
    let group = EventLoopGroup::new(1).unwrap();
    let server = file_server(
        &group,
        file.path().to_path_buf(),
        FilePolicy::Auto,
        Some((12_345, 50_000)),
    );
    let got = fetch(&server).await;
    assert!(got == expected(&data[12_345..62_345]));
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

/// Writes a region of the whole file, truncates the file, then flushes.
struct ServeTruncated {
    file: tempfile::NamedTempFile,
}
impl ChannelHandler for ServeTruncated {}
impl InboundHandler for ServeTruncated {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {
        let region = FileRegion::open(self.file.path()).unwrap();
        ctx.write(region);
        self.file.as_file().set_len(1000).unwrap();
        ctx.write(Bytes::from_static(b"never sent"));
    }
}

#[tokio::test]
async fn truncated_file_closes_the_channel() {
    init_tracing();
    for policy in [FilePolicy::ForceSendfile, FilePolicy::ForceCopy] {
        let data = random_bytes(33, 200_000);
        let group = EventLoopGroup::new(1).unwrap();
        let server = ServerBootstrap::new()
            .group(&group)
            .child_options(ChannelOptions {
                file_policy: policy,
                ..ChannelOptions::default()
            })
            .child_handler(move |p| {
                let file = temp_file(&data);
                p.add_last("file", Handler::inbound(ServeTruncated { file }))?;
                Ok(())
            })
            .bind("127.0.0.1:0")
            .unwrap();
        let got = bounded(fetch(&server)).await;
        assert_eq!(
            got.len(),
            1000,
            "{policy:?}: what the file still had, then the close"
        );
        server.shutdown_gracefully(Duration::from_secs(5)).await;
        group.shutdown_gracefully(Duration::from_secs(1)).await;
    }
}

/// "G...": a header and a file region (sent with `sendfile`); anything else:
/// "PONG". The connection stays open.
struct ServeKeepAlive {
    path: PathBuf,
}
impl ChannelHandler for ServeKeepAlive {}
impl InboundHandler for ServeKeepAlive {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        if msg.starts_with(b"G") {
            ctx.write_void(Bytes::from_static(b"HEADER\n"));
            ctx.write_void(FileRegion::open(&self.path).unwrap());
        } else {
            ctx.write_void(Bytes::from_static(b"PONG"));
        }
    }
}

/// The server's end of the connection whose peer is `client`: found among this
/// process's open descriptors by its peer address.
fn server_side_cork(client: std::net::SocketAddr) -> Option<bool> {
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: only socket options are read through the borrow; the descriptor
        // is not closed through it (SockRef never closes), and a descriptor that
        // closes meanwhile only makes these calls fail with EBADF.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&fd);
        let peer = sock.peer_addr().ok().and_then(|a| a.as_socket());
        if peer == Some(client) {
            return sock.tcp_cork().ok();
        }
    }
    None
}

/// A file body is sent corked (`TCP_CORK`, nginx's `tcp_nopush`) and the cork is
/// taken off once the file is out, so that a later small response on the same
/// connection is not held back by it.
#[tokio::test]
async fn cork_is_cleared_after_a_file_body() {
    init_tracing();
    const LEN: usize = 3 << 20; // more than one sendfile call: corked
    let data = random_bytes(34, LEN);
    let file = temp_file(&data);
    let path = file.path().to_path_buf();
    let group = EventLoopGroup::new(1).unwrap();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |p| {
            p.add_last(
                "file",
                Handler::inbound(ServeKeepAlive { path: path.clone() }),
            )?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let mut c = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    let client = c.local_addr().unwrap();
    bounded(async {
        use tokio::io::AsyncReadExt;
        for _ in 0..2 {
            c.write_all(b"GET").await.unwrap();
            let mut got = vec![0; 7 + LEN];
            c.read_exact(&mut got).await.unwrap();
            assert!(got[7..] == data[..], "file bytes differ");
            c.write_all(b"PING").await.unwrap();
            let mut pong = [0; 4];
            c.read_exact(&mut pong).await.unwrap();
            assert_eq!(&pong, b"PONG");
            // The PONG was written by a later flush than the file's last bytes, so
            // the file's flush has finished, and with it the cork.
            assert_eq!(server_side_cork(client), Some(false));
        }
    })
    .await;
    assert_eq!(server.metrics().io.bytes_written_sendfile, 2 * LEN as u64);
    drop(c);
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

/// Writes a region with a progress observer in one piece and hands the observer
/// and the write's completion to the test.
struct ServeWithProgress {
    path: PathBuf,
    out: std::sync::mpsc::Sender<(seine_buffer::Progress, Completion)>,
}
impl ChannelHandler for ServeWithProgress {}
impl InboundHandler for ServeWithProgress {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {
        let (region, progress) = FileRegion::open(&self.path).unwrap().with_progress();
        let done = ctx.write(region);
        self.out.send((progress, done)).unwrap();
        ctx.close();
    }
}

#[tokio::test]
async fn progress_reaches_the_total_when_a_region_is_written_in_one_piece() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small");
    std::fs::write(&path, random_bytes(11, 10_000)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let group = EventLoopGroup::new(1).unwrap();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |p| {
            let h = ServeWithProgress {
                path: path.clone(),
                out: tx.clone(),
            };
            p.add_last("serve", Handler::inbound(h))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    s.write_all(b"go").await.unwrap();
    let got = bounded(read_to_end(&mut s)).await;
    assert_eq!(got.len(), 10_000);
    let (progress, done) = rx.recv().unwrap();
    bounded(done).await.unwrap();
    assert_eq!(
        progress.transferred(),
        10_000,
        "progress when the write completed"
    );
    assert_eq!(progress.count(), 10_000);
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
