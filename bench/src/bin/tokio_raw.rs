//! Baseline echo server, written with plain tokio I/O: read into a `BytesMut`, find the
//! complete frames, copy them into a write `BytesMut`, one `write_all` per read.
//!
//! `tokio_raw [--addr HOST:PORT] [--runtime current|multi1]`

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use seine_bench::server::{MAX_FRAME, serve};

const READ_CHUNK: usize = 64 * 1024;

async fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut wbuf = BytesMut::with_capacity(READ_CHUNK);
    loop {
        if rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
            rbuf.reserve(READ_CHUNK);
        }
        if stream.read_buf(&mut rbuf).await? == 0 {
            return Ok(());
        }
        // Length of the prefix of `rbuf` made of complete frames.
        let mut end = 0;
        let mut missing = 0;
        while rbuf.len() - end >= 4 {
            let len = u32::from_be_bytes(rbuf[end..end + 4].try_into().unwrap()) as usize;
            if len > MAX_FRAME {
                return Err(std::io::Error::other("frame too large"));
            }
            if rbuf.len() - end < 4 + len {
                missing = 4 + len - (rbuf.len() - end);
                break;
            }
            end += 4 + len;
        }
        if end > 0 {
            wbuf.extend_from_slice(&rbuf[..end]);
            rbuf.advance(end);
            stream.write_all(&wbuf).await?;
            wbuf.clear();
        }
        // Room for the rest of a large partial frame.
        rbuf.reserve(missing);
    }
}

fn main() {
    serve("tokio_raw", echo);
}
