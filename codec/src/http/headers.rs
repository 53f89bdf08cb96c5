//! [`HttpHeaders`]: header fields in order, names compared ignoring ASCII case.

use std::fmt;

use seine_buffer::Bytes;

/// Header fields, in the order received or added. Names and values are [`Bytes`]:
/// a decoded request's are views of the received head (no copy), and static
/// strings given to [`insert`](Self::insert) / [`append`](Self::append) are not
/// copied either. Lookups compare names ignoring ASCII case and walk the list
/// (O(fields)). The fields are on the heap: a request or response is moved from
/// handler to handler, and eight inline fields made each move a 512-byte copy.
///
/// # Examples
///
/// ```
/// use seine_codec::http::HttpHeaders;
///
/// let mut h = HttpHeaders::new();
/// h.append("Accept", "text/html");
/// h.append("accept", "text/plain");
/// h.insert("Content-Type", "text/plain");
/// assert_eq!(h.get_all("ACCEPT").count(), 2);
/// assert_eq!(h.get_str("content-type"), Some("text/plain"));
/// h.remove("accept");
/// assert_eq!(h.len(), 1);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HttpHeaders {
    fields: Vec<(Bytes, Bytes)>,
}

impl HttpHeaders {
    /// No fields. Does not allocate.
    ///
    /// ```
    /// assert!(seine_codec::http::HttpHeaders::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The first value of `name`.
    ///
    /// ```
    /// let mut h = seine_codec::http::HttpHeaders::new();
    /// h.append("Host", "example.com");
    /// assert_eq!(h.get("host").unwrap(), "example.com");
    /// ```
    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The first value of `name` as text, if it is UTF-8.
    ///
    /// ```
    /// let mut h = seine_codec::http::HttpHeaders::new();
    /// h.append("X-Bin", &b"\xff"[..]);
    /// assert_eq!(h.get_str("x-bin"), None);
    /// ```
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of `name`, in order.
    ///
    /// ```
    /// let mut h = seine_codec::http::HttpHeaders::new();
    /// h.append("Via", "a");
    /// h.append("Via", "b");
    /// assert_eq!(h.get_all("via").collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Bytes> {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Whether `name` is present.
    ///
    /// ```
    /// let mut h = seine_codec::http::HttpHeaders::new();
    /// h.append("Host", "x");
    /// assert!(h.contains("HOST"));
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether a comma-separated value of `name` holds `token` (ignoring ASCII case
    /// and spaces), as in `Connection: keep-alive, Upgrade`.
    ///
    /// ```
    /// let mut h = seine_codec::http::HttpHeaders::new();
    /// h.append("Connection", "Keep-Alive, Upgrade");
    /// assert!(h.has_token("connection", "upgrade"));
    /// assert!(!h.has_token("connection", "close"));
    /// ```
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name).any(|v| {
            v.split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    }

    /// Adds a field after the others (keeping existing fields of the same name).
    /// `&'static str` and `Bytes` are not copied.
    ///
    /// ```
    /// let mut h = seine_codec::http::HttpHeaders::new();
    /// h.append("Set-Cookie", "a=1");
    /// h.append("Set-Cookie", "b=2");
    /// assert_eq!(h.len(), 2);
    /// ```
    pub fn append(&mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) {
        self.fields.push((name.into(), value.into()));
    }

    /// Sets `name` to `value`, replacing every field of that name (the first one in
    /// place, so the order stays stable).
    ///
    /// ```
    /// let mut h = seine_codec::http::HttpHeaders::new();
    /// h.append("Content-Length", "1");
    /// h.insert("content-length", "2");
    /// assert_eq!(h.get("Content-Length").unwrap(), "2");
    /// assert_eq!(h.len(), 1);
    /// ```
    pub fn insert(&mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) {
        let name = name.into();
        let value = value.into();
        let mut first = None;
        let mut i = 0;
        while i < self.fields.len() {
            if self.fields[i].0.eq_ignore_ascii_case(&name) {
                if first.is_none() {
                    first = Some(i);
                    i += 1;
                } else {
                    self.fields.remove(i);
                }
            } else {
                i += 1;
            }
        }
        match first {
            Some(i) => self.fields[i].1 = value,
            None => self.fields.push((name, value)),
        }
    }

    /// Removes every field named `name`; returns how many there were.
    ///
    /// ```
    /// let mut h = seine_codec::http::HttpHeaders::new();
    /// h.append("A", "1");
    /// assert_eq!(h.remove("a"), 1);
    /// assert_eq!(h.remove("a"), 0);
    /// ```
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.fields.len();
        self.fields
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name.as_bytes()));
        before - self.fields.len()
    }

    /// The fields in order, as (name, value).
    ///
    /// ```
    /// let mut h = seine_codec::http::HttpHeaders::new();
    /// h.append("A", "1");
    /// let (n, v) = h.iter().next().unwrap();
    /// assert_eq!((&n[..], &v[..]), (&b"A"[..], &b"1"[..]));
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Bytes, &Bytes)> {
        self.fields.iter().map(|(n, v)| (n, v))
    }

    /// Number of fields.
    ///
    /// ```
    /// assert_eq!(seine_codec::http::HttpHeaders::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    ///
    /// ```
    /// assert!(seine_codec::http::HttpHeaders::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub(crate) fn reserve(&mut self, n: usize) {
        self.fields.reserve(n);
    }
}

impl fmt::Debug for HttpHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.fields
                    .iter()
                    .map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}
