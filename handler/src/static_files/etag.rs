//! A file's validators: `Last-Modified` and an `ETag` made of its modification
//! time and size (as nginx makes it), formatted once per file version and thread.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use seine_buffer::Bytes;
use seine_codec::http::format_http_date;

/// The validators of one version of a file.
#[derive(Debug, Clone)]
pub(crate) struct Validators {
    /// The modification time in whole seconds (HTTP dates have no more).
    pub(crate) modified_secs: u64,
    /// The `Last-Modified` value.
    pub(crate) last_modified: Bytes,
    /// The strong `ETag` value, quotes included: `"<mtime hex>-<size hex>"`.
    pub(crate) etag: Bytes,
}

impl Validators {
    /// The validators of a file modified at `modified` with `len` bytes. A server
    /// sends the same few over and over: the last one made on this thread is
    /// reused.
    pub(crate) fn new(modified: SystemTime, len: u64) -> Self {
        thread_local! {
            static LAST: RefCell<Option<(u64, Validators)>> = const { RefCell::new(None) };
        }
        let secs = modified
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        LAST.with_borrow_mut(|last| match last {
            Some((l, v)) if v.modified_secs == secs && *l == len => v.clone(),
            _ => {
                let v = Validators {
                    modified_secs: secs,
                    last_modified: Bytes::from(format_http_date(modified)),
                    etag: Bytes::from(format!("\"{secs:x}-{len:x}\"")),
                };
                *last = Some((len, v.clone()));
                v
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn etag_is_mtime_and_size_in_hex_and_changes_with_either() {
        let t = UNIX_EPOCH + Duration::from_secs(0x5f5e100);
        let v = Validators::new(t, 255);
        assert_eq!(&v.etag[..], b"\"5f5e100-ff\"");
        assert_eq!(&v.last_modified[..], b"Sat, 03 Mar 1973 09:46:40 GMT");
        assert_eq!(v.modified_secs, 0x5f5e100);
        assert_eq!(&Validators::new(t, 256).etag[..], b"\"5f5e100-100\"");
        let later = t + Duration::from_secs(1);
        assert_eq!(&Validators::new(later, 255).etag[..], b"\"5f5e101-ff\"");
        // Sub-second changes do not show (HTTP dates have whole seconds).
        let v2 = Validators::new(t + Duration::from_millis(300), 255);
        assert_eq!(v2.etag, v.etag);
    }
}
