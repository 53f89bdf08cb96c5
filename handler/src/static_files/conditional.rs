//! Conditional requests (RFC 9110 §13): `If-Match`, `If-Unmodified-Since`,
//! `If-None-Match`, `If-Modified-Since` and `If-Range`, evaluated in the order
//! §13.2.2 gives.

use std::time::{SystemTime, UNIX_EPOCH};

use seine_codec::http::{HttpRequest, parse_http_date};

use super::etag::Validators;

/// Whether the `If-Match` / `If-None-Match` list `value` names the file: `*`, or
/// an entity tag equal to ours (`strong`: a `W/` tag never matches; weak: `W/`
/// ignored).
fn matches(v: &Validators, value: &str, strong: bool) -> bool {
    value.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || match tag.strip_prefix("W/") {
                Some(weak) => !strong && weak.as_bytes() == v.etag,
                None => tag.as_bytes() == v.etag,
            }
    })
}

/// Seconds since the epoch of the HTTP date in header `name`, if present and
/// valid; a date in the future is not a valid validator (ignored).
fn date(req: &HttpRequest, name: &str) -> Option<u64> {
    let t = parse_http_date(req.header(name)?)?;
    (t <= SystemTime::now()).then(|| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// The status that answers a GET or HEAD instead of the file: 412 when a
/// precondition fails, 304 when the client's copy is current, `None` to serve.
pub(crate) fn precondition(v: &Validators, req: &HttpRequest) -> Option<u16> {
    let conditional = |n: &[u8]| n.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(b"if-"));
    if !req.headers.iter().any(|(name, _)| conditional(name)) {
        return None; // the usual request: one pass over the headers
    }
    match req.header("if-match") {
        Some(tags) if !matches(v, tags, true) => return Some(412),
        Some(_) => {}
        None => {
            if date(req, "if-unmodified-since").is_some_and(|t| v.modified_secs > t) {
                return Some(412);
            }
        }
    }
    match req.header("if-none-match") {
        Some(tags) => matches(v, tags, false).then_some(304),
        None => date(req, "if-modified-since")
            .is_some_and(|t| v.modified_secs <= t)
            .then_some(304),
    }
}

/// Whether a `Range` applies: no `If-Range`, or one naming this very version (a
/// strong tag, or exactly the `Last-Modified` date).
pub(crate) fn if_range(v: &Validators, req: &HttpRequest) -> bool {
    match req.header("if-range").map(str::trim) {
        None => true,
        Some(t) if t.starts_with('"') || t.starts_with("W/") => t.as_bytes() == v.etag,
        Some(t) => t.as_bytes() == &v.last_modified[..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seine_codec::http::Method;
    use std::time::Duration;

    fn validators() -> Validators {
        Validators::new(UNIX_EPOCH + Duration::from_secs(1_000_000_000), 13)
    }

    fn req(headers: &[(&str, &str)]) -> HttpRequest {
        let mut r = HttpRequest::new(Method::Get, "/f");
        for (n, v) in headers {
            r.headers.append(n.to_string(), v.to_string());
        }
        r
    }

    #[test]
    fn preconditions_in_rfc_order() {
        let v = validators();
        let tag = std::str::from_utf8(&v.etag).unwrap().to_string();
        let lm = std::str::from_utf8(&v.last_modified).unwrap().to_string();
        let weak = format!("W/{tag}");
        let old = "Mon, 01 Jan 2001 00:00:00 GMT";
        let new = "Mon, 01 Jan 2024 00:00:00 GMT";
        let future = "Mon, 01 Jan 2102 00:00:00 GMT";
        for (headers, want) in [
            (vec![], None),
            (vec![("If-None-Match", tag.as_str())], Some(304)),
            (vec![("If-None-Match", weak.as_str())], Some(304)),
            (vec![("If-None-Match", "\"x\", *")], Some(304)),
            (vec![("If-None-Match", "\"x\"")], None),
            // If-None-Match wins over If-Modified-Since.
            (
                vec![
                    ("If-None-Match", "\"x\""),
                    ("If-Modified-Since", lm.as_str()),
                ],
                None,
            ),
            (vec![("If-Modified-Since", lm.as_str())], Some(304)),
            (vec![("If-Modified-Since", old)], None),
            (vec![("If-Modified-Since", future)], None),
            (vec![("If-Modified-Since", "not a date")], None),
            (vec![("If-Match", tag.as_str())], None),
            (vec![("If-Match", "*")], None),
            (vec![("If-Match", "\"x\"")], Some(412)),
            // If-Match compares strongly.
            (vec![("If-Match", weak.as_str())], Some(412)),
            (vec![("If-Unmodified-Since", old)], Some(412)),
            (vec![("If-Unmodified-Since", new)], None),
            // If-Match wins over If-Unmodified-Since.
            (
                vec![("If-Match", tag.as_str()), ("If-Unmodified-Since", old)],
                None,
            ),
            // A passing If-Match then a matching If-None-Match: 304.
            (
                vec![("If-Match", tag.as_str()), ("If-None-Match", tag.as_str())],
                Some(304),
            ),
        ] {
            assert_eq!(precondition(&v, &req(&headers)), want, "{headers:?}");
        }
    }

    #[test]
    fn if_range_names_this_version_or_the_range_is_ignored() {
        let v = validators();
        let tag = std::str::from_utf8(&v.etag).unwrap().to_string();
        let lm = std::str::from_utf8(&v.last_modified).unwrap().to_string();
        assert!(if_range(&v, &req(&[])));
        assert!(if_range(&v, &req(&[("If-Range", &tag)])));
        assert!(if_range(&v, &req(&[("If-Range", &lm)])));
        assert!(!if_range(&v, &req(&[("If-Range", "\"x\"")])));
        assert!(!if_range(&v, &req(&[("If-Range", &format!("W/{tag}"))])));
        assert!(!if_range(
            &v,
            &req(&[("If-Range", "Mon, 01 Jan 2001 00:00:00 GMT")])
        ));
    }
}
