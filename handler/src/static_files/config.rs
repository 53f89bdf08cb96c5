//! [`StaticFilesBuilder`]: the root and the options of a [`StaticFiles`] handler.

use std::path::PathBuf;
use std::sync::Arc;

use seine_codec::http::HttpRequestPart;

use super::StaticFiles;
use super::resolve::Root;
use crate::error::HandlerError;

/// What every connection's [`StaticFiles`] shares.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) root: Root,
    pub(crate) index_file: Option<String>,
    pub(crate) listing: bool,
    pub(crate) max_ranges: usize,
    pub(crate) max_multipart_bytes: u64,
    pub(crate) off_loop: bool,
    pub(crate) allow_put: bool,
}

/// Builds a [`StaticFiles`] handler: [`StaticFiles::builder`].
#[derive(Debug, Clone)]
pub struct StaticFilesBuilder {
    root: PathBuf,
    index_file: Option<String>,
    listing: bool,
    max_ranges: usize,
    max_multipart_bytes: u64,
    off_loop: bool,
    allow_put: bool,
}

/// The default of [`StaticFilesBuilder::max_ranges`].
pub const DEFAULT_MAX_RANGES: usize = 16;
/// The default of [`StaticFilesBuilder::max_multipart_bytes`]: 1 MiB.
pub const DEFAULT_MAX_MULTIPART_BYTES: u64 = 1 << 20;

impl StaticFilesBuilder {
    pub(crate) fn new(root: PathBuf) -> Self {
        StaticFilesBuilder {
            root,
            index_file: None,
            listing: true,
            max_ranges: DEFAULT_MAX_RANGES,
            max_multipart_bytes: DEFAULT_MAX_MULTIPART_BYTES,
            off_loop: true,
            allow_put: false,
        }
    }

    /// A file served for a directory's URL (`/dir/` serves `dir/index.html`) when
    /// it exists; otherwise the directory is listed (or refused). Off by default.
    /// A bare file name: no `/`, not `.` or `..`.
    pub fn index_file(mut self, name: impl Into<String>) -> Self {
        self.index_file = Some(name.into());
        self
    }

    /// Whether a directory without an index file is answered with an HTML
    /// listing (on, the default) or 403 (nginx's `autoindex off`).
    pub fn listing(mut self, on: bool) -> Self {
        self.listing = on;
        self
    }

    /// The most ranges one `Range` header may ask for ([`DEFAULT_MAX_RANGES`]);
    /// a request asking for more gets the whole file (nginx's `max_ranges`). 1
    /// turns `multipart/byteranges` off; 0 ignores every `Range`.
    pub fn max_ranges(mut self, max: usize) -> Self {
        self.max_ranges = max;
        self
    }

    /// The most bytes a `multipart/byteranges` response carries, summed over its
    /// ranges ([`DEFAULT_MAX_MULTIPART_BYTES`]). Its parts are read into memory
    /// (one range alone goes by `sendfile`); a request for more gets the whole
    /// file.
    pub fn max_multipart_bytes(mut self, max: u64) -> Self {
        self.max_multipart_bytes = max;
        self
    }

    /// Whether file system calls (`open`, `stat`, `readdir`, reads of multipart
    /// parts) run off the event loop through
    /// [`Context::spawn_blocking`](seine_channel::Context::spawn_blocking) (on,
    /// the default), so that a slow disk or a network file system stalls one
    /// request, not every channel of the loop. Off: on the loop, which saves a
    /// thread hand-off per request where the tree is always in the page cache.
    pub fn off_loop(mut self, on: bool) -> Self {
        self.off_loop = on;
        self
    }

    /// Whether `PUT /a/b` stores its body as ROOT/a/b (off by default: 405),
    /// creating the directories on the way beneath the root, and answers 201
    /// (created) or 204 (replaced). The body goes to a temporary file in the same
    /// directory, renamed over the target once complete: readers never see half
    /// an upload, and an upload cut short leaves nothing. With a streaming codec
    /// ([`build_streaming`](Self::build_streaming)) the body is written as it
    /// arrives, never whole in memory; the codec's `max_body_length` bounds it.
    pub fn allow_put(mut self, on: bool) -> Self {
        self.allow_put = on;
        self
    }

    /// Opens the root and builds the handler (clone it for each connection: the
    /// clones share the root).
    ///
    /// # Errors
    /// [`HandlerError::InvalidConfig`] if the root is not a directory that can be
    /// opened, or the index file name is not a bare file name.
    pub fn build(self) -> Result<StaticFiles, HandlerError> {
        self.config().map(StaticFiles::with_config)
    }

    /// Like [`build`](Self::build), for a streaming codec
    /// ([`HttpServerCodec::streaming`](seine_codec::http::HttpServerCodec::streaming)):
    /// the handler reads [`HttpRequestPart`]s, and an upload's body is written
    /// to disk part by part, each part's read credit released once written.
    ///
    /// # Errors
    /// As [`build`](Self::build).
    pub fn build_streaming(self) -> Result<StaticFiles<HttpRequestPart>, HandlerError> {
        self.config().map(StaticFiles::with_config)
    }

    fn config(self) -> Result<Arc<Config>, HandlerError> {
        let invalid = |reason: String| HandlerError::InvalidConfig { reason };
        if let Some(name) = &self.index_file
            && (name.is_empty()
                || name.contains('/')
                || name == "."
                || name == ".."
                || name.contains('\0'))
        {
            return Err(invalid(format!(
                "static files: index file {name:?} is not a bare file name"
            )));
        }
        let root = Root::open(&self.root).map_err(|e| {
            invalid(format!(
                "static files: cannot open the root {}: {e}",
                self.root.display()
            ))
        })?;
        Ok(Arc::new(Config {
            root,
            index_file: self.index_file,
            listing: self.listing,
            max_ranges: self.max_ranges,
            max_multipart_bytes: self.max_multipart_bytes,
            off_loop: self.off_loop,
            allow_put: self.allow_put,
        }))
    }
}
