//! A file of several hundred MiB sent as a `FileRegion` after a header: every
//! received byte is checked (a streaming checksum against the one computed while
//! the file was written), and the metrics show which way the body went: all by
//! sendfile when the policy forces it, all by copy when it forces that.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use seine_buffer::{Bytes, FileRegion};
use seine_channel::prelude::*;
use seine_transport::{ChannelOptions, EventLoopGroup, FilePolicy, Server, ServerBootstrap};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BLOCK: usize = 1 << 20;
const BLOCKS: usize = 320;
const HEADER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 335544320\r\n\r\n";

/// A position-dependent checksum, fed in pieces of any size.
#[derive(Default)]
struct Sum {
    h: u64,
    n: u64,
}
impl Sum {
    fn feed(&mut self, data: &[u8]) {
        for &b in data {
            self.h = (self.h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3) ^ self.n;
            self.n += 1;
        }
    }
}

/// Writes the test file (each 1 MiB block a different pseudo-random pattern);
/// returns its path and the checksum of header + file.
fn make_file() -> (tempfile::NamedTempFile, u64) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let mut sum = Sum::default();
    sum.feed(HEADER);
    let mut block = vec![0u8; BLOCK];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..BLOCKS {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        f.write_all(&block).unwrap();
        sum.feed(&block);
    }
    f.flush().unwrap();
    (f, sum.h)
}

struct Serve(PathBuf);
impl ChannelHandler for Serve {}
impl InboundHandler for Serve {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {
        ctx.write(Bytes::from_static(HEADER));
        ctx.write(FileRegion::open(&self.0).unwrap());
        ctx.close();
    }
}

fn server(group: &EventLoopGroup, path: PathBuf, policy: FilePolicy) -> Server {
    ServerBootstrap::new()
        .group(group)
        .child_options(ChannelOptions {
            file_policy: policy,
            ..ChannelOptions::default()
        })
        .child_handler(move |p| {
            p.add_last("serve", Handler::inbound(Serve(path.clone())))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap()
}

async fn download(server: &Server) -> (u64, u64) {
    let mut c = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    c.write_all(b"GET").await.unwrap();
    let mut sum = Sum::default();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = c.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        sum.feed(&buf[..n]);
    }
    (sum.n, sum.h)
}

async fn check(policy: FilePolicy) {
    let (file, want) = make_file();
    let group = EventLoopGroup::new(1).unwrap();
    let server = server(&group, file.path().to_path_buf(), policy);
    let (len, got) = tokio::time::timeout(Duration::from_secs(300), download(&server))
        .await
        .expect("download finished");
    let body = (BLOCK * BLOCKS) as u64;
    assert_eq!(len, HEADER.len() as u64 + body);
    assert_eq!(
        got, want,
        "received bytes differ from the file ({policy:?})"
    );
    let m = server.metrics().io;
    match policy {
        FilePolicy::ForceCopy => {
            assert_eq!(m.bytes_written_sendfile, 0);
            assert_eq!(m.bytes_written_copy, HEADER.len() as u64 + body);
        }
        _ => {
            assert_eq!(m.bytes_written_sendfile, body, "the body went by sendfile");
            assert_eq!(
                m.bytes_written_copy,
                HEADER.len() as u64,
                "only the header was copied"
            );
        }
    }
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_320_mib_file_after_a_header_goes_by_sendfile() {
    check(FilePolicy::ForceSendfile).await;
}

#[tokio::test]
async fn a_320_mib_file_after_a_header_goes_by_copy_when_forced() {
    check(FilePolicy::ForceCopy).await;
}
