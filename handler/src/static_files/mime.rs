//! Content types by file name, from the `mime_guess` crate's table; text types
//! are declared UTF-8.

use std::cell::RefCell;
use std::collections::HashMap;

use seine_buffer::Bytes;

/// The type of a file whose extension nobody knows.
const OCTETS: &str = "application/octet-stream";

/// The `Content-Type` of the file named by the last segment of `path` (by its
/// extension, as `Path::extension` finds it: `.bashrc` has none). Text types
/// (`text/*`, JavaScript, JSON is UTF-8 by definition) get `; charset=utf-8`.
/// Allocates only the first time a text type is seen on a thread.
pub(crate) fn content_type(path: &[u8]) -> Bytes {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    let ext = match name.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => &name[dot + 1..],
        _ => b"",
    };
    let guessed = std::str::from_utf8(ext)
        .ok()
        .filter(|e| !e.is_empty())
        .and_then(|e| mime_guess::from_ext(e).first_raw())
        .unwrap_or(OCTETS);
    if !needs_charset(guessed) {
        return Bytes::from_static(guessed.as_bytes());
    }
    thread_local! {
        static WITH_CHARSET: RefCell<HashMap<&'static str, Bytes>> = RefCell::new(HashMap::new());
    }
    WITH_CHARSET.with_borrow_mut(|m| {
        m.entry(guessed)
            .or_insert_with(|| Bytes::from(format!("{guessed}; charset=utf-8")))
            .clone()
    })
}

fn needs_charset(t: &str) -> bool {
    t.starts_with("text/") || t == "application/javascript"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_extension_from_mime_guess() {
        for (path, want) in [
            (&b"/a/hello.txt"[..], "text/plain; charset=utf-8"),
            (b"/page.HTML", "text/html; charset=utf-8"),
            (b"/s.css", "text/css; charset=utf-8"),
            (b"/x.png", "image/png"),
            (b"/v.webm", "video/webm"),
            (b"/m.wasm", "application/wasm"),
            (b"/d.json", "application/json"),
            (b"/data.bin", OCTETS),
            (b"/noext", OCTETS),
            (b"/.bashrc", OCTETS),
            (b"/dir.d/", OCTETS),
            (b"/weird.\xff", OCTETS),
        ] {
            assert_eq!(content_type(path), want.as_bytes(), "{path:?}");
        }
        let js = content_type(b"/app.js");
        assert!(js.ends_with(b"javascript; charset=utf-8"), "{js:?}");
    }
}
