//! The response to one request: the blocking part of [`StaticFiles`](super::StaticFiles)
//! (`open`, `stat`, `readdir`, reads of multipart parts), run off the event loop.

use std::fs::{File, Metadata};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use seine_buffer::FileRegion;
use seine_codec::http::{HttpRequest, HttpResponse, Method, reason_phrase};

use super::config::Config;
use super::etag::Validators;
use super::range::{self, RangeSet};
use super::resolve::{self, decoded_path, merge_slashes, open_beneath};
use super::{conditional, listing, mime, multipart};

/// A plain-text error response: `404 Not Found\n`.
pub(crate) fn error(status: u16) -> HttpResponse {
    HttpResponse::text(status, format!("{status} {}\n", reason_phrase(status)))
}

/// The methods served: the `Allow` header of a 405.
pub(crate) fn allow(config: &Config) -> &'static str {
    if config.allow_put {
        "GET, HEAD, PUT"
    } else {
        "GET, HEAD"
    }
}

/// The response to `req` for the tree under the configured root.
pub(crate) fn respond(config: &Config, req: &HttpRequest) -> HttpResponse {
    match req.method {
        Method::Get | Method::Head => {}
        // A method nobody knows (`get` included: methods are case-sensitive):
        // 501, as RFC 9110 §15.6.2 says; a known one: 405.
        Method::Other(_) => return error(501),
        _ => return error(405).with_header("Allow", allow(config)),
    }
    let decoded = match decoded_path(req.path()) {
        Ok(d) => d,
        Err(status) => return error(status),
    };
    let relative = resolve::relative(&decoded);
    let file = match open_beneath(&config.root, relative) {
        Ok(f) => f,
        Err(status) => return error(status),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return error(resolve::status_of(e)),
    };
    if meta.is_dir() {
        if !decoded.ends_with(b"/") {
            return redirect_to_slash(req);
        }
        if let Some(index) = &config.index_file
            && let Ok(file) = open_beneath(&config.root, &relative.join(index))
            && let Ok(meta) = file.metadata()
            && meta.is_file()
        {
            return serve_file(config, req, index.as_bytes(), file, &meta);
        }
        if !config.listing {
            return error(403);
        }
        return match listing::page(&config.root.path.join(relative), &decoded) {
            Some(page) => HttpResponse::new(200)
                .with_header("Content-Type", "text/html; charset=utf-8")
                .with_body(page),
            None => error(403),
        };
    }
    if !meta.is_file() {
        return error(403); // a FIFO, a socket, a device
    }
    serve_file(config, req, &decoded, file, &meta)
}

/// `/dir` is `/dir/` (relative links in its listing resolve under it); the query
/// is kept, and merged slashes never make the location another host's.
fn redirect_to_slash(req: &HttpRequest) -> HttpResponse {
    let path = merge_slashes(req.path().as_bytes().into());
    let mut location = format!("{}/", String::from_utf8_lossy(&path));
    if let Some(q) = req.query() {
        location.push('?');
        location.push_str(q);
    }
    HttpResponse::new(301).with_header("Location", location)
}

/// A regular file named `name` (its type comes from the name): validators,
/// conditional requests, ranges.
fn serve_file(
    config: &Config,
    req: &HttpRequest,
    name: &[u8],
    file: File,
    meta: &Metadata,
) -> HttpResponse {
    let len = meta.len();
    let v = Validators::new(meta.modified().unwrap_or(UNIX_EPOCH), len);
    if let Some(status) = conditional::precondition(&v, req) {
        return HttpResponse::new(status)
            .with_header("Last-Modified", v.last_modified)
            .with_header("ETag", v.etag);
    }
    let ranges = match req.header("range") {
        Some(r) if conditional::if_range(&v, req) => range::parse(r, len, config.max_ranges),
        _ => RangeSet::Ignore,
    };
    let content_type = mime::content_type(name);
    let mut resp = HttpResponse::new(200);
    let (start, count) = match ranges {
        RangeSet::Unsatisfiable => {
            return error(416).with_header("Content-Range", format!("bytes */{len}"));
        }
        RangeSet::Ranges(rs) if rs.len() == 1 => {
            let r = rs[0];
            resp.status = 206;
            (r.start, r.len())
        }
        RangeSet::Ranges(rs)
            if rs.iter().map(|r| r.len()).sum::<u64>() <= config.max_multipart_bytes =>
        {
            let boundary = multipart::boundary();
            return match multipart::body(&file, &rs, len, &content_type, &boundary) {
                Ok(body) => HttpResponse::new(206)
                    .with_header("Content-Type", multipart::content_type(&boundary))
                    .with_header("Last-Modified", v.last_modified)
                    .with_header("ETag", v.etag)
                    .with_header("Accept-Ranges", "bytes")
                    .with_body(body),
                Err(e) => error(resolve::status_of(e)),
            };
        }
        // Too many bytes to gather: the whole file is a valid answer.
        RangeSet::Ranges(_) | RangeSet::Ignore => (0, len),
    };
    let region = match FileRegion::with_file_len(Arc::new(file), start, count, len) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "static files: cannot make a file region");
            return error(500);
        }
    };
    resp = resp
        .with_header("Content-Type", content_type)
        .with_header("Last-Modified", v.last_modified)
        .with_header("ETag", v.etag)
        .with_header("Accept-Ranges", "bytes")
        .with_body(region);
    if resp.status == 206 {
        let range = format!("bytes {start}-{}/{len}", start + count - 1);
        resp.headers.append("Content-Range", range);
    }
    resp
}
