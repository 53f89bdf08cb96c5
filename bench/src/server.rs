//! Shared plumbing of the tokio baseline servers: options, runtime, listener, accept loop.
//! The per-connection loops live in the binaries (`tokio_framed`, `tokio_raw`), where a
//! reviewer can read them whole.

use std::future::Future;
use std::io::Write;

use tokio::net::{TcpListener, TcpStream};

use crate::args::{Args, die};

/// Largest accepted frame (16 MiB), the same for every baseline.
pub const MAX_FRAME: usize = 16 << 20;

/// Which tokio runtime a baseline server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `new_current_thread`: everything on the calling thread (the fastest one-core setup).
    Current,
    /// `new_multi_thread().worker_threads(1)`: accept loop on the main thread, connection
    /// tasks on one worker (what `#[tokio::main(worker_threads = 1)]` gives).
    Multi1,
}

fn usage(name: &str) -> String {
    format!(
        "usage: {name} [--addr HOST:PORT] [--runtime current|multi1] [--threads 1]\n\
         Length-prefixed echo server (4-byte big-endian length + payload, echoed back).\n\
         Prints `listening on ADDR` as its first stdout line. Default --addr 127.0.0.1:0."
    )
}

/// Parses the options, starts the runtime, binds, prints `listening on ADDR` and runs
/// `conn` for every accepted connection (as its own task) until killed.
pub fn serve<F, Fut>(name: &str, conn: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    let usage = usage(name);
    let args = Args::from_env(&["help"]).unwrap_or_else(|e| die(&e, &usage));
    if args.flag("help") {
        println!("{usage}");
        return;
    }
    let bad = args.unknown(&["addr", "runtime", "threads"]);
    if !bad.is_empty() {
        die(&format!("unknown option(s) {bad:?}"), &usage);
    }
    // Accepted for command-line compatibility with the seine examples: one loop only.
    if args
        .get("threads", 1usize)
        .unwrap_or_else(|e| die(&e, &usage))
        != 1
    {
        die("only --threads 1 is supported (one runtime thread)", &usage);
    }
    let addr = args.str("addr").unwrap_or("127.0.0.1:0").to_string();
    let kind = match args.str("runtime").unwrap_or("current") {
        "current" => RuntimeKind::Current,
        "multi1" => RuntimeKind::Multi1,
        other => die(&format!("unknown runtime {other:?}"), &usage),
    };
    let rt = match kind {
        RuntimeKind::Current => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        RuntimeKind::Multi1 => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build(),
    }
    .unwrap_or_else(|e| die(&format!("runtime: {e}"), &usage));
    let name = name.to_string();
    rt.block_on(async move {
        let listener = TcpListener::bind(&addr)
            .await
            .unwrap_or_else(|e| die(&format!("bind {addr}: {e}"), &usage));
        let local = listener.local_addr().expect("local_addr");
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {local}");
            let _ = out.flush();
        }
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and friends: report, back off briefly, keep serving.
                    eprintln!("{name}: accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let fut = conn(stream);
            let name = name.clone();
            tokio::spawn(async move {
                if let Err(e) = fut.await
                    && !matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                    )
                {
                    eprintln!("{name}: connection: {e}");
                }
            });
        }
    });
}
