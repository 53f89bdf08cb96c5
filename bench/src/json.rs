//! A one-line JSON object writer for machine-readable results (numbers and strings only).

use std::fmt::Write;

/// Builds `{"k":v,...}` in insertion order.
#[derive(Default)]
pub struct JsonLine {
    out: String,
}

impl JsonLine {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&mut self, k: &str) {
        self.out.push(if self.out.is_empty() { '{' } else { ',' });
        let _ = write!(self.out, "\"{k}\":");
    }

    /// Adds a number (non-finite values become `null`).
    pub fn num(&mut self, k: &str, v: f64) -> &mut Self {
        self.key(k);
        if v.is_finite() {
            if v == v.trunc() && v.abs() < 1e15 {
                let _ = write!(self.out, "{}", v as i64);
            } else {
                let _ = write!(self.out, "{v:.6}");
            }
        } else {
            self.out.push_str("null");
        }
        self
    }

    /// Adds an integer.
    pub fn int(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        let _ = write!(self.out, "{v}");
        self
    }

    /// Adds a string (escaped).
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        self.out.push('"');
        for c in v.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.out, "\\u{:04x}", c as u32);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
        self
    }

    /// The finished object.
    pub fn finish(&self) -> String {
        if self.out.is_empty() {
            "{}".to_string()
        } else {
            format!("{}}}", self.out)
        }
    }
}

/// Extracts the raw value of `"key":` from a one-line JSON object (numbers and simple
/// strings: enough to read back what [`JsonLine`] wrote).
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":");
    let start = line.find(&pat)? + pat.len();
    let rest = &line[start..];
    if let Some(s) = rest.strip_prefix('"') {
        return s.find('"').map(|e| &s[..e]);
    }
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        let l = JsonLine::new()
            .num("a", 1.5)
            .int("b", 7)
            .str("c", "x\"y")
            .num("d", f64::NAN)
            .finish();
        assert_eq!(l, r#"{"a":1.500000,"b":7,"c":"x\"y","d":null}"#);
        assert_eq!(field(&l, "a"), Some("1.500000"));
        assert_eq!(field(&l, "b"), Some("7"));
        assert_eq!(field(&l, "d"), Some("null"));
    }
}
