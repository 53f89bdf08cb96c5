//! `StaticFiles` on an `EmbeddedChannel`: ranges (one and several), conditional
//! requests, listings, resolution, and the order of answers when the file system
//! work runs off the loop.

use std::os::unix::fs::FileExt;
use std::path::Path;

use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::http::{Body, HttpRequest, HttpResponse, Method};
use seine_handler::{RequestReceived, Served, StaticFiles};

struct Tree {
    dir: tempfile::TempDir,
    _outside: tempfile::TempDir,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("hello.txt"), b"hello, world\n").unwrap();
    std::fs::write(p.join("page.html"), b"<h1>hi</h1>").unwrap();
    std::fs::write(
        p.join("data.bin"),
        (0..=255u8).cycle().take(10_000).collect::<Vec<_>>(),
    )
    .unwrap();
    std::fs::create_dir(p.join("sub")).unwrap();
    std::fs::write(p.join("sub").join("a&b <c>.txt"), b"inside").unwrap();
    std::fs::create_dir(p.join("site")).unwrap();
    std::fs::write(p.join("site").join("index.html"), b"<p>index</p>").unwrap();
    nix::unistd::mkfifo(&p.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"secret").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), p.join("link-out")).unwrap();
    Tree {
        dir,
        _outside: outside,
    }
}

fn channel(files: StaticFiles) -> EmbeddedChannel {
    EmbeddedChannel::with_handlers([("files", Handler::inbound(files))])
}

fn files(root: &Path) -> StaticFiles {
    StaticFiles::builder(root).build().unwrap()
}

fn request(path: &str, headers: &[(&str, &str)]) -> HttpRequest {
    let mut r = HttpRequest::new(Method::Get, path.to_string());
    for (n, v) in headers {
        r.headers.append(n.to_string(), v.to_string());
    }
    r
}

/// Sends `req`, lets the blocking work run, returns the response.
fn ask(ch: &mut EmbeddedChannel, req: HttpRequest) -> HttpResponse {
    ch.write_inbound(req).unwrap();
    ch.run_pending_tasks().unwrap();
    ch.read_outbound::<HttpResponse>().expect("a response")
}

fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
    r.headers.get_str(name)
}

/// The body's bytes (a file region read with pread).
fn body(r: &HttpResponse) -> Vec<u8> {
    match &r.body {
        Body::Empty => Vec::new(),
        Body::Bytes(b) => b.to_vec(),
        Body::Composite(c) => c.segments().flat_map(|s| s.to_vec()).collect(),
        Body::File(f) => {
            let mut buf = vec![0u8; f.count() as usize];
            f.file().read_exact_at(&mut buf, f.position()).unwrap();
            buf
        }
        Body::Chunked(c) => c.iter().flat_map(|b| b.to_vec()).collect(),
        other => panic!("a body StaticFiles does not make: {other:?}"),
    }
}

#[test]
fn a_file_with_its_type_validators_and_sendfile_body() {
    let t = tree();
    let mut ch = channel(files(t.dir.path()));
    let r = ask(&mut ch, request("/hello.txt", &[]));
    assert_eq!(r.status, 200);
    assert!(matches!(r.body, Body::File(_)), "{:?}", r.body);
    assert_eq!(body(&r), b"hello, world\n");
    assert_eq!(
        header(&r, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(header(&r, "accept-ranges"), Some("bytes"));
    assert!(header(&r, "etag").unwrap().starts_with('"'));
    assert!(header(&r, "last-modified").unwrap().ends_with(" GMT"));
    let r = ask(&mut ch, request("/page.html", &[]));
    assert_eq!(header(&r, "content-type"), Some("text/html; charset=utf-8"));
    let r = ask(&mut ch, request("/data.bin", &[]));
    assert_eq!(header(&r, "content-type"), Some("application/octet-stream"));
}

#[test]
fn single_ranges_are_206_with_content_range_or_416() {
    let t = tree();
    let mut ch = channel(files(t.dir.path()));
    for (range, status, want, content_range) in [
        ("bytes=0-4", 206, &b"hello"[..], Some("bytes 0-4/13")),
        ("bytes=-3", 206, b"ld\n", Some("bytes 10-12/13")),
        ("bytes=7-", 206, b"world\n", Some("bytes 7-12/13")),
        ("bytes=0-1,2-4", 206, b"hello", Some("bytes 0-4/13")),
        (
            "bytes=13-",
            416,
            b"416 Range Not Satisfiable\n",
            Some("bytes */13"),
        ),
        ("pages=1", 200, b"hello, world\n", None),
    ] {
        let r = ask(&mut ch, request("/hello.txt", &[("Range", range)]));
        assert_eq!(r.status, status, "{range}");
        assert_eq!(body(&r), want, "{range}");
        assert_eq!(header(&r, "content-range"), content_range, "{range}");
    }
}

/// Splits a `multipart/byteranges` body into (Content-Range, data) parts.
fn parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .expect("a multipart type");
    let delim = format!("\r\n--{boundary}");
    let text = body;
    let mut out = Vec::new();
    let mut rest = text;
    assert!(rest.starts_with(delim.as_bytes()));
    loop {
        rest = &rest[delim.len()..];
        if rest == b"--\r\n" {
            return out;
        }
        let head_end = find(rest, b"\r\n\r\n").unwrap();
        let head = std::str::from_utf8(&rest[..head_end]).unwrap();
        let range = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Range: "))
            .unwrap()
            .to_string();
        assert!(
            head.contains("Content-Type: application/octet-stream"),
            "{head}"
        );
        let data_start = head_end + 4;
        let next = find(&rest[data_start..], delim.as_bytes()).unwrap();
        out.push((range, rest[data_start..data_start + next].to_vec()));
        rest = &rest[data_start + next..];
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn several_ranges_are_multipart_byteranges() {
    let t = tree();
    let data = std::fs::read(t.dir.path().join("data.bin")).unwrap();
    let mut ch = channel(files(t.dir.path()));
    let r = ask(
        &mut ch,
        request(
            "/data.bin",
            &[("Range", "bytes=9990-, 0-9, 100-199, 150-299")],
        ),
    );
    assert_eq!(r.status, 206);
    assert_eq!(header(&r, "content-range"), None);
    let ct = header(&r, "content-type").unwrap().to_string();
    let got = parts(&ct, &body(&r));
    let want = vec![
        ("bytes 0-9/10000".to_string(), data[0..10].to_vec()),
        ("bytes 100-299/10000".to_string(), data[100..300].to_vec()),
        ("bytes 9990-9999/10000".to_string(), data[9990..].to_vec()),
    ];
    assert_eq!(got, want);
    // Content-Length follows from the body: the encoder writes it.
    assert_eq!(r.body.len(), Some(body(&r).len() as u64));
}

#[test]
fn multipart_limits_fall_back_to_the_whole_file() {
    let t = tree();
    let small = StaticFiles::builder(t.dir.path())
        .max_multipart_bytes(100)
        .max_ranges(3)
        .build()
        .unwrap();
    let mut ch = channel(small);
    let r = ask(
        &mut ch,
        request("/data.bin", &[("Range", "bytes=0-99,200-299")]),
    );
    assert_eq!((r.status, body(&r).len()), (200, 10_000));
    let r = ask(
        &mut ch,
        request("/data.bin", &[("Range", "bytes=0-9,20-29")]),
    );
    assert_eq!(r.status, 206);
    let r = ask(
        &mut ch,
        request("/data.bin", &[("Range", "bytes=0-0,2-2,4-4,6-6")]),
    );
    assert_eq!(r.status, 200);
}

#[test]
fn conditional_requests_304_412_and_if_range() {
    let t = tree();
    let mut ch = channel(files(t.dir.path()));
    let r = ask(&mut ch, request("/hello.txt", &[]));
    let etag = header(&r, "etag").unwrap().to_string();
    let lm = header(&r, "last-modified").unwrap().to_string();
    let old = "Mon, 01 Jan 2001 00:00:00 GMT";
    for (headers, status) in [
        (vec![("If-None-Match", etag.as_str())], 304),
        (vec![("If-Modified-Since", lm.as_str())], 304),
        (vec![("If-Modified-Since", old)], 200),
        (vec![("If-Match", "\"nope\"")], 412),
        (vec![("If-Unmodified-Since", old)], 412),
        (vec![("If-Match", etag.as_str())], 200),
        (
            vec![("Range", "bytes=0-4"), ("If-Range", etag.as_str())],
            206,
        ),
        (vec![("Range", "bytes=0-4"), ("If-Range", lm.as_str())], 206),
        (vec![("Range", "bytes=0-4"), ("If-Range", "\"old\"")], 200),
        (vec![("Range", "bytes=0-4"), ("If-Range", old)], 200),
    ] {
        let r = ask(&mut ch, request("/hello.txt", &headers));
        assert_eq!(r.status, status, "{headers:?}");
        if status == 304 || status == 412 {
            assert_eq!(r.body.len(), Some(0));
            assert_eq!(header(&r, "etag"), Some(etag.as_str()));
        }
    }
}

#[test]
fn directories_listing_redirect_and_index() {
    let t = tree();
    let mut ch = channel(files(t.dir.path()));
    let r = ask(&mut ch, request("/sub?x=1", &[]));
    assert_eq!((r.status, header(&r, "location")), (301, Some("/sub/?x=1")));
    let r = ask(&mut ch, request("/sub/", &[]));
    assert_eq!(r.status, 200);
    let page = String::from_utf8(body(&r)).unwrap();
    assert!(
        page.contains("<a href=\"a%26b%20%3Cc%3E.txt\">a&amp;b &lt;c&gt;.txt</a>"),
        "{page}"
    );
    // No index file configured: /site/ is listed.
    let r = ask(&mut ch, request("/site/", &[]));
    assert!(String::from_utf8(body(&r)).unwrap().contains("index.html"));

    let with_index = StaticFiles::builder(t.dir.path())
        .index_file("index.html")
        .listing(false)
        .build()
        .unwrap();
    let mut ch = channel(with_index);
    let r = ask(&mut ch, request("/site/", &[]));
    assert_eq!((r.status, body(&r)), (200, b"<p>index</p>".to_vec()));
    assert_eq!(header(&r, "content-type"), Some("text/html; charset=utf-8"));
    let r = ask(&mut ch, request("/sub/", &[]));
    assert_eq!(r.status, 403, "listing off");
}

#[test]
fn escapes_methods_and_odd_files_are_refused() {
    let t = tree();
    let mut ch = channel(files(t.dir.path()));
    for (path, status) in [
        ("/missing", 404),
        ("/../etc/passwd", 403),
        ("/%2e%2e/x", 403),
        ("/link-out", 403),
        ("/fifo", 403),
        ("/bad%zz", 400),
        ("/nul%00", 400),
        ("//hello.txt", 200),
    ] {
        assert_eq!(ask(&mut ch, request(path, &[])).status, status, "{path}");
    }
    let mut del = request("/hello.txt", &[]);
    del.method = Method::Delete;
    let r = ask(&mut ch, del);
    assert_eq!((r.status, header(&r, "allow")), (405, Some("GET, HEAD")));
    let mut other = request("/hello.txt", &[]);
    other.method = Method::from_token("get");
    assert_eq!(ask(&mut ch, other).status, 501);
}

#[test]
fn builder_refuses_a_missing_root_and_a_path_as_index() {
    let t = tree();
    assert!(
        StaticFiles::builder(t.dir.path().join("nope"))
            .build()
            .is_err()
    );
    assert!(
        StaticFiles::builder(t.dir.path().join("hello.txt"))
            .build()
            .is_err()
    );
    for bad in ["", "a/b", "..", "."] {
        let err = StaticFiles::builder(t.dir.path()).index_file(bad).build();
        assert!(err.is_err(), "{bad:?}");
    }
}

/// The file system work runs as blocking jobs: nothing is answered before they
/// run; pipelined requests are answered in order, one job at a time, each
/// followed by a `Served` event.
#[test]
fn answers_come_from_blocking_jobs_in_request_order() {
    let t = tree();
    let mut ch = channel(files(t.dir.path()));
    ch.write_inbound_all([
        request("/hello.txt", &[]),
        request("/missing", &[]),
        request("/page.html", &[]),
    ])
    .unwrap();
    // The jobs run after the read batch (the embedded executor runs them when
    // the call returns): all three requests were taken in before any answer.
    let statuses: Vec<u16> = std::iter::from_fn(|| ch.read_outbound::<HttpResponse>())
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 404, 200]);
    let events = ch.take_user_events();
    let order: String = events
        .iter()
        .map(|e| if e.is::<RequestReceived>() { 'R' } else { 'S' })
        .collect();
    assert_eq!(order, "RRRSSS");
    let served: Vec<(String, u16, u64)> = events
        .into_iter()
        .filter_map(|e| e.downcast::<Served>().ok())
        .map(|s| (s.request.path().to_string(), s.status, s.body_bytes))
        .collect();
    assert_eq!(
        served,
        [
            ("/hello.txt".to_string(), 200, 13),
            ("/missing".to_string(), 404, 14),
            ("/page.html".to_string(), 200, 11),
        ]
    );
}

#[test]
fn on_the_loop_when_asked() {
    let t = tree();
    let inline = StaticFiles::builder(t.dir.path())
        .off_loop(false)
        .build()
        .unwrap();
    let mut ch = channel(inline);
    ch.write_inbound_all([request("/hello.txt", &[]), request("/page.html", &[])])
        .unwrap();
    let order: String = ch
        .take_user_events()
        .iter()
        .map(|e| if e.is::<RequestReceived>() { 'R' } else { 'S' })
        .collect();
    assert_eq!(order, "RSRS", "each answered as it is read");
    let r = ch
        .read_outbound::<HttpResponse>()
        .expect("answered at once");
    assert_eq!(r.status, 200);
    let mut head = request("/hello.txt", &[]);
    head.method = Method::Head;
    ch.write_inbound(head).unwrap();
    let served = ch
        .take_user_events()
        .into_iter()
        .filter_map(|e| e.downcast::<Served>().ok())
        .last()
        .unwrap();
    assert_eq!((served.status, served.body_bytes), (200, 0));
}

// ---- uploads ----

use seine_codec::http::{HttpContent, HttpPart, HttpRequestPart, LastHttpContent};

fn put_head(path: &str) -> HttpRequestPart {
    HttpPart::Head(HttpRequest::new(Method::Put, path.to_string()))
}

fn content(s: &'static str) -> HttpRequestPart {
    HttpPart::Content(HttpContent::new(s))
}

fn last() -> HttpRequestPart {
    HttpPart::Last(LastHttpContent::empty())
}

fn streaming(root: &Path) -> EmbeddedChannel {
    let files = StaticFiles::builder(root)
        .allow_put(true)
        .build_streaming()
        .unwrap();
    EmbeddedChannel::with_handlers([("files", Handler::inbound(files))])
}

#[test]
fn a_streamed_put_is_written_part_by_part_and_renamed_at_the_end() {
    let t = tree();
    let mut ch = streaming(t.dir.path());
    ch.write_inbound(put_head("/up/new%20dir/f.txt")).unwrap();
    ch.write_inbound(content("hello ")).unwrap();
    ch.write_inbound(content("world")).unwrap();
    let target = t.dir.path().join("up/new dir/f.txt");
    assert!(!target.exists(), "not before the last part");
    // The temporary file is there, with what was written so far.
    let dir = t.dir.path().join("up/new dir");
    let temps: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(temps.len(), 1);
    assert_eq!(std::fs::read(&temps[0]).unwrap(), b"hello world");
    assert_eq!(ch.outbound_len(), 0);
    ch.write_inbound(last()).unwrap();
    let r = ch.read_outbound::<HttpResponse>().unwrap();
    assert_eq!((r.status, r.body.len()), (201, Some(0)));
    assert_eq!(std::fs::read(&target).unwrap(), b"hello world");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary left"
    );

    // Replacing: 204; then a GET on the same connection sees the new file.
    ch.write_inbound_all([put_head("/hello.txt"), content("new"), last()])
        .unwrap();
    let r = ch.read_outbound::<HttpResponse>().unwrap();
    assert_eq!(r.status, 204);
    ch.write_inbound_all([HttpPart::Head(request("/hello.txt", &[])), last()])
        .unwrap();
    let r = ch.read_outbound::<HttpResponse>().unwrap();
    assert_eq!(body(&r), b"new");
}

#[test]
fn uploads_refused_where_they_must_be() {
    let t = tree();
    // PUT not allowed: 405 listing the methods, the body discarded.
    let off = StaticFiles::builder(t.dir.path())
        .build_streaming()
        .unwrap();
    let mut ch = EmbeddedChannel::with_handlers([("files", Handler::inbound(off))]);
    ch.write_inbound_all([put_head("/x"), content("data"), last()])
        .unwrap();
    let r = ch.read_outbound::<HttpResponse>().unwrap();
    assert_eq!((r.status, header(&r, "allow")), (405, Some("GET, HEAD")));
    assert!(!t.dir.path().join("x").exists());

    let mut ch = streaming(t.dir.path());
    for (path, status) in [
        ("/link-out", 204), // replaces the link itself, not its target
        ("/sub", 409),
        ("/hello.txt/x", 409),
        ("/../x", 403),
        ("/bad%zz", 400),
    ] {
        ch.write_inbound_all([put_head(path), content("d"), last()])
            .unwrap();
        let r = ch.read_outbound::<HttpResponse>().unwrap();
        assert_eq!(r.status, status, "{path}");
    }
    assert_eq!(
        std::fs::read(t._outside.path().join("secret")).unwrap(),
        b"secret"
    );
}

#[test]
fn an_upload_cut_short_leaves_nothing() {
    let t = tree();
    let mut ch = streaming(t.dir.path());
    ch.write_inbound_all([put_head("/hello.txt"), content("partial")])
        .unwrap();
    ch.close();
    ch.run_pending_tasks().unwrap();
    assert_eq!(
        std::fs::read(t.dir.path().join("hello.txt")).unwrap(),
        b"hello, world\n"
    );
    let names: Vec<_> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("upload"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn a_whole_put_is_stored_too() {
    let t = tree();
    let files = StaticFiles::builder(t.dir.path())
        .allow_put(true)
        .build()
        .unwrap();
    let mut ch = channel(files);
    let mut put = HttpRequest::new(Method::Put, "/w/x.bin");
    put.body = seine_buffer::CompositeBuf::from(&b"whole body"[..]);
    let r = ask(&mut ch, put);
    assert_eq!(r.status, 201);
    assert_eq!(
        std::fs::read(t.dir.path().join("w/x.bin")).unwrap(),
        b"whole body"
    );
}

/// Turns a body part saying `boom` into an exception, as a codec refusing a
/// body (413) raises one.
struct Refuse;
impl ChannelHandler for Refuse {}
impl InboundHandler for Refuse {
    type Read = HttpRequestPart;
    type Fire = HttpRequestPart;
    fn channel_read(
        &mut self,
        ctx: &mut InboundContext<'_, HttpRequestPart>,
        part: HttpRequestPart,
    ) {
        match &part {
            HttpPart::Content(c) if c.data().segments().any(|s| &s[..] == b"boom") => {
                let err = seine_handler::HandlerError::InvalidConfig {
                    reason: "body refused".into(),
                };
                ctx.fire_exception(err);
            }
            _ => ctx.fire_read(part),
        }
    }
}

#[test]
fn an_upload_refused_by_the_codec_is_abandoned() {
    let t = tree();
    let files = StaticFiles::builder(t.dir.path())
        .allow_put(true)
        .build_streaming()
        .unwrap();
    let mut ch = EmbeddedChannel::with_handlers([
        ("refuse", Handler::inbound(Refuse)),
        ("files", Handler::inbound(files)),
    ]);
    ch.write_inbound_all([put_head("/refused"), content("some")])
        .unwrap();
    let temps = || {
        std::fs::read_dir(t.dir.path())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().contains(".upload-")
            })
            .count()
    };
    assert_eq!(temps(), 1);
    assert!(
        ch.write_inbound(content("boom")).is_err(),
        "the exception passes on"
    );
    assert_eq!(temps(), 0, "the temporary file is gone");
    assert!(!t.dir.path().join("refused").exists());
    assert_eq!(ch.outbound_len(), 0, "the codec answers, not the files");
}
