//! [`StaticFiles`]: an HTTP handler serving the files under a directory, as
//! nginx's `root` does: GET and HEAD, `sendfile(2)` for the bodies.
//!
//! Place it after [`HttpServerCodec`](seine_codec::http::HttpServerCodec) (and a
//! [`FlowControlHandler`](crate::FlowControlHandler) if requests are read on
//! demand). It serves HTTP and HTTPS alike: TLS sits below it in the pipeline
//! (with [`ChunkedWriteHandler::files_as_chunks`](crate::ChunkedWriteHandler::files_as_chunks)
//! in front of the TLS handler to turn file regions into bytes).
//!
//! * **Resolution** ([`resolve`]): the target is percent-decoded, slashes merged
//!   (`//etc/passwd` is looked up under the root), a `..` segment refused (403),
//!   and the file opened with `openat2(RESOLVE_BENEATH)` relative to the root, so
//!   a symlink may point anywhere under the root but not out of it (403); missing
//!   is 404. Linux before 5.6 falls back to `canonicalize` and a prefix check.
//!   FIFOs, sockets and devices are 403 (opened non-blocking, never read).
//! * **Validators** (`Last-Modified`, an `ETag` of modification time and size)
//!   and **conditional requests** ([`conditional`]): `If-Match` and
//!   `If-Unmodified-Since` (412), `If-None-Match` and `If-Modified-Since` (304),
//!   `If-Range`, in RFC 9110 §13.2.2's order.
//! * **Ranges** ([`range`]): `bytes=a-b`, `a-`, `-n`: 206 with a file region, 416
//!   when none is satisfiable; several ranges are sorted and merged, and answered
//!   as `multipart/byteranges` ([`multipart`]) up to
//!   [`max_ranges`](StaticFilesBuilder::max_ranges) ranges and
//!   [`max_multipart_bytes`](StaticFilesBuilder::max_multipart_bytes) bytes
//!   (beyond: the whole file, which RFC 9110 allows).
//! * **Content types** from the `mime_guess` crate's table, text types UTF-8.
//! * **Directories**: `/dir` redirects to `/dir/`; an
//!   [`index_file`](StaticFilesBuilder::index_file) is served if present, else
//!   an HTML listing ([`listing`], names escaped) or 403 with listing off.
//! * **Off the event loop**: each request's `open`, `stat`, `readdir` (and the
//!   reads of multipart parts) run through
//!   [`Context::spawn_blocking`](seine_channel::Context::spawn_blocking); the
//!   response is written when the result comes back on the channel's loop, in
//!   request order (one request of a connection at a time, the others queued).
//!
//! After each response it fires a [`Served`] user event (the request, the status,
//! the body length and the write's [`Completion`]) for an access log or for
//! reading the next request; a [`RequestReceived`] event when a request is taken
//! in (to stop a request-head timer).
//!
//! ```
//! use seine_channel::prelude::*;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_codec::http::{Body, HttpRequest, HttpResponse, Method};
//! use seine_handler::StaticFiles;
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("hello.txt"), "hello\n").unwrap();
//! let files = StaticFiles::builder(dir.path()).build().unwrap();
//! let mut ch = EmbeddedChannel::with_handlers([("files", Handler::inbound(files))]);
//! ch.write_inbound(HttpRequest::new(Method::Get, "/hello.txt")).unwrap();
//! ch.run_pending_tasks().unwrap(); // the blocking open, then the answer
//! let resp: HttpResponse = ch.read_outbound().unwrap();
//! assert_eq!(resp.status, 200);
//! assert_eq!(resp.headers.get_str("content-type"), Some("text/plain; charset=utf-8"));
//! assert!(matches!(resp.body, Body::File(_)));
//! ```

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use seine_channel::{
    ChannelError, ChannelHandler, Completion, Context, InboundContext, InboundHandler, UserEvent,
};
use seine_codec::http::{HttpRequest, HttpResponse, Method};

pub mod conditional;
mod config;
pub mod etag;
pub mod listing;
pub mod mime;
pub mod multipart;
pub mod range;
pub mod resolve;
mod respond;

pub use config::{DEFAULT_MAX_MULTIPART_BYTES, DEFAULT_MAX_RANGES, StaticFilesBuilder};

use config::Config;

/// Serves the files under a directory; see the [module docs](self). Clone it for
/// each connection (the clones share the opened root and the options).
pub struct StaticFiles {
    config: Arc<Config>,
    /// Requests taken in and not answered yet (the first is being answered when
    /// `busy`).
    queue: VecDeque<(HttpRequest, Instant)>,
    /// A request's blocking work is running.
    busy: bool,
}

/// Fired (a user event) when a [`StaticFiles`] takes a request in, before its
/// response is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestReceived;

/// Fired (a user event) when a [`StaticFiles`] has written a response.
#[derive(Debug)]
#[non_exhaustive]
pub struct Served {
    /// The request answered.
    pub request: HttpRequest,
    /// The response's status.
    pub status: u16,
    /// The body bytes sent: 0 for a HEAD request.
    pub body_bytes: u64,
    /// When the request was taken in.
    pub received: Instant,
    /// Resolves when the response has been handed to the socket (or failed).
    pub written: Completion,
}

/// The output of a request's blocking work.
struct Answer {
    request: HttpRequest,
    response: HttpResponse,
    received: Instant,
}

impl Clone for StaticFiles {
    /// A handler for another connection: the same root and options, nothing
    /// queued.
    fn clone(&self) -> Self {
        StaticFiles::with_config(self.config.clone())
    }
}

impl StaticFiles {
    /// Starts building a handler serving the directory `root`.
    pub fn builder(root: impl Into<PathBuf>) -> StaticFilesBuilder {
        StaticFilesBuilder::new(root.into())
    }

    pub(crate) fn with_config(config: Arc<Config>) -> Self {
        StaticFiles {
            config,
            queue: VecDeque::new(),
            busy: false,
        }
    }

    /// The response to `req`, made on the calling thread: it opens, stats and
    /// may read files (blocking). What the handler runs off the loop; for a
    /// handler of your own that serves some paths from files.
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        respond::respond(&self.config, req)
    }

    /// Requests taken in and not answered yet.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Starts answering the oldest queued request, if none is being answered.
    fn start_next(&mut self, ctx: &mut Context<'_>, in_read: bool) {
        while !self.busy {
            let Some((request, received)) = self.queue.pop_front() else {
                return;
            };
            if self.config.off_loop {
                let config = self.config.clone();
                let job = move || {
                    let response = respond::respond(&config, &request);
                    Answer {
                        request,
                        response,
                        received,
                    }
                };
                match ctx.spawn_blocking(0, job) {
                    Ok(()) => {
                        self.busy = true;
                        return;
                    }
                    Err(ChannelError::NoExecutor) => {
                        tracing::debug!("static files: no executor for blocking work: on the loop");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "static files: cannot start blocking work");
                    }
                }
                // The job (and the request in it) is gone with the error: the
                // connection cannot be answered in order any more.
                return ctx.close();
            }
            let response = respond::respond(&self.config, &request);
            let answer = Answer {
                request,
                response,
                received,
            };
            self.finish(ctx, answer, !in_read);
        }
    }

    /// Writes the response of `answer` and tells the handlers after.
    fn finish(&mut self, ctx: &mut Context<'_>, answer: Answer, flush: bool) {
        let Answer {
            request,
            response,
            received,
        } = answer;
        let status = response.status;
        let body_bytes = match request.method {
            Method::Head => 0,
            _ => response.body.len().unwrap_or(0),
        };
        let written = ctx.write(response);
        if flush {
            ctx.flush();
        }
        ctx.fire_user_event(UserEvent::new(Served {
            request,
            status,
            body_bytes,
            received,
            written,
        }));
    }
}

impl ChannelHandler for StaticFiles {
    fn blocking_done(&mut self, ctx: &mut Context<'_>, _key: u64, output: UserEvent) {
        self.busy = false;
        match output.downcast::<Answer>() {
            Ok(answer) => self.finish(ctx, answer, true),
            Err(other) => tracing::warn!(?other, "static files: unexpected blocking output"),
        }
        self.start_next(ctx, false);
    }
}

impl InboundHandler for StaticFiles {
    type Read = HttpRequest;
    /// Never fired: every request is answered here.
    type Fire = HttpRequest;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        ctx.fire_user_event(UserEvent::new(RequestReceived));
        self.queue.push_back((req, Instant::now()));
        self.start_next(ctx, true);
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, HttpRequest>) {
        self.queue.clear();
        ctx.fire_inactive();
    }
}
