//! A static file server: GET and HEAD for the files under a directory, sent with
//! `sendfile(2)` (the bytes never enter user space); optionally PUT.
//!
//! ```text
//! cargo run --release --example http_file_server -- --root /srv/www --addr 127.0.0.1:8080
//! curl -O http://127.0.0.1:8080/big.iso
//! curl -r 0-99 http://127.0.0.1:8080/big.iso        # 206 Partial Content
//! curl -r 0-9,100-109 http://127.0.0.1:8080/big.iso  # multipart/byteranges
//! cargo run --release --example http_file_server -- --help
//! ```
//!
//! The serving is `seine::handler::StaticFiles` (see its docs): types from
//! `mime_guess`, `Last-Modified` and `ETag`, conditional requests, ranges (several
//! as `multipart/byteranges`), directory listings, files opened beneath the root
//! with `openat2(RESOLVE_BENEATH)`. `open`, `stat` and `readdir` run on the event
//! loop, as nginx runs them (4 KiB files from the page cache: 1.6x the requests/s
//! of handing each to a thread); `--fs-off-loop` moves them to blocking-work
//! threads (`spawn_blocking`), so that a slow disk or a network file system stalls
//! one request, not every connection of a loop. With `--allow-put` it
//! stores `PUT` bodies under the root, streamed to disk through a temporary file
//! renamed at the end (`--max-body` bounds them: 413 as soon as the head is read,
//! instead of `100 Continue`). This file is the connection policy around it:
//!
//! * Connections, on `seine::handler`: keep-alive (from `HttpServerCodec`). A
//!   connection that has not completed a request head `--header-timeout` seconds
//!   after it opened or after its previous response, however many bytes trickle
//!   in, is closed (nginx's `client_header_timeout`; a slowloris peer); one idle
//!   `--idle-timeout` seconds between requests too. A response of which the kernel
//!   accepted no byte for `--send-timeout` seconds closes the connection (nginx's
//!   `send_timeout`; an `IdleStateHandler` observing output), with a reset when
//!   `--send-timeout-reset` is given, so the kernel frees the unsent data at once.
//!   Pipelined requests are held by a `FlowControlHandler` (auto-read off) and
//!   answered one at a time while the connection is writable: a peer that
//!   pipelines thousands of requests in one write and never reads holds one or
//!   two open files, not thousands. `--limit-rate RATE` (bytes per second, `k` and
//!   `m` suffixes) paces each connection's responses, files included
//!   (`TrafficShapingHandler`, nginx's `limit_rate`).
//! * Behind a load balancer: `--proxy-protocol` requires a PROXY protocol header
//!   (v1 or v2, as HAProxy's `send-proxy-v2` sends) within `--header-timeout`
//!   seconds, and logs the client address it carries; health checks that connect
//!   and close, with or without a LOCAL header, pass quietly. `--access-log PATH`
//!   writes one line per request when its response has been sent (client, date,
//!   request line, status, body bytes, seconds). `--metrics-addr HOST:PORT` serves
//!   Prometheus metrics at `/metrics`.
//! * Shutdown: on SIGTERM or SIGINT the server stops accepting, serves what waits
//!   in the listen backlog, closes idle keep-alive connections, answers requests in
//!   progress with `Connection: close`, lets downloads finish, and closes what is
//!   left after `--shutdown-grace` seconds (default 30). Under systemd socket
//!   activation it serves the socket it is given (`LISTEN_FDS`).

use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use seine::channel::{ChannelError, Pipeline};
use seine::codec::http::{
    HttpRequest, HttpRequestDecoder, HttpRequestPart, HttpResponse, HttpServerCodec,
};
use seine::handler::{
    CloseMode, FlowControlHandler, IdleState, IdleStateEvent, IdleStateHandler, Rate,
    RequestReceived, Served, StaticFiles, TrafficShapingHandler,
};
use seine::prelude::*;
use support::access_log::{AccessLog, Entry};
use support::metrics::{CountErrors, ErrorCounts};

mod support;

struct Config {
    header_timeout: Duration,
    send_close: CloseMode,
}

/// The connection's policy around `StaticFiles` (which answers the requests):
/// asks for the next request (from the `FlowControlHandler`) only once the
/// previous one is answered and the connection is writable, times request heads
/// and idle connections, and logs each response once it is sent.
struct Connection<M> {
    config: Arc<Config>,
    /// Where each request is logged once its response is sent (`--access-log`).
    log: Option<AccessLog>,
    /// Writability came back: ask for the next request then.
    waiting_to_send: bool,
    /// Bytes read when the header timer was set (to tell a quiet keep-alive
    /// connection from a slow request head).
    read_at_header_timer: u64,
    /// What it reads: whole requests, or parts with `--allow-put`.
    _read: PhantomData<fn(M)>,
}

/// The key of the header timer.
const HEADER: u64 = 0;

impl<M> Connection<M> {
    /// Asks for the next request; it must be complete within the header timeout.
    fn next_request(&mut self, ctx: &mut Context<'_>) {
        self.waiting_to_send = false;
        self.read_at_header_timer = ctx.channel().metrics().snapshot().bytes_read;
        ctx.set_timer_after(HEADER, self.config.header_timeout);
        ctx.read();
    }

    fn served(&mut self, ctx: &mut Context<'_>, served: Served) {
        if let Some(log) = &self.log {
            let entry = Entry {
                client: AccessLog::client_of(ctx),
                request_line: AccessLog::request_line(&served.request),
                status: served.status,
                bytes: served.body_bytes,
                started: served.received,
            };
            log.after(ctx, served.written, entry);
        }
        if ctx.is_writable() {
            self.next_request(ctx);
        } else {
            self.waiting_to_send = true;
        }
    }
}

impl<M: 'static> ChannelHandler for Connection<M> {
    fn timer_fired(&mut self, ctx: &mut Context<'_>, _key: u64) {
        let read = ctx.channel().metrics().snapshot().bytes_read;
        if read == self.read_at_header_timer && self.read_at_header_timer > 0 {
            // Quiet between requests: that is the keep-alive idle timeout's
            // business; watch for a request head starting later.
            return self.next_request(ctx);
        }
        tracing::debug!("request head not complete in time: closing");
        ctx.close_now();
    }
}

impl<M: 'static> InboundHandler for Connection<M> {
    type Read = M;
    type Fire = M;

    fn channel_active(&mut self, ctx: &mut InboundContext<'_, M>) {
        self.next_request(ctx);
        ctx.fire_active();
    }

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, M>, req: M) {
        ctx.fire_read(req); // StaticFiles answers every request: never reached
    }

    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, M>) {
        if ctx.is_writable() && self.waiting_to_send {
            self.next_request(ctx);
        }
        ctx.fire_writability_changed();
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, M>, event: UserEvent) {
        if event.is::<RequestReceived>() {
            // A whole head arrived; the header timer is set again for the next.
            ctx.cancel_timer(HEADER);
            return;
        }
        let event = match event.downcast::<Served>() {
            Ok(served) => return self.served(ctx, served),
            Err(other) => other,
        };
        let Some(idle) = event.downcast_ref::<IdleStateEvent>() else {
            return ctx.fire_user_event(event);
        };
        let pending = ctx.pending_outbound_bytes() > 0;
        match idle.state {
            // `--send-timeout`: no byte of a pending response sent for that long.
            IdleState::WriterIdle if pending => self.config.send_close.close(ctx),
            // `--idle-timeout`: nothing read or sent between requests.
            IdleState::AllIdle if !pending => ctx.close(),
            _ => {}
        }
    }
}

/// A static file server: GET and HEAD for the files under a directory, sent with
/// sendfile(2); Range, conditional requests, keep-alive.
#[derive(clap::Parser)]
#[command(name = "http_file_server", version, args_override_self = true)]
struct Args {
    #[command(flatten)]
    server: support::ServerArgs<8080>,

    /// Directory to serve.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,

    /// Seconds a connection has to complete a request head, after it opened or
    /// after its previous response, however slowly bytes trickle in.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    header_timeout: u64,

    /// Seconds a connection may stay idle between requests before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    idle_timeout: u64,

    /// Seconds a pending response may go without the kernel accepting a byte of
    /// it before the connection is closed.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    send_timeout: u64,

    /// Close a connection that hit the send timeout with a reset (the kernel
    /// frees its unsent data at once) rather than a FIN.
    #[arg(long)]
    send_timeout_reset: bool,

    /// Bytes per second sent to each connection, with an optional k or m suffix
    /// (x1024), as nginx's limit_rate; 0: no limit.
    #[arg(long, value_name = "RATE", default_value = "0")]
    limit_rate: Rate,

    #[command(flatten)]
    edge: support::edge::EdgeArgs,

    #[command(flatten)]
    tls: support::tls::TlsArgs,

    /// Append one line per request to this file when its response has been sent:
    /// client address (the PROXY protocol's when present), date, request line,
    /// status, body bytes, seconds.
    #[arg(long, value_name = "PATH")]
    access_log: Option<PathBuf>,

    /// Serve Prometheus metrics at http://HOST:PORT/metrics (off by default).
    #[arg(long, value_name = "HOST:PORT")]
    metrics_addr: Option<String>,

    /// Store the body of PUT /a/b as ROOT/a/b (directories on the way are made),
    /// streamed to disk through a temporary file renamed at the end: 201 Created
    /// or 204 No Content.
    #[arg(long)]
    allow_put: bool,

    /// Largest request body in bytes; a larger one is answered 413 as soon as its
    /// head is read (instead of 100 Continue). Default: 65536, or no limit with
    /// --allow-put.
    #[arg(long, value_name = "BYTES")]
    max_body: Option<u64>,

    /// Run open, stat, readdir and upload writes on blocking-work threads instead
    /// of the event loop: a slow disk or a network file system then stalls one
    /// request, not every connection of the loop, for two thread hand-offs per
    /// request (4 KiB files from the page cache: about 0.6x the requests/s).
    #[arg(long)]
    fs_off_loop: bool,
}

/// The serving handler, for whole requests or (uploads on) request parts.
enum Files {
    Whole(StaticFiles<HttpRequest>),
    Streaming(StaticFiles<HttpRequestPart>),
}

/// The codec, then what serves its requests `M`: flow control, the files, the
/// connection's policy, the error counts.
fn serve<M: 'static>(
    pipeline: &mut Pipeline<'_>,
    codec: Handler,
    files: &StaticFiles<M>,
    (config, log): (&Arc<Config>, &Option<AccessLog>),
    counted: &ErrorCounts,
) -> Result<(), ChannelError>
where
    StaticFiles<M>: InboundHandler<Read = M, Fire = M>,
{
    pipeline.add_last("http", codec)?;
    let flow = FlowControlHandler::<M, HttpResponse>::new();
    pipeline.add_last("flow", Handler::duplex(flow))?;
    pipeline.add_last("files", Handler::inbound(files.clone()))?;
    let connection = Connection::<M> {
        config: config.clone(),
        log: log.clone(),
        waiting_to_send: false,
        read_at_header_timer: 0,
        _read: PhantomData,
    };
    pipeline.add_last("connection", Handler::inbound(connection))?;
    let count = CountErrors::<M>::new(counted.clone());
    pipeline.add_last("errors", Handler::inbound(count))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = support::start();
    let tls = args.tls.config(&["http/1.1"])?;
    let signals = seine::transport::ShutdownSignals::install()?;
    let files = StaticFiles::builder(&args.root)
        .allow_put(args.allow_put)
        .off_loop(args.fs_off_loop);
    // Uploads stream to disk: the codec then fires request parts.
    let files = match args.allow_put {
        true => Files::Streaming(files.build_streaming()?),
        false => Files::Whole(files.build()?),
    };
    let config = Arc::new(Config {
        header_timeout: Duration::from_secs(args.header_timeout),
        send_close: match args.send_timeout_reset {
            true => CloseMode::Reset,
            false => CloseMode::Fin,
        },
    });
    let idle = IdleStateHandler::new()
        .all_idle(Duration::from_secs(args.idle_timeout))
        .writer_idle(Duration::from_secs(args.send_timeout))
        .observe_output(true);
    let limit_rate = args.limit_rate;
    let log = args
        .access_log
        .as_deref()
        .map(AccessLog::open)
        .transpose()?;
    let errors = ErrorCounts::default();
    let counted = errors.clone();
    let edge = args.edge.clone();

    // GET and HEAD carry no body worth buffering; uploads any size by default.
    let max_body = match (args.max_body, args.allow_put) {
        (Some(max), _) => max,
        (None, true) => u64::MAX,
        (None, false) => 64 * 1024,
    };
    let decoder = HttpRequestDecoder::builder()
        .max_body_length(usize::try_from(max_body).unwrap_or(usize::MAX))
        .build()?;
    // Requests are read when the handler asks (FlowControlHandler).
    let mut options = ChannelOptions::default();
    options.config.auto_read = false;

    let group = EventLoopGroup::new(args.server.threads())?;
    let server = ServerBootstrap::new()
        .group(&group)
        .child_options(options)
        .child_handler(move |pipeline| {
            pipeline.add_last("idle", Handler::duplex(idle.clone()))?;
            if !limit_rate.is_unlimited() {
                let shaper = TrafficShapingHandler::per_channel(Rate::UNLIMITED, limit_rate);
                pipeline.add_last("limit-rate", Handler::duplex(shaper))?;
            }
            support::tls::add_first(pipeline, &tls)?;
            // The PROXY header precedes the TLS handshake on the wire.
            if let Some(proxy) = edge.proxy_decoder(config.header_timeout) {
                pipeline.add_first("proxy", proxy.into())?;
            }
            let connection = (&config, &log);
            match &files {
                Files::Whole(files) => {
                    let codec = HttpServerCodec::with_decoder(decoder.clone());
                    serve(pipeline, codec.into(), files, connection, &counted)?;
                }
                Files::Streaming(files) => {
                    let codec = HttpServerCodec::streaming(decoder.clone());
                    serve(pipeline, codec.into(), files, connection, &counted)?;
                }
            }
            Ok(())
        })
        .bind_activated_or(&args.server.addr)?;
    let metrics = match &args.metrics_addr {
        Some(addr) => {
            let registry = support::metrics::registry(&server, &errors);
            Some(support::metrics::serve(&group, addr, registry)?)
        }
        None => None,
    };
    support::announce(server.local_addr()?)?;
    if let Some(m) = &metrics {
        println!("metrics on {}", m.local_addr()?);
        std::io::Write::flush(&mut std::io::stdout())?;
    }

    let outcome = signals.run_until_signal(&server, args.edge.grace());
    eprintln!("{outcome}");
    if let Some(m) = metrics {
        m.shutdown_gracefully_blocking(Duration::from_secs(1));
    }
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
    Ok(())
}
