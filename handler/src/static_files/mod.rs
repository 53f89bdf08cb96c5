//! [`StaticFiles`]: an HTTP handler serving the files under a directory, as
//! nginx's `root` does: GET and HEAD, `sendfile(2)` for the bodies.
//!
//! Place it after [`HttpServerCodec`](seine_codec::http::HttpServerCodec) (and a
//! [`FlowControlHandler`](crate::FlowControlHandler) if requests are read on
//! demand). It serves HTTP and HTTPS alike: TLS sits below it in the pipeline
//! (with [`ChunkedWriteHandler::files_as_chunks`](crate::ChunkedWriteHandler::files_as_chunks)
//! in front of the TLS handler to turn file regions into bytes).
//!
//! * **Resolution** (`resolve.rs`): the target is percent-decoded, slashes merged
//!   (`//etc/passwd` is looked up under the root), a `..` segment refused (403),
//!   and the file opened with `openat2(RESOLVE_BENEATH)` relative to the root, so
//!   a symlink may point anywhere under the root but not out of it (403); missing
//!   is 404. Linux before 5.6 falls back to `canonicalize` and a prefix check.
//!   FIFOs, sockets and devices are 403 (opened non-blocking, never read).
//! * **Validators** (`Last-Modified`, an `ETag` of modification time and size)
//!   and **conditional requests** (`conditional.rs`): `If-Match` and
//!   `If-Unmodified-Since` (412), `If-None-Match` and `If-Modified-Since` (304),
//!   `If-Range`, in RFC 9110 §13.2.2's order.
//! * **Ranges** (`range.rs`): `bytes=a-b`, `a-`, `-n`: 206 with a file region, 416
//!   when none is satisfiable; several ranges are sorted and merged, and answered
//!   as `multipart/byteranges` (`multipart.rs`) up to
//!   [`max_ranges`](StaticFilesBuilder::max_ranges) ranges and
//!   [`max_multipart_bytes`](StaticFilesBuilder::max_multipart_bytes) bytes
//!   (beyond: the whole file, which RFC 9110 allows).
//! * **Content types** from the `mime_guess` crate's table, text types UTF-8
//!   (`mime.rs`); validators in `etag.rs`.
//! * **Directories**: `/dir` redirects to `/dir/`; an
//!   [`index_file`](StaticFilesBuilder::index_file) is served if present, else
//!   an HTML listing (`listing.rs`, names escaped) or 403 with listing off.
//! * **Off the event loop**: each request's `open`, `stat`, `readdir` (and the
//!   reads of multipart parts) run through
//!   [`Context::spawn_blocking`](seine_channel::Context::spawn_blocking); the
//!   response is written when the result comes back on the channel's loop, in
//!   request order (one request of a connection at a time, the others queued).
//!
//! * **Uploads** (off by default, [`allow_put`](StaticFilesBuilder::allow_put)):
//!   `PUT /a/b` stores ROOT/a/b through a temporary file renamed at the end
//!   (`upload.rs`); 201 or 204. With a streaming codec
//!   ([`build_streaming`](StaticFilesBuilder::build_streaming)) the body goes to
//!   disk part by part off the loop, at most 64 KiB read ahead of the disk.
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
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use seine_buffer::CompositeBuf;
use seine_channel::{
    ChannelError, ChannelHandler, Completion, Context, Error, InboundContext, InboundHandler,
    UserEvent,
};
use seine_codec::http::{HttpPart, HttpRequest, HttpRequestPart, HttpResponse, Method, ReadCredit};

mod conditional;
mod config;
mod etag;
mod listing;
mod mime;
mod multipart;
mod range;
mod resolve;
mod respond;
mod upload;

pub use config::{DEFAULT_MAX_MULTIPART_BYTES, DEFAULT_MAX_RANGES, StaticFilesBuilder};

use config::Config;
use upload::Upload;

/// Body bytes of an upload read ahead of the disk (held in memory, not yet
/// written) before the handler stops asking for more.
const UPLOAD_AHEAD: u64 = 64 * 1024;

/// Blocking-work keys.
const KEY_ANSWER: u64 = 0;
const KEY_UPLOAD: u64 = 1;

/// Serves the files under a directory; see the [module docs](self). Clone it for
/// each connection (the clones share the opened root and the options).
///
/// `M` is what it reads: whole [`HttpRequest`]s
/// ([`build`](StaticFilesBuilder::build)) or streamed [`HttpRequestPart`]s
/// ([`build_streaming`](StaticFilesBuilder::build_streaming)).
pub struct StaticFiles<M = HttpRequest> {
    config: Arc<Config>,
    /// What was read and not handled yet, in order.
    queue: VecDeque<(Item, Instant)>,
    /// A blocking job of this connection is running.
    busy: bool,
    /// The streamed upload in progress.
    upload: Option<Streaming>,
    /// Streaming: the body of a request answered without it is discarded.
    skipping: bool,
    _read: PhantomData<fn(M)>,
}

/// A message read, whole or a part.
enum Item {
    Whole(HttpRequest),
    Part(HttpRequestPart),
}

/// A streamed PUT: the body parts received, the file they go to.
struct Streaming {
    request: HttpRequest,
    received: Instant,
    /// The decoded target path.
    target: Vec<u8>,
    /// The upload, between jobs (a job holds it while it runs; `None` before the
    /// first job opens it).
    file: Option<Upload>,
    /// Body received, not yet handed to a job.
    pending: CompositeBuf,
    pending_credit: ReadCredit,
    /// Body handed to the running job, released when it is done.
    in_flight_credit: ReadCredit,
    /// The last part arrived.
    ended: bool,
    /// A job was started (the file is being or has been opened).
    started: bool,
    /// The status to answer instead (the rest of the body is discarded).
    failed: Option<u16>,
}

/// Fired (a user event) when a [`StaticFiles`] takes a request in, before its
/// response is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestReceived;

/// Fired (a user event) when a [`StaticFiles`] has written a response.
#[derive(Debug)]
#[non_exhaustive]
pub struct Served {
    /// The request answered (its body taken, for an upload).
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

/// The output of a streamed upload's blocking work.
enum Step {
    /// Opened and written so far (or the status that ends it).
    Continue(Result<Upload, u16>),
    /// Committed: 201 or 204 (or the status that ends it).
    Done(Result<u16, u16>),
}

impl<M> Clone for StaticFiles<M> {
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
}

impl<M> StaticFiles<M> {
    pub(crate) fn with_config(config: Arc<Config>) -> Self {
        StaticFiles {
            config,
            queue: VecDeque::new(),
            busy: false,
            upload: None,
            skipping: false,
            _read: PhantomData,
        }
    }

    /// The response to a GET or HEAD `req`, made on the calling thread: it opens,
    /// stats and may read files (blocking). What the handler runs off the loop;
    /// for a handler of your own that serves some paths from files.
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        respond::respond(&self.config, req)
    }

    /// Messages read and not handled yet.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Whether a request is a PUT this handler stores.
    fn is_upload(&self, req: &HttpRequest) -> bool {
        self.config.allow_put && req.method == Method::Put
    }

    /// Runs `job` off the loop (or here, with `off_loop(false)` or no executor),
    /// its output to [`ChannelHandler::blocking_done`] under `key`.
    fn run<T: Send + 'static>(
        &mut self,
        ctx: &mut Context<'_>,
        key: u64,
        job: impl FnOnce() -> T + Send + 'static,
    ) {
        if !self.config.off_loop {
            let out = job();
            return self.done(ctx, key, UserEvent::new(out), false);
        }
        self.busy = true;
        match ctx.spawn_blocking(key, job) {
            Ok(()) => {}
            Err(e) => {
                // The job (and the request in it) is gone with the error: the
                // connection cannot be answered in order any more.
                self.busy = false;
                if !matches!(e, ChannelError::NoExecutor) {
                    tracing::warn!(error = %e, "static files: cannot start blocking work");
                } else {
                    tracing::warn!(
                        "static files: the transport runs no blocking work (use off_loop(false))"
                    );
                }
                ctx.close();
            }
        }
    }

    /// Handles what is queued, in order, until a job runs or nothing is left.
    fn pump(&mut self, ctx: &mut Context<'_>, in_read: bool) {
        while self.may_start(ctx) {
            if self.upload.is_some() {
                if !self.pump_upload(ctx, in_read) {
                    return;
                }
                continue;
            }
            let Some((item, received)) = self.queue.pop_front() else {
                // Drained: an idle connection holds no queue (it grew only for
                // pipelined requests).
                if self.queue.capacity() > 0 {
                    self.queue = VecDeque::new();
                }
                return;
            };
            self.handle(ctx, item, received, in_read);
        }
    }

    /// Whether the next request item may start: no job runs and the channel is open.
    fn may_start(&self, ctx: &Context<'_>) -> bool {
        !self.busy && ctx.is_active()
    }

    /// Starts on one request item, in order (nothing before it waits).
    fn handle(&mut self, ctx: &mut Context<'_>, item: Item, received: Instant, in_read: bool) {
        match item {
            Item::Whole(request) if self.is_upload(&request) => {
                self.start_whole_upload(ctx, request, received)
            }
            Item::Whole(request) => self.start_answer(ctx, request, received),
            Item::Part(HttpPart::Head(request)) if self.is_upload(&request) => {
                match resolve::decoded_path(request.path()) {
                    Ok(target) => {
                        self.upload = Some(Streaming {
                            target: target.into_owned(),
                            request,
                            received,
                            file: None,
                            pending: CompositeBuf::new(),
                            pending_credit: ReadCredit::none(),
                            in_flight_credit: ReadCredit::none(),
                            ended: false,
                            started: false,
                            failed: None,
                        });
                    }
                    Err(status) => {
                        self.skipping = true;
                        let response = respond::error(status);
                        let answer = Answer {
                            request,
                            response,
                            received,
                        };
                        self.finish(ctx, answer, !in_read);
                    }
                }
                ctx.read(); // the body
            }
            Item::Part(HttpPart::Head(request)) => {
                // A body (rare on GET) is not read: discarded up to its end.
                self.skipping = true;
                self.start_answer(ctx, request, received);
                ctx.read(); // the end of the request
            }
            Item::Part(HttpPart::Content(_)) => {
                ctx.read(); // a body being skipped: on to its end
            }
            Item::Part(HttpPart::Last(_)) => self.skipping = false,
        }
    }

    /// One step of the streamed upload; whether to go on pumping.
    fn pump_upload(&mut self, ctx: &mut Context<'_>, in_read: bool) -> bool {
        let Some(up) = self.upload.as_mut() else {
            return true;
        };
        // Gather the body parts that arrived.
        while !up.ended {
            match self.queue.front() {
                Some((Item::Part(HttpPart::Content(_) | HttpPart::Last(_)), _)) => {}
                _ => break,
            }
            let Some((Item::Part(part), _)) = self.queue.pop_front() else {
                break;
            };
            let (data, credit) = match part {
                HttpPart::Content(c) => c.into_parts(),
                HttpPart::Last(l) => {
                    up.ended = true;
                    let (data, _trailers, credit) = l.into_parts();
                    (data, credit)
                }
                HttpPart::Head(_) => unreachable!("checked above"),
            };
            if up.failed.is_none() {
                let mut data = data;
                up.pending.append(&mut data);
                up.pending_credit.merge(credit);
            }
        }
        if let Some(status) = up.failed {
            up.pending.clear();
            up.pending_credit = ReadCredit::none();
            if !up.ended {
                ctx.read(); // discard the rest of the body
                return false;
            }
            let Some(up) = self.upload.take() else {
                return true;
            };
            let answer = Answer {
                request: up.request,
                response: respond::error(status),
                received: up.received,
            };
            self.finish(ctx, answer, !in_read);
            return true;
        }
        if up.started && up.pending.is_empty() && !up.ended {
            self.want_body(ctx);
            return false;
        }
        // Open (first), write what arrived, commit (last).
        up.started = true;
        let file = up.file.take();
        let data = std::mem::take(&mut up.pending);
        up.in_flight_credit = std::mem::take(&mut up.pending_credit);
        let end = up.ended;
        let config = self.config.clone();
        let target = (file.is_none()).then(|| up.target.clone());
        self.run(ctx, KEY_UPLOAD, move || {
            let mut file = match (file, target) {
                (Some(f), _) => Ok(f),
                (None, Some(t)) => Upload::start(&config.root, &t),
                (None, None) => Err(500),
            };
            if let Ok(f) = &mut file
                && let Err(status) = f.write(&data)
            {
                file = Err(status);
            }
            match (end, file) {
                (true, Ok(f)) => Step::Done(f.commit()),
                (true, Err(s)) => Step::Done(Err(s)),
                (false, f) => Step::Continue(f),
            }
        });
        self.want_body(ctx);
        !self.busy
    }

    /// Asks for more of the upload's body unless enough is waiting for the disk.
    fn want_body(&mut self, ctx: &mut Context<'_>) {
        let Some(up) = &self.upload else { return };
        if up.ended || up.failed.is_some() {
            return;
        }
        let queued: usize = self
            .queue
            .iter()
            .map(|(item, _)| match item {
                Item::Part(p) => p.body_len(),
                Item::Whole(_) => 0,
            })
            .sum();
        let held = up.pending.len() as u64 + up.in_flight_credit.bytes() + queued as u64;
        if held < UPLOAD_AHEAD {
            ctx.read();
        }
    }

    fn start_answer(&mut self, ctx: &mut Context<'_>, request: HttpRequest, received: Instant) {
        let config = self.config.clone();
        self.run(ctx, KEY_ANSWER, move || {
            let response = respond::respond(&config, &request);
            Answer {
                request,
                response,
                received,
            }
        });
    }

    /// A PUT whose body arrived whole: stored in one job.
    fn start_whole_upload(
        &mut self,
        ctx: &mut Context<'_>,
        mut request: HttpRequest,
        received: Instant,
    ) {
        let config = self.config.clone();
        self.run(ctx, KEY_ANSWER, move || {
            let body = std::mem::take(&mut request.body);
            let status = resolve::decoded_path(request.path())
                .and_then(|target| Upload::start(&config.root, &target))
                .and_then(|mut up| up.write(&body).and_then(|()| up.commit()))
                .unwrap_or_else(|s| s);
            Answer {
                request,
                response: upload_response(status),
                received,
            }
        });
    }

    /// A blocking job's output is here (on the loop).
    fn done(&mut self, ctx: &mut Context<'_>, key: u64, output: UserEvent, flush: bool) {
        self.busy = false;
        match key {
            KEY_ANSWER => match output.downcast::<Answer>() {
                Ok(answer) => self.finish(ctx, answer, flush),
                Err(other) => tracing::warn!(?other, "static files: unexpected blocking output"),
            },
            _ => match output.downcast::<Step>() {
                Ok(step) => self.upload_step(ctx, step, flush),
                Err(other) => tracing::warn!(?other, "static files: unexpected blocking output"),
            },
        }
    }

    fn upload_step(&mut self, ctx: &mut Context<'_>, step: Step, flush: bool) {
        let Some(up) = self.upload.as_mut() else {
            return;
        };
        up.in_flight_credit = ReadCredit::none(); // written: the window moves on
        match step {
            Step::Continue(Ok(file)) => up.file = Some(file),
            Step::Continue(Err(status)) => up.failed = Some(status),
            Step::Done(result) => {
                let Some(up) = self.upload.take() else { return };
                let answer = Answer {
                    request: up.request,
                    response: upload_response(result.unwrap_or_else(|s| s)),
                    received: up.received,
                };
                self.finish(ctx, answer, flush);
            }
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

    fn take_in(&mut self, ctx: &mut Context<'_>, item: Item) {
        let head = match &item {
            Item::Whole(_) | Item::Part(HttpPart::Head(_)) => true,
            Item::Part(_) => false,
        };
        if head {
            ctx.fire_user_event(UserEvent::new(RequestReceived));
        }
        let received = Instant::now();
        if self.queue.is_empty() && self.upload.is_none() && self.may_start(ctx) {
            // The common case, one request at a time: started without a queue.
            self.handle(ctx, item, received, true);
        } else {
            self.queue.push_back((item, received));
        }
        self.pump(ctx, true);
        if !head && self.busy {
            self.want_body(ctx);
        }
    }
}

/// The answer to an upload: 201 and 204 bodiless, errors as text.
fn upload_response(status: u16) -> HttpResponse {
    match status {
        201 | 204 => HttpResponse::new(status),
        s => respond::error(s),
    }
}

impl<M: 'static> ChannelHandler for StaticFiles<M> {
    fn blocking_done(&mut self, ctx: &mut Context<'_>, key: u64, output: UserEvent) {
        self.done(ctx, key, output, true);
        self.pump(ctx, false);
    }
}

impl InboundHandler for StaticFiles<HttpRequest> {
    type Read = HttpRequest;
    /// Never fired: every request is answered here.
    type Fire = HttpRequest;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        self.take_in(ctx, Item::Whole(req));
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, HttpRequest>) {
        self.queue.clear();
        self.upload = None;
        ctx.fire_inactive();
    }
}

impl InboundHandler for StaticFiles<HttpRequestPart> {
    type Read = HttpRequestPart;
    /// Never fired: every request is answered here.
    type Fire = HttpRequestPart;

    fn channel_read(
        &mut self,
        ctx: &mut InboundContext<'_, HttpRequestPart>,
        part: HttpRequestPart,
    ) {
        self.take_in(ctx, Item::Part(part));
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, HttpRequestPart>) {
        // An upload cut short: its temporary file goes with it.
        self.queue.clear();
        self.upload = None;
        ctx.fire_inactive();
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, HttpRequestPart>, error: Error) {
        // The codec refused the body (too large, malformed): the upload ends
        // here, its temporary file removed (now, or when a running write returns).
        if self.upload.take().is_some() {
            tracing::debug!(%error, "static files: upload abandoned");
        }
        ctx.fire_exception(error);
    }
}
