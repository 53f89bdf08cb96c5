//! The `Range` header (RFC 9110 §14.2): byte ranges of a file, one or several.

/// One satisfiable byte range, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteRange {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

impl ByteRange {
    /// How many bytes it covers.
    pub(crate) fn len(self) -> u64 {
        self.end - self.start + 1
    }
}

/// What a `Range` header asks of a file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RangeSet {
    /// Serve these ranges (sorted, overlapping and adjacent ones merged; at
    /// least one).
    Ranges(Vec<ByteRange>),
    /// No range of the set overlaps the file: 416.
    Unsatisfiable,
    /// Not a set we understand (another unit, a malformed spec, more ranges than
    /// allowed): the whole file is a valid answer (§14.2: a server may ignore
    /// `Range`).
    Ignore,
}

/// Parses `bytes=a-b, c-, -n, ...` against a file of `len` bytes, allowing at
/// most `max_ranges` ranges (more: [`RangeSet::Ignore`], as nginx's `max_ranges`).
pub(crate) fn parse(header: &str, len: u64, max_ranges: usize) -> RangeSet {
    let header = header.trim();
    let spec = match header.get(..6) {
        Some(unit) if unit.eq_ignore_ascii_case("bytes=") => &header[6..],
        _ => return RangeSet::Ignore,
    };
    if len == 0 {
        // An empty file: the whole (empty) file is a valid answer.
        return RangeSet::Ignore;
    }
    let mut ranges = Vec::new();
    let mut specs = 0;
    // Empty list elements (`a-b, , c-d`) are allowed by the list syntax.
    for one in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        specs += 1;
        if specs > max_ranges {
            return RangeSet::Ignore;
        }
        match parse_one(one, len) {
            One::Range(r) => ranges.push(r),
            One::Unsatisfiable => {}
            One::Invalid => return RangeSet::Ignore,
        }
    }
    if specs == 0 {
        return RangeSet::Ignore;
    }
    if ranges.is_empty() {
        return RangeSet::Unsatisfiable;
    }
    RangeSet::Ranges(coalesce(ranges))
}

enum One {
    Range(ByteRange),
    Unsatisfiable,
    Invalid,
}

/// One `a-b`, `a-` or `-n`.
fn parse_one(spec: &str, len: u64) -> One {
    let Some((a, b)) = spec.split_once('-') else {
        return One::Invalid;
    };
    let (a, b) = (a.trim(), b.trim());
    // Positions past what a u64 holds are past the end of any file.
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().unwrap_or(u64::MAX))
    };
    match (a.is_empty(), num(a), num(b)) {
        (true, _, Some(0)) => One::Unsatisfiable,
        // The last n bytes.
        (true, _, Some(n)) => One::Range(ByteRange {
            start: len.saturating_sub(n),
            end: len - 1,
        }),
        (false, Some(start), end) if b.is_empty() || end.is_some() => {
            if start >= len {
                return One::Unsatisfiable;
            }
            match end {
                Some(end) if end < start => One::Invalid,
                Some(end) => One::Range(ByteRange {
                    start,
                    end: end.min(len - 1),
                }),
                None => One::Range(ByteRange {
                    start,
                    end: len - 1,
                }),
            }
        }
        _ => One::Invalid,
    }
}

/// Sorts the ranges and merges those that overlap or touch (§14.2 lets a server
/// coalesce; a client asking for `0-10,5-20` gets one part, not the same bytes
/// twice).
fn coalesce(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    if ranges.len() < 2 {
        return ranges;
    }
    ranges.sort_unstable_by_key(|r| r.start);
    let mut out: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(1) => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    fn ranges(v: &[(u64, u64)]) -> RangeSet {
        RangeSet::Ranges(v.iter().map(|&(a, b)| r(a, b)).collect())
    }

    #[test]
    fn single_ranges_as_the_example_served_them() {
        for (h, want) in [
            ("bytes=0-4", ranges(&[(0, 4)])),
            ("bytes=7-", ranges(&[(7, 12)])),
            ("bytes=-3", ranges(&[(10, 12)])),
            ("bytes=5-100", ranges(&[(5, 12)])),
            ("bytes=-100", ranges(&[(0, 12)])),
            ("BYTES=0-4", ranges(&[(0, 4)])),
            ("bytes=2-99999999999999999999999", ranges(&[(2, 12)])),
            ("bytes=13-", RangeSet::Unsatisfiable),
            ("bytes=-0", RangeSet::Unsatisfiable),
            ("pages=1", RangeSet::Ignore),
            ("bytes=4-2", RangeSet::Ignore),
            ("bytes=x-2", RangeSet::Ignore),
            ("bytes=", RangeSet::Ignore),
            ("bytes", RangeSet::Ignore),
        ] {
            assert_eq!(parse(h, 13, 16), want, "{h}");
        }
    }

    #[test]
    fn several_ranges_are_sorted_and_merged() {
        assert_eq!(parse("bytes=0-1,3-4", 13, 16), ranges(&[(0, 1), (3, 4)]));
        assert_eq!(parse("bytes=8-9, 0-1", 13, 16), ranges(&[(0, 1), (8, 9)]));
        assert_eq!(parse("bytes=0-5,3-8,9-9", 13, 16), ranges(&[(0, 9)]));
        assert_eq!(parse("bytes=0-1,,-2", 13, 16), ranges(&[(0, 1), (11, 12)]));
        // Unsatisfiable members are dropped; all of them: 416.
        assert_eq!(parse("bytes=0-1,50-60", 13, 16), ranges(&[(0, 1)]));
        assert_eq!(parse("bytes=50-60,-0", 13, 16), RangeSet::Unsatisfiable);
        // One malformed member spoils the set.
        assert_eq!(parse("bytes=0-1,oops", 13, 16), RangeSet::Ignore);
    }

    #[test]
    fn too_many_ranges_or_an_empty_file_serve_the_whole_file() {
        let many = (0..17).map(|i| format!("{i}-{i}")).collect::<Vec<_>>();
        let h = format!("bytes={}", many.join(","));
        assert_eq!(parse(&h, 100, 16), RangeSet::Ignore);
        assert!(matches!(parse(&h, 100, 17), RangeSet::Ranges(_)));
        assert_eq!(parse("bytes=-5", 0, 16), RangeSet::Ignore);
    }

    #[test]
    fn hostile_specs_never_panic() {
        for h in [
            "bytes=18446744073709551615-",
            "bytes=-18446744073709551615",
            "bytes=0-18446744073709551615",
            "bytes=18446744073709551614-18446744073709551615",
            "bytes=--",
            "bytes=-",
            "bytes=1--2",
            "bytes=,,,,",
        ] {
            let _ = parse(h, u64::MAX, 16);
            let _ = parse(h, 1, 16);
        }
    }
}
