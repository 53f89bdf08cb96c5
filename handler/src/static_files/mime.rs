//! Content types by file name, from the `mime_guess` crate's table; text types
//! are declared UTF-8.

use std::cell::RefCell;

use seine_buffer::Bytes;

/// The type of a file whose extension nobody knows.
const OCTETS: &str = "application/octet-stream";

/// The `Content-Type` of the file named by the last segment of `path` (by its
/// extension, as `Path::extension` finds it: `.bashrc` has none). Text types
/// (`text/*`, JavaScript, JSON is UTF-8 by definition) get `; charset=utf-8`.
/// The last few types found are remembered per thread.
pub(crate) fn content_type(path: &[u8]) -> Bytes {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    let ext = match name.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => &name[dot + 1..],
        _ => b"",
    };
    if ext.is_empty() || ext.len() > MAX_CACHED_EXT {
        return lookup(ext);
    }
    // A server sends the same few types over and over; mime_guess's binary
    // search with case-insensitive compares costs over a thousand instructions,
    // a hit here a few dozen.
    thread_local! {
        static RECENT: RefCell<Recent> = const { RefCell::new(Recent { entries: Vec::new(), next: 0 }) };
    }
    RECENT.with_borrow_mut(|recent| {
        if let Some((_, t)) = recent
            .entries
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        {
            return t.clone();
        }
        let t = lookup(ext);
        let entry = (ext.to_vec(), t.clone());
        if recent.entries.len() < RECENT_TYPES {
            recent.entries.push(entry);
        } else {
            recent.entries[recent.next] = entry;
            recent.next = (recent.next + 1) % RECENT_TYPES;
        }
        t
    })
}

/// How many extensions each thread remembers the type of.
const RECENT_TYPES: usize = 8;
/// Longer extensions are looked up every time.
const MAX_CACHED_EXT: usize = 16;

/// The last extensions looked up on a thread and their types.
struct Recent {
    entries: Vec<(Vec<u8>, Bytes)>,
    /// The entry replaced next once full.
    next: usize,
}

/// The type of extension `ext` from mime_guess's table.
fn lookup(ext: &[u8]) -> Bytes {
    let guessed = std::str::from_utf8(ext)
        .ok()
        .filter(|e| !e.is_empty())
        .and_then(|e| mime_guess::from_ext(e).first_raw())
        .unwrap_or(OCTETS);
    if !needs_charset(guessed) {
        return Bytes::from_static(guessed.as_bytes());
    }
    Bytes::from(format!("{guessed}; charset=utf-8"))
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
        // More extensions than the cache holds, in mixed case: still right.
        for _ in 0..2 {
            for (i, ext) in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "TXT", "png"]
                .iter()
                .enumerate()
            {
                let t = content_type(format!("/f{i}.{ext}").as_bytes());
                let want = lookup(ext.as_bytes());
                assert_eq!(t, want, "{ext}");
            }
        }
        assert_eq!(
            content_type(b"/x.TxT"),
            "text/plain; charset=utf-8".as_bytes()
        );
        let js = content_type(b"/app.js");
        assert!(js.ends_with(b"javascript; charset=utf-8"), "{js:?}");
    }
}
