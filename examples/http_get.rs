//! Downloads one URL to a file with seine's HTTP client codec, streaming the body
//! to disk, and resumes a partial download with `Range`.
//!
//! ```text
//! cargo run --release --example http_get -- http://127.0.0.1:8080/big.iso --output big.iso
//! cargo run --release --example http_get -- https://example.com/ --output index.html
//! cargo run --release --example http_get -- --help
//! ```
//!
//! The pipeline:
//!
//! ```text
//! [TlsHandler (https)] -> IdleStateHandler -> HttpClientCodec -> Download
//!                                             request out, response parts in
//! ```
//!
//! * **Streaming**: the body arrives as `HttpContent` parts of whatever each read
//!   brought and is written to the file as it comes; the codec's read window
//!   (256 KiB) pauses reading while parts are not yet written, so a download of any
//!   size passes through bounded memory. The file is written on the event loop
//!   (one connection, nothing else to serve).
//! * **Resume**: when `--output` already holds N > 0 bytes, the request asks for
//!   `Range: bytes=N-`. A `206` whose `Content-Range` starts at N is appended; a
//!   `200` (the server ignores ranges) rewrites the file from the start; a `416`
//!   whose `Content-Range: bytes */N` says the file is already whole ends with
//!   success. No validator is kept between runs, so a file that changed on the
//!   server between two runs is not detected: `--no-resume` starts over.
//! * **Redirects**: `301`, `302`, `303`, `307` and `308` with a `Location` are
//!   followed, up to `--max-redirects` (default 5, 0 to not follow), to `http` or
//!   `https` URLs only. Nothing else (cookies, authentication, compression) is
//!   done.
//! * **Exit status**: 0 when the file is complete; 1 for an HTTP error status (the
//!   response's body is not written); 2 for a bad command line; 3 for a
//!   connection or protocol error (a refused connection, a malformed response,
//!   a body cut short: the bytes received stay in the file, for a later resume).
//!   A line on stderr says which.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seine::codec::http::{
    HttpClientCodec, HttpClientRequest, HttpPart, HttpRequest, HttpResponseHead, HttpResponsePart,
    Method,
};
use seine::handler::{IdleStateEvent, IdleStateHandler};
use seine::prelude::*;
use seine::tls::{TlsClientConfig, TlsHandler};

mod support;

#[derive(clap::Parser)]
#[command(name = "http_get", version, args_override_self = true)]
/// Downloads URL to --output, streaming the body to disk; resumes a partial file
/// with Range.
struct Args {
    /// The http:// or https:// URL to download.
    url: url::Url,

    /// The file to write (appended to when it holds the start of the download).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: PathBuf,

    /// Start over even when --output holds part of the download.
    #[arg(long)]
    no_resume: bool,

    /// Redirects to follow (0: none; a redirect is then an error).
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_redirects: u32,

    /// Give up when nothing is received or sent for this long.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    idle_timeout: u64,

    /// Trust the CA certificates in this PEM file for https (instead of the
    /// built-in web roots).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

/// How one exchange ended.
#[derive(Debug)]
enum Outcome {
    /// The file is complete.
    Done {
        /// Body bytes received by this run.
        received: u64,
        /// Bytes in the file.
        total: u64,
    },
    /// Go there next.
    Redirect(url::Url),
    /// An HTTP status the download cannot use.
    Status(u16, String),
    /// A connection or protocol error.
    Failed(String),
}

/// What the main thread learns from the channel.
type Shared = Arc<Mutex<Option<Outcome>>>;

/// Writes the response body to the file and records the outcome.
struct Download {
    url: url::Url,
    path: PathBuf,
    /// Bytes already in the file, asked for with `Range` (0: no range asked).
    resume_from: u64,
    file: Option<File>,
    /// Bytes in the file (kept and received).
    written: u64,
    /// Body bytes received by this run.
    received: u64,
    /// What the response is used for.
    mode: Mode,
    outcome: Shared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No final head yet.
    AwaitingHead,
    /// The body goes to the file.
    Writing,
    /// The body is discarded (an error or a redirect: the outcome is set).
    Discarding,
}

impl Download {
    fn finish(&mut self, ctx: &mut InboundContext<'_, HttpResponsePart>, outcome: Outcome) {
        let mut slot = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(outcome);
        }
        drop(slot);
        ctx.close();
    }

    /// Decides what the response means; opens the file when it carries the body.
    fn head(&mut self, head: &HttpResponseHead) -> Result<Mode, Outcome> {
        let status = head.status;
        match status {
            200 | 206 => {}
            301 | 302 | 303 | 307 | 308 if head.headers.contains("location") => {
                let location = head.headers.get_str("location").unwrap_or("");
                let next = self
                    .url
                    .join(location)
                    .map_err(|e| Outcome::Failed(format!("bad Location {location:?}: {e}")))?;
                return Err(Outcome::Redirect(next));
            }
            416 if self.resume_from > 0 => {
                // `Content-Range: bytes */LENGTH`: whole already if LENGTH is ours.
                let total = head
                    .headers
                    .get_str("content-range")
                    .and_then(|v| v.trim().strip_prefix("bytes */"))
                    .and_then(|n| n.trim().parse::<u64>().ok());
                if total == Some(self.resume_from) {
                    return Err(Outcome::Done {
                        received: 0,
                        total: self.resume_from,
                    });
                }
                return Err(Outcome::Status(status, head.reason_str().into_owned()));
            }
            _ => return Err(Outcome::Status(status, head.reason_str().into_owned())),
        }
        let append = status == 206;
        if append {
            // Only the range asked for can be appended.
            let start = head
                .headers
                .get_str("content-range")
                .and_then(|v| v.trim().strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .and_then(|n| n.trim().parse::<u64>().ok());
            if self.resume_from == 0 || start != Some(self.resume_from) {
                return Err(Outcome::Failed(format!(
                    "a 206 for {:?} where bytes {}- were asked for",
                    head.headers
                        .get_str("content-range")
                        .unwrap_or("no Content-Range"),
                    self.resume_from
                )));
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&self.path)
            .map_err(|e| Outcome::Failed(format!("{}: {e}", self.path.display())))?;
        self.written = if append { self.resume_from } else { 0 };
        tracing::info!(
            status,
            from = self.written,
            length = ?head.content_length(),
            "writing {}",
            self.path.display()
        );
        self.file = Some(file);
        Ok(Mode::Writing)
    }

    fn write(&mut self, data: &CompositeBuf) -> Result<(), Outcome> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        for seg in data.segments() {
            file.write_all(seg)
                .map_err(|e| Outcome::Failed(format!("{}: {e}", self.path.display())))?;
        }
        self.written += data.len() as u64;
        self.received += data.len() as u64;
        Ok(())
    }
}

impl ChannelHandler for Download {}

impl InboundHandler for Download {
    type Read = HttpResponsePart;
    type Fire = HttpResponsePart;

    fn channel_read(
        &mut self,
        ctx: &mut InboundContext<'_, HttpResponsePart>,
        part: HttpResponsePart,
    ) {
        let result = match (&part, self.mode) {
            // Interim responses (100, 103) and their empty ends.
            (HttpPart::Head(h), Mode::AwaitingHead) if h.status < 200 => return,
            (HttpPart::Last(_), Mode::AwaitingHead) => return,
            (HttpPart::Head(h), _) => match self.head(h) {
                Ok(mode) => {
                    self.mode = mode;
                    Ok(())
                }
                Err(outcome) => {
                    // Read no body: the connection closes with the outcome.
                    self.mode = Mode::Discarding;
                    return self.finish(ctx, outcome);
                }
            },
            (HttpPart::Content(c), Mode::Writing) => self.write(c.data()),
            (HttpPart::Last(l), Mode::Writing) => self.write(l.data()).map(|()| {
                if let Some(Err(e)) = self.file.take().map(|f| f.sync_data()) {
                    tracing::warn!("{}: {e}", self.path.display());
                }
                let done = Outcome::Done {
                    received: self.received,
                    total: self.written,
                };
                self.finish(ctx, done);
            }),
            _ => Ok(()),
        };
        // The part (and its read credit) is dropped here: written, reading resumes.
        drop(part);
        if let Err(outcome) = result {
            self.finish(ctx, outcome);
        }
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, HttpResponsePart>, event: UserEvent) {
        if event.is::<IdleStateEvent>() {
            return self.finish(ctx, Outcome::Failed("idle timeout".into()));
        }
        ctx.fire_user_event(event);
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, HttpResponsePart>, error: Error) {
        self.finish(ctx, Outcome::Failed(error.to_string()));
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, HttpResponsePart>) {
        self.finish(
            ctx,
            Outcome::Failed(format!(
                "the connection closed before the response ended ({} bytes in the file)",
                self.written
            )),
        );
    }
}

/// `GET` for `url`, with `Range` from `resume_from`.
fn request(url: &url::Url, resume_from: u64) -> HttpRequest {
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let mut req = HttpRequest::new(Method::Get, target);
    let host = url.host_str().unwrap_or_default();
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    req.headers.append("Host", host);
    req.headers.append(
        "User-Agent",
        concat!("seine-http_get/", env!("CARGO_PKG_VERSION")),
    );
    req.headers.append("Accept", "*/*");
    req.headers.append("Connection", "close");
    if resume_from > 0 {
        req.headers.append("Range", format!("bytes={resume_from}-"));
    }
    req
}

/// One exchange: connect, send the request, wait for the channel to close.
async fn fetch(
    args: &Args,
    group: &EventLoopGroup,
    url: &url::Url,
    tls: &Option<TlsClientConfig>,
) -> Outcome {
    let resume_from = match std::fs::metadata(&args.output) {
        Ok(m) if m.is_file() && !args.no_resume => m.len(),
        _ => 0,
    };
    let https = url.scheme() == "https";
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let tls_handler = match tls {
        Some(config) if https => match TlsHandler::client(config, &host) {
            Ok(handler) => Some(handler),
            Err(e) => return Outcome::Failed(e.to_string()),
        },
        _ => None,
    };
    let outcome: Shared = Arc::new(Mutex::new(None));
    let idle = Duration::from_secs(args.idle_timeout);
    let init = {
        let outcome = outcome.clone();
        let url = url.clone();
        let path = args.output.clone();
        let tls = Mutex::new(tls_handler);
        move |pipeline: &mut seine::channel::Pipeline<'_>| {
            if !idle.is_zero() {
                pipeline.add_last(
                    "idle",
                    Handler::duplex(IdleStateHandler::new().all_idle(idle)),
                )?;
            }
            pipeline.add_last("http", HttpClientCodec::new().into())?;
            pipeline.add_last(
                "download",
                Handler::inbound(Download {
                    url: url.clone(),
                    path: path.clone(),
                    resume_from,
                    file: None,
                    written: 0,
                    received: 0,
                    mode: Mode::AwaitingHead,
                    outcome: outcome.clone(),
                }),
            )?;
            if let Some(handler) = tls.lock().unwrap_or_else(|p| p.into_inner()).take() {
                pipeline.add_first("tls", handler.into())?;
            }
            Ok(())
        }
    };
    let channel = match Bootstrap::new(group)
        .handler(init)
        .connect((host.as_str(), port))
        .await
    {
        Ok(ch) => ch,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    if resume_from > 0 {
        tracing::info!(
            resume_from,
            "asking for the rest of {}",
            args.output.display()
        );
    }
    channel.write_and_flush(HttpClientRequest::from(request(url, resume_from)));
    channel.closed().await;
    let taken = outcome.lock().unwrap_or_else(|p| p.into_inner()).take();
    taken.unwrap_or_else(|| Outcome::Failed("the connection closed without a response".into()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Args = support::start();
    let tls = match tls_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("http_get: {e}");
            return ExitCode::from(2);
        }
    };
    let group = match EventLoopGroup::new(1) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("http_get: {e}");
            return ExitCode::from(3);
        }
    };
    let mut url = args.url.clone();
    let mut redirects = 0;
    let code = loop {
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            eprintln!("http_get: {url}: only http:// and https:// URLs with a host");
            break 2;
        }
        match fetch(&args, &group, &url, &tls).await {
            Outcome::Done { received, total } => {
                eprintln!(
                    "http_get: {} complete: {total} bytes ({received} received)",
                    args.output.display()
                );
                break 0;
            }
            Outcome::Redirect(next) if redirects < args.max_redirects => {
                redirects += 1;
                eprintln!("http_get: redirected to {next}");
                url = next;
            }
            Outcome::Redirect(next) => {
                eprintln!("http_get: {url}: too many redirects (the last to {next})");
                break 1;
            }
            Outcome::Status(status, reason) => {
                eprintln!("http_get: {url}: HTTP {status} {reason}");
                break 1;
            }
            Outcome::Failed(reason) => {
                eprintln!("http_get: {url}: {reason}");
                break 3;
            }
        }
    };
    group.shutdown_gracefully(Duration::from_secs(1)).await;
    ExitCode::from(code)
}

fn tls_config(args: &Args) -> Result<Option<TlsClientConfig>, seine::tls::TlsError> {
    let mut builder = TlsClientConfig::builder().alpn(["http/1.1"]);
    builder = match &args.ca_file {
        Some(file) => builder.ca_file(file),
        None => builder.webpki_roots(),
    };
    builder.build().map(Some)
}
