//! A static file server: GET and HEAD for the files under a directory, sent with
//! `sendfile(2)` (the bytes never enter user space).
//!
//! ```text
//! cargo run --release --example http_file_server -- --root /srv/www --addr 127.0.0.1:8080
//! curl -O http://127.0.0.1:8080/big.iso
//! curl -r 0-99 http://127.0.0.1:8080/big.iso      # 206 Partial Content
//! cargo run --release --example http_file_server -- --help
//! ```
//!
//! * Files: `Content-Type` by extension, `Last-Modified` and `ETag`, conditional
//!   requests (`If-None-Match` / `If-Modified-Since`: 304, `If-Match` /
//!   `If-Unmodified-Since`: 412, `If-Range`), one `Range` (`bytes=a-b`, `a-`, `-n`:
//!   206, or 416 when unsatisfiable); the body is a `FileRegion`.
//! * Directories: an HTML listing (`/dir` redirects to `/dir/`).
//! * Safety: a path with a `..` segment is refused (403); repeated slashes are
//!   merged (`//etc/passwd` is looked up under the root); the file is opened with
//!   `openat2(RESOLVE_BENEATH)` relative to the root, so a symlink may point
//!   anywhere under the root but not out of it (403); missing files are 404. One
//!   system call per request where `canonicalize` took one per path component
//!   (Linux before 5.6 falls back to `canonicalize`).
//! * Connections: keep-alive (from `HttpServerCodec`); a connection that has not
//!   sent a complete request head within `--header-timeout` seconds of opening (a
//!   slowloris peer), stays idle `--idle-timeout` seconds after a response, or reads
//!   nothing of a response for that long, is closed. Pipelined requests are
//!   answered while the connection is writable; past its high-water mark the
//!   server stops reading and answers the rest as the peer reads (a peer that
//!   pipelines requests and never reads holds no open files for them).
//!
//! File system calls (`open`, `stat`, `readdir`) run on the event loop: fine for a
//! page cache-hot tree, a thread pool would be the next step for slow disks.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use seine::codec::http::{
    HttpRequest, HttpRequestDecoder, HttpResponse, HttpServerCodec, Method, format_http_date,
    parse_http_date,
};
use seine::prelude::*;
use tokio::time::Instant;

mod support;

struct Config {
    root: PathBuf,
    /// The root, opened once (`O_PATH`): requests open their files relative to it.
    root_dir: std::os::fd::OwnedFd,
    header_timeout: Duration,
    idle_timeout: Duration,
}

/// Serves one connection's requests.
struct Files {
    config: Arc<Config>,
    /// When the connection times out; each request moves it forward (a `Cell`
    /// write, not a new timer).
    deadline: Rc<Cell<Instant>>,
    timer: Option<tokio::task::JoinHandle<()>>,
    /// Pipelined requests not answered yet: at most [`BATCH`] are answered at a
    /// time, and only while the channel is writable, so that a peer that sends
    /// requests but does not read the responses holds neither memory nor open
    /// files for them. Reading is paused while requests wait.
    waiting: VecDeque<HttpRequest>,
    /// Responses written since the last flush point (end of a read batch, or a
    /// [`Resume`]).
    answered: usize,
    /// Bytes still to send when the deadline was last moved for a slow reader.
    pending_at_deadline: u64,
}

/// Responses answered in one go; the rest of a pipeline waits for the next
/// [`Resume`] (a response written while the codec is decoding reaches the outbound
/// buffer, and counts for writability, only when the codec has finished).
const BATCH: usize = 16;

/// Requests that may wait; a peer pipelining more without reading is closed.
const MAX_WAITING: usize = 4096;

/// The user event that answers waiting requests, fired through the channel so
/// that it runs once the responses written before it are in the outbound buffer.
struct Resume;

/// The user event the timer fires when the deadline passed.
struct Deadline;

impl Files {
    /// Starts the connection's one timer task: it sleeps until the deadline, and
    /// again until the new one while requests keep moving it, then fires
    /// [`Deadline`] once.
    fn start_timer(&mut self, ctx: &mut Context<'_>) {
        let deadline = self.deadline.clone();
        let channel = ctx.channel().clone();
        self.timer = Some(ctx.spawn(async move {
            loop {
                let at = deadline.get();
                tokio::time::sleep_until(at).await;
                if Instant::now() >= deadline.get() {
                    channel.fire_user_event(Deadline);
                    return;
                }
            }
        }));
    }

    fn answer(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: &HttpRequest) {
        ctx.write_void(respond(&self.config, req));
        self.answered += 1;
        self.deadline.set(Instant::now() + self.config.idle_timeout);
        self.pending_at_deadline = 0;
    }

    /// Answers waiting requests while the channel is writable, [`BATCH`] at most;
    /// then resumes later, or reading when none is left.
    fn drain(&mut self, ctx: &mut InboundContext<'_, HttpRequest>) {
        self.answered = 0;
        while ctx.is_writable() && self.answered < BATCH {
            let Some(req) = self.waiting.pop_front() else {
                break;
            };
            self.answer(ctx, &req);
        }
        ctx.flush();
        if self.waiting.is_empty() {
            if !ctx.is_auto_read() {
                ctx.channel().set_auto_read(true);
            }
        } else if ctx.is_writable() {
            ctx.channel().fire_user_event(Resume);
        }
        // Not writable: `channel_writability_changed` resumes.
    }
}

impl ChannelHandler for Files {}

impl InboundHandler for Files {
    type Read = HttpRequest;
    type Fire = HttpRequest;

    fn channel_active(&mut self, ctx: &mut InboundContext<'_, HttpRequest>) {
        self.deadline
            .set(Instant::now() + self.config.header_timeout);
        self.start_timer(ctx);
        ctx.fire_active();
    }

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        if self.waiting.is_empty() && self.answered < BATCH && ctx.is_writable() {
            return self.answer(ctx, &req);
        }
        if self.waiting.len() >= MAX_WAITING {
            tracing::debug!("closing a connection pipelining requests without reading");
            self.waiting.clear();
            return ctx.close_now();
        }
        if self.waiting.is_empty() {
            ctx.channel().set_auto_read(false);
            ctx.channel().fire_user_event(Resume);
        }
        self.waiting.push_back(req);
    }

    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, HttpRequest>) {
        // Flushed from here on (Netty's read-complete flush).
        if self.waiting.is_empty() {
            self.answered = 0;
        }
        ctx.fire_read_complete();
    }

    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, HttpRequest>) {
        if ctx.is_writable() && !self.waiting.is_empty() {
            self.drain(ctx);
        }
        ctx.fire_writability_changed();
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, event: UserEvent) {
        let event = match event.downcast::<Resume>() {
            Ok(Resume) => return self.drain(ctx),
            Err(other) => other,
        };
        match event.downcast::<Deadline>() {
            Ok(Deadline) => {
                let pending = ctx.pending_outbound_bytes();
                if pending > 0
                    && (self.pending_at_deadline == 0 || pending < self.pending_at_deadline)
                {
                    // Still sending to a slow reader that keeps reading: give it
                    // another period. One that read nothing for a whole period is
                    // closed (nginx's `send_timeout`).
                    self.pending_at_deadline = pending;
                    self.deadline.set(Instant::now() + self.config.idle_timeout);
                    self.start_timer(ctx);
                } else if pending > 0 {
                    // `close` would wait for the flush that is not coming.
                    ctx.close_now();
                } else {
                    ctx.close();
                }
            }
            Err(other) => ctx.fire_user_event(other),
        }
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, HttpRequest>) {
        if let Some(t) = self.timer.take() {
            t.abort();
        }
        self.waiting.clear();
        ctx.fire_inactive();
    }
}

fn error(status: u16) -> HttpResponse {
    let text = format!("{status} {}\n", seine::codec::http::reason_phrase(status));
    HttpResponse::text(status, text)
}

/// The response to `req` for the tree under the configured root.
fn respond(config: &Config, req: &HttpRequest) -> HttpResponse {
    let root = config.root.as_path();
    match req.method {
        Method::Get | Method::Head => {}
        // A method this server does not know at all (`get` included: methods are
        // case-sensitive): 501, as RFC 9110 §15.6.2 says; a known one: 405.
        Method::Other(_) => return error(501),
        _ => return error(405).with_header("Allow", "GET, HEAD"),
    }
    let Some(decoded) = percent_decode(req.path().as_bytes()) else {
        return error(400);
    };
    if !decoded.starts_with(b"/") || decoded.contains(&0) {
        return error(400);
    }
    // `//etc/passwd` is `/etc/passwd` under the root, not the host's (nginx's
    // `merge_slashes`): what follows the first `/` is always relative.
    let decoded = merge_slashes(decoded);
    if decoded.split(|&b| b == b'/').any(|seg| seg == b"..") {
        return error(403);
    }
    let relative = Path::new(std::ffi::OsStr::from_bytes(&decoded[1..]));
    let file = match open_beneath(config, relative) {
        Ok(f) => f,
        Err(status) => return error(status),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(_) => return error(500),
    };
    if meta.is_dir() {
        if !decoded.ends_with(b"/") {
            let path = merge_slashes(req.path().as_bytes().into());
            let mut location = format!("{}/", String::from_utf8_lossy(&path));
            if let Some(q) = req.query() {
                location = format!("{location}?{q}");
            }
            return HttpResponse::new(301).with_header("Location", location);
        }
        return listing(&root.join(relative), &decoded);
    }
    if !meta.is_file() {
        return error(403);
    }
    let modified = meta.modified().unwrap_or(UNIX_EPOCH);
    let len = meta.len();
    let validators = Validators::new(modified, len);
    if let Some(status) = validators.precondition(req) {
        return HttpResponse::new(status)
            .with_header("Last-Modified", validators.last_modified)
            .with_header("ETag", validators.etag);
    }
    let range = match req.header("range") {
        Some(r) if validators.if_range(req) => parse_range(r, len),
        _ => Range::Ignore,
    };
    let (status, start, count) = match range {
        Range::Unsatisfiable => {
            return error(416).with_header("Content-Range", format!("bytes */{len}"));
        }
        Range::Bytes(start, end) => (206, start, end - start + 1),
        Range::Ignore => (200, 0, len),
    };
    let region = match FileRegion::with_file_len(Arc::new(file), start, count, len) {
        Ok(r) => r,
        Err(_) => return error(500),
    };
    let mut resp = HttpResponse::new(status)
        .with_header("Content-Type", content_type(&decoded))
        .with_header("Last-Modified", validators.last_modified)
        .with_header("ETag", validators.etag)
        .with_header("Accept-Ranges", "bytes")
        .with_body(region);
    if status == 206 {
        let range = format!("bytes {start}-{}/{len}", start + count - 1);
        resp.headers.append("Content-Range", range);
    }
    resp
}

/// `a//b///c` as `a/b/c`. Borrows when there is nothing to merge.
fn merge_slashes(path: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    if !path.windows(2).any(|w| w == b"//") {
        return path;
    }
    let mut out = Vec::with_capacity(path.len());
    for &b in path.iter() {
        if !(b == b'/' && out.last() == Some(&b'/')) {
            out.push(b);
        }
    }
    out.into()
}

/// A file's validators (`Last-Modified`, and an `ETag` made of its modification
/// time and size, as nginx makes it) and the conditional requests they answer
/// (RFC 9110 §13.2.2).
struct Validators {
    modified_secs: u64,
    last_modified: Bytes,
    etag: Bytes,
}

impl Validators {
    fn new(modified: SystemTime, len: u64) -> Self {
        let (modified_secs, last_modified, etag) = validator_texts(modified, len);
        Validators {
            modified_secs,
            last_modified,
            etag,
        }
    }

    /// Whether the `If-Match` / `If-None-Match` list `value` names this file:
    /// `*`, or an entity tag equal to ours (weakly: `W/` ignored, or `strong`ly).
    fn matches(&self, value: &str, strong: bool) -> bool {
        value.split(',').map(str::trim).any(|tag| {
            tag == "*"
                || match tag.strip_prefix("W/") {
                    Some(weak) => !strong && weak.as_bytes() == self.etag,
                    None => tag.as_bytes() == self.etag,
                }
        })
    }

    /// Seconds since the epoch of an HTTP date header, if present and valid; a
    /// date in the future is not a valid validator (ignored).
    fn date(req: &HttpRequest, name: &str) -> Option<u64> {
        let t = parse_http_date(req.header(name)?)?;
        (t <= SystemTime::now()).then(|| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
    }

    /// The status that answers a GET or HEAD instead of the file: 412 when a
    /// precondition fails, 304 when the client's copy is current.
    fn precondition(&self, req: &HttpRequest) -> Option<u16> {
        let conditional = |n: &Bytes| n.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(b"if-"));
        if !req.headers.iter().any(|(name, _)| conditional(name)) {
            return None; // the usual request: one pass over the headers
        }
        // HTTP dates have whole seconds: compare at that precision.
        match req.header("if-match") {
            Some(tags) if !self.matches(tags, true) => return Some(412),
            Some(_) => {}
            None => {
                if Self::date(req, "if-unmodified-since").is_some_and(|t| self.modified_secs > t) {
                    return Some(412);
                }
            }
        }
        match req.header("if-none-match") {
            Some(tags) => self.matches(tags, false).then_some(304),
            None => Self::date(req, "if-modified-since")
                .is_some_and(|t| self.modified_secs <= t)
                .then_some(304),
        }
    }

    /// Whether a `Range` applies: no `If-Range`, or one naming this very version
    /// (a strong tag, or exactly the `Last-Modified` date).
    fn if_range(&self, req: &HttpRequest) -> bool {
        match req.header("if-range").map(str::trim) {
            None => true,
            Some(v) if v.starts_with('"') || v.starts_with("W/") => v.as_bytes() == self.etag,
            Some(v) => v.as_bytes() == &self.last_modified[..],
        }
    }
}

/// Opens `relative` under the root, following symlinks only while they stay
/// under it: `openat2(RESOLVE_BENEATH)`, one system call. Where that refuses
/// (an absolute symlink, a path leaving the root) or is missing (Linux before
/// 5.6), `canonicalize` and a prefix check decide. Errors are the status to
/// answer: 403 for a path out of the root or not readable, 404 for a missing one.
fn open_beneath(config: &Config, relative: &Path) -> Result<File, u16> {
    use nix::errno::Errno;
    use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
    let relative = if relative.as_os_str().is_empty() {
        Path::new(".")
    } else {
        relative
    };
    let how = OpenHow::new()
        // O_NONBLOCK: a FIFO under the root must not hang the event loop in open(2)
        // (it is then refused as not a regular file). No effect on regular files.
        .flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    match openat2(&config.root_dir, relative, how) {
        Ok(fd) => Ok(File::from(fd)),
        // EXDEV: the path left the root, or met an absolute symlink (which may
        // well point under the root); ELOOP: a symlink chain; ENOSYS, EPERM,
        // EINVAL, E2BIG: no (full) openat2 here. The slow path decides.
        Err(
            Errno::EXDEV
            | Errno::ELOOP
            | Errno::ENOSYS
            | Errno::EPERM
            | Errno::EINVAL
            | Errno::E2BIG,
        ) => open_canonical(&config.root, relative),
        Err(e) => Err(status_of(e.into())),
    }
}

/// The fallback of [`open_beneath`]: resolve every symlink, then check the prefix.
fn open_canonical(root: &Path, relative: &Path) -> Result<File, u16> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = root.join(relative).canonicalize().map_err(status_of)?;
    if !path.starts_with(root) {
        return Err(403); // a symlink out of the root
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(&path)
        .map_err(status_of)
}

/// The status answering a failed `open`: the request's fault (404, 403) or the
/// server's (500, logged: out of file descriptors, for instance).
fn status_of(e: std::io::Error) -> u16 {
    use nix::errno::Errno;
    match e.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP) => 404,
        Some(Errno::EACCES | Errno::EPERM) => 403,
        _ => {
            tracing::error!(error = %e, "cannot open a requested file");
            500
        }
    }
}

enum Range {
    /// Inclusive byte positions.
    Bytes(u64, u64),
    Unsatisfiable,
    /// Not a single byte range we understand: serve the whole file.
    Ignore,
}

/// One range of `bytes=a-b`, `bytes=a-` or `bytes=-n` against a file of `len` bytes.
fn parse_range(header: &str, len: u64) -> Range {
    let header = header.trim();
    let spec = match header.get(..6) {
        Some(unit) if unit.eq_ignore_ascii_case("bytes=") => &header[6..],
        _ => return Range::Ignore,
    };
    if spec.contains(',') || len == 0 {
        // Several ranges, or an empty file: the whole file is a valid answer.
        return Range::Ignore;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Range::Ignore;
    };
    // Positions past what a u64 holds are past the end of any file.
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().unwrap_or(u64::MAX))
    };
    match (a.is_empty(), num(a), num(b)) {
        (true, _, Some(0)) => Range::Unsatisfiable,
        // The last n bytes.
        (true, _, Some(n)) => Range::Bytes(len.saturating_sub(n), len - 1),
        (false, Some(start), end) if b.is_empty() || end.is_some() => {
            if start >= len {
                return Range::Unsatisfiable;
            }
            match end {
                Some(end) if end < start => Range::Ignore,
                Some(end) => Range::Bytes(start, end.min(len - 1)),
                None => Range::Bytes(start, len - 1),
            }
        }
        _ => Range::Ignore,
    }
}

/// The `Last-Modified` and `ETag` values of a file modified at `time` with `len`
/// bytes: formatted once per file version and thread (a server sends the same
/// few over and over).
fn validator_texts(time: SystemTime, len: u64) -> (u64, Bytes, Bytes) {
    type Texts = ((u64, u64), Bytes, Bytes);
    thread_local! {
        static LAST: RefCell<Option<Texts>> = const { RefCell::new(None) };
    }
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    LAST.with_borrow_mut(|last| match last {
        Some((key, date, tag)) if *key == (secs, len) => (secs, date.clone(), tag.clone()),
        _ => {
            let date = Bytes::from(format_http_date(time));
            let tag = Bytes::from(format!("\"{secs:x}-{len:x}\""));
            *last = Some(((secs, len), date.clone(), tag.clone()));
            (secs, date, tag)
        }
    })
}

/// The media type for the file name at the end of `path` (by extension, as
/// `Path::extension` finds it).
fn content_type(path: &[u8]) -> &'static str {
    const OCTETS: &str = "application/octet-stream";
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    let ext = match name.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => &name[dot + 1..],
        _ => b"",
    };
    // Lower-cased on the stack: no extension we know is longer than 4 bytes.
    let mut lower = [0u8; 4];
    let Some(lower) = lower.get_mut(..ext.len()) else {
        return OCTETS;
    };
    for (l, b) in lower.iter_mut().zip(ext) {
        *l = b.to_ascii_lowercase();
    }
    match &*lower {
        b"html" | b"htm" => "text/html; charset=utf-8",
        b"css" => "text/css; charset=utf-8",
        b"js" | b"mjs" => "text/javascript; charset=utf-8",
        b"json" => "application/json",
        b"txt" | b"md" | b"rs" | b"toml" => "text/plain; charset=utf-8",
        b"xml" => "application/xml",
        b"svg" => "image/svg+xml",
        b"png" => "image/png",
        b"jpg" | b"jpeg" => "image/jpeg",
        b"gif" => "image/gif",
        b"webp" => "image/webp",
        b"ico" => "image/x-icon",
        b"pdf" => "application/pdf",
        b"wasm" => "application/wasm",
        b"mp4" => "video/mp4",
        b"webm" => "video/webm",
        b"mp3" => "audio/mpeg",
        b"zip" => "application/zip",
        b"gz" => "application/gzip",
        b"tar" => "application/x-tar",
        _ => OCTETS,
    }
}

/// An HTML page listing the directory `dir`, shown at URL path `url` (decoded).
fn listing(dir: &Path, url: &[u8]) -> HttpResponse {
    let mut entries: Vec<(String, bool)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| {
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                (e.file_name().to_string_lossy().into_owned(), is_dir)
            })
            .collect(),
        Err(_) => return error(403),
    };
    entries.sort();
    let title = html_escape(&String::from_utf8_lossy(url));
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n\
         <body><h1>Index of {title}</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n"
    );
    for (name, is_dir) in entries {
        let slash = if is_dir { "/" } else { "" };
        page.push_str(&format!(
            "<li><a href=\"{}{slash}\">{}{slash}</a></li>\n",
            percent_encode(&name),
            html_escape(&name)
        ));
    }
    page.push_str("</ul></body></html>\n");
    HttpResponse::new(200)
        .with_header("Content-Type", "text/html; charset=utf-8")
        .with_body(page)
}

/// Decodes `%XX` escapes; `None` for a malformed one. Borrows when there is none.
fn percent_decode(s: &[u8]) -> Option<Cow<'_, [u8]>> {
    if !s.contains(&b'%') {
        return Some(s.into());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hex = std::str::from_utf8(s.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Some(out.into())
}

fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
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

    /// Seconds a new connection has to send a complete request head.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    header_timeout: u64,

    /// Seconds a connection may stay idle after a response, or read nothing of
    /// one, before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    idle_timeout: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = support::start();
    let signals = support::ShutdownSignals::install()?;
    let root = args.root.canonicalize()?;
    let root_dir = nix::fcntl::open(
        &root,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let config = Arc::new(Config {
        root,
        root_dir,
        header_timeout: Duration::from_secs(args.header_timeout),
        idle_timeout: Duration::from_secs(args.idle_timeout),
    });

    // GET and HEAD carry no body worth buffering.
    let decoder = HttpRequestDecoder::builder()
        .max_body_length(64 * 1024)
        .build()?;

    let group = EventLoopGroup::new(args.server.threads())?;
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |pipeline| {
            pipeline.add_last(
                "http",
                HttpServerCodec::with_decoder(decoder.clone()).into(),
            )?;
            let files = Files {
                config: config.clone(),
                deadline: Rc::new(Cell::new(Instant::now())),
                timer: None,
                waiting: VecDeque::new(),
                answered: 0,
                pending_at_deadline: 0,
            };
            pipeline.add_last("files", Handler::inbound(files))?;
            Ok(())
        })
        .bind(&args.server.addr)?;
    support::announce(server.local_addr()?)?;

    support::shutdown::wait_then_drain(signals, Some(&server), &group);
    Ok(())
}
