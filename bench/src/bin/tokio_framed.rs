//! Baseline echo server, written the idiomatic tokio-util way: `Framed` +
//! `LengthDelimitedCodec` (16 MiB max frame). Per connection: await a frame, `feed` it
//! and every further frame that is already decodable, then one `flush`.
//!
//! `tokio_framed [--addr HOST:PORT] [--runtime current|multi1]`

use bytes::Bytes;
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use seine_bench::server::{MAX_FRAME, serve};

async fn echo(stream: TcpStream) -> std::io::Result<()> {
    let codec = LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_codec();
    let mut framed = Framed::new(stream, codec);
    while let Some(frame) = framed.next().await {
        framed.feed(frame?.freeze()).await?;
        // Echo everything that is already readable before paying for a flush.
        loop {
            match framed.next().now_or_never() {
                Some(Some(frame)) => framed.feed(frame?.freeze()).await?,
                Some(None) => {
                    SinkExt::<Bytes>::flush(&mut framed).await?;
                    return Ok(());
                }
                None => break,
            }
        }
        SinkExt::<Bytes>::flush(&mut framed).await?;
    }
    Ok(())
}

fn main() {
    serve("tokio_framed", echo);
}
