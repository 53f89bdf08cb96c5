//! An access log: one line per request, written (one `write(2)` on a file opened
//! for appending, so lines of several loops never interleave) when the response
//! has been handed to the socket, or failed.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use seine::channel::{Addr, Completion, Context};
use seine::codec::http::{HttpRequest, format_http_date};
use seine::codec::proxy::HAProxyMessage;

/// Where the lines go; cheap to clone (one file shared by every loop).
#[derive(Clone)]
pub struct AccessLog {
    file: Arc<File>,
}

/// What is known of a request when its response is written.
pub struct Entry {
    pub client: String,
    pub request_line: String,
    pub status: u16,
    pub bytes: u64,
    pub started: Instant,
}

impl AccessLog {
    /// Opens (creates) `path` for appending.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AccessLog {
            file: Arc::new(file),
        })
    }

    /// The client's address as the log shows it: the PROXY protocol source when
    /// the connection carried a header, the peer's address otherwise (IP only).
    pub fn client_of(ctx: &Context<'_>) -> String {
        if let Some(source) = ctx.attr::<HAProxyMessage>().and_then(|m| m.source()) {
            return source.ip().to_string();
        }
        match ctx.channel().peer_addr() {
            Addr::Inet(a) => a.ip().to_string(),
            other => other.to_string(),
        }
    }

    /// `GET /path HTTP/1.1`.
    pub fn request_line(req: &HttpRequest) -> String {
        format!(
            "{} {} {}",
            req.method.as_str(),
            req.uri_str(),
            req.version.as_str()
        )
    }

    /// Writes `entry` once `done` resolves (on the channel's loop).
    pub fn after(&self, ctx: &Context<'_>, done: Completion, entry: Entry) {
        let log = self.clone();
        let _ = ctx.spawn(async move {
            let outcome = match done.await {
                Ok(()) => "",
                Err(_) => " (not completed)",
            };
            log.write(&entry, outcome);
        });
    }

    fn write(&self, e: &Entry, outcome: &str) {
        // `client [date] "request line" status bytes seconds`, as nginx's combined
        // format begins.
        let line = format!(
            "{} [{}] \"{}\" {} {} {:.6}{outcome}\n",
            e.client,
            format_http_date(SystemTime::now()),
            e.request_line.escape_default(),
            e.status,
            e.bytes,
            e.started.elapsed().as_secs_f64(),
        );
        if let Err(err) = (&*self.file).write_all(line.as_bytes()) {
            tracing::warn!(%err, "cannot write the access log");
        }
    }
}
