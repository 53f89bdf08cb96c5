//! [`HttpRequest`], its [`Method`] and [`Version`].

use std::fmt;

use seine_buffer::{Bytes, CompositeBuf};

use super::headers::HttpHeaders;

/// An HTTP request method. The registered methods are variants; any other token is
/// kept as [`Method::Other`].
///
/// ```
/// use seine_codec::http::Method;
/// assert_eq!(Method::from_token("GET"), Method::Get);
/// assert_eq!(Method::from_token("PURGE").as_str(), "PURGE");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`: the response carries headers only.
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `PATCH`
    Patch,
    /// `CONNECT`
    Connect,
    /// `TRACE`
    Trace,
    /// Any other token (methods are case-sensitive).
    Other(String),
}

impl Method {
    /// The method for a token (case-sensitive, as HTTP says).
    ///
    /// ```
    /// use seine_codec::http::Method;
    /// assert_eq!(Method::from_token("get"), Method::Other("get".into()));
    /// ```
    pub fn from_token(token: &str) -> Self {
        match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            "CONNECT" => Method::Connect,
            "TRACE" => Method::Trace,
            other => Method::Other(other.to_owned()),
        }
    }

    /// The method's token.
    ///
    /// ```
    /// assert_eq!(seine_codec::http::Method::Head.as_str(), "HEAD");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
            Method::Connect => "CONNECT",
            Method::Trace => "TRACE",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The HTTP version of a request.
///
/// ```
/// use seine_codec::http::Version;
/// assert_eq!(Version::Http11.as_str(), "HTTP/1.1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// HTTP/1.0: connections close after the response unless `Connection: keep-alive`.
    Http10,
    /// HTTP/1.1: connections stay open unless `Connection: close`.
    #[default]
    Http11,
}

impl Version {
    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    ///
    /// ```
    /// assert_eq!(seine_codec::http::Version::Http10.as_str(), "HTTP/1.0");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// A decoded request: the head, and the whole body.
///
/// The request target and header fields are [`Bytes`] views of the received head
/// (copied once only if the head arrived split across reads of 1 KiB or more); the
/// body is a [`CompositeBuf`] of the received segments, never copied (a chunked
/// body is the concatenation of its chunks' data, still uncopied).
///
/// # Examples
///
/// ```
/// use seine_codec::http::{HttpRequest, Method};
///
/// let mut req = HttpRequest::new(Method::Get, "/files/a.txt?download=1");
/// req.headers.append("Connection", "close");
/// assert_eq!(req.path(), "/files/a.txt");
/// assert_eq!(req.query(), Some("download=1"));
/// assert!(!req.keep_alive());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The request target as sent (`/path?query`, or an absolute URI), UTF-8.
    pub uri: Bytes,
    /// The version.
    pub version: Version,
    /// The header fields.
    pub headers: HttpHeaders,
    /// The body (empty when the request has none).
    pub body: CompositeBuf,
}

impl HttpRequest {
    /// A request with no headers and no body (for tests and clients).
    ///
    /// ```
    /// let req = seine_codec::http::HttpRequest::new(seine_codec::http::Method::Get, "/");
    /// assert_eq!(req.uri_str(), "/");
    /// ```
    pub fn new(method: Method, uri: impl Into<Bytes>) -> Self {
        HttpRequest {
            method,
            uri: uri.into(),
            version: Version::Http11,
            headers: HttpHeaders::new(),
            body: CompositeBuf::new(),
        }
    }

    /// The request target as text ("" if it is not UTF-8, which the decoder never
    /// produces).
    ///
    /// ```
    /// let req = seine_codec::http::HttpRequest::new(seine_codec::http::Method::Get, "/a?b");
    /// assert_eq!(req.uri_str(), "/a?b");
    /// ```
    pub fn uri_str(&self) -> &str {
        std::str::from_utf8(&self.uri).unwrap_or("")
    }

    /// The target's path: up to `?` or `#`, still percent-encoded. For an
    /// absolute-form target (`http://host/p?q`, which RFC 9112 §3.2.2 says servers
    /// must accept), the path after the authority (`/` if there is none).
    ///
    /// ```
    /// use seine_codec::http::{HttpRequest, Method};
    /// assert_eq!(HttpRequest::new(Method::Get, "/a%20b?x").path(), "/a%20b");
    /// assert_eq!(HttpRequest::new(Method::Get, "http://h:80/a?x").path(), "/a");
    /// assert_eq!(HttpRequest::new(Method::Get, "HTTPS://h?x").path(), "/");
    /// ```
    pub fn path(&self) -> &str {
        let uri = self.origin_form();
        if !uri.starts_with('/') && self.uri_str().len() != uri.len() {
            return "/";
        }
        // Byte search: both delimiters are ASCII, so the cut is a char boundary.
        let end = uri
            .bytes()
            .position(|b| b == b'?' || b == b'#')
            .unwrap_or(uri.len());
        &uri[..end]
    }

    /// The target without an absolute form's `scheme://authority`.
    fn origin_form(&self) -> &str {
        let uri = self.uri_str();
        if uri.starts_with('/') {
            return uri;
        }
        let Some(colon) = uri.find("://") else {
            return uri;
        };
        let scheme = &uri[..colon];
        if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
            return uri;
        }
        let rest = &uri[colon + 3..];
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        &rest[end..]
    }

    /// The target's query (after `?`, before `#`), if any.
    ///
    /// ```
    /// let req = seine_codec::http::HttpRequest::new(seine_codec::http::Method::Get, "/?q=1#top");
    /// assert_eq!(req.query(), Some("q=1"));
    /// ```
    pub fn query(&self) -> Option<&str> {
        let uri = self.uri_str();
        let start = uri.find('?')? + 1;
        let end = uri[start..].find('#').map_or(uri.len(), |e| start + e);
        Some(&uri[start..end])
    }

    /// The first value of header `name` as text.
    ///
    /// ```
    /// let mut req = seine_codec::http::HttpRequest::new(seine_codec::http::Method::Get, "/");
    /// req.headers.append("Host", "example.com");
    /// assert_eq!(req.header("host"), Some("example.com"));
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get_str(name)
    }

    /// Whether the connection stays open after this request's response: HTTP/1.1
    /// unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    ///
    /// ```
    /// use seine_codec::http::{HttpRequest, Method, Version};
    /// let mut req = HttpRequest::new(Method::Get, "/");
    /// assert!(req.keep_alive());
    /// req.version = Version::Http10;
    /// assert!(!req.keep_alive());
    /// req.headers.append("Connection", "Keep-Alive");
    /// assert!(req.keep_alive());
    /// ```
    pub fn keep_alive(&self) -> bool {
        match self.version {
            Version::Http11 => !self.headers.has_token("connection", "close"),
            Version::Http10 => {
                self.headers.has_token("connection", "keep-alive")
                    && !self.headers.has_token("connection", "close")
            }
        }
    }
}
