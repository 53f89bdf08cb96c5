//! [`RespValue`] (any RESP2 value: replies, nested arrays) and [`RespCommand`]
//! (what a client sends: an array of bulk strings, or an inline command).

use std::fmt;

use seine_buffer::Bytes;
use smallvec::SmallVec;

/// A RESP2 value, as a server writes it or a client reads it.
///
/// Strings are [`Bytes`], so static replies cost nothing to build
/// (`RespValue::simple("OK")`) and bulk strings decoded from the wire are views of
/// the received buffer.
///
/// # Examples
///
/// ```
/// use seine_codec::resp::RespValue;
///
/// let reply = RespValue::Array(vec![RespValue::bulk("a"), RespValue::Null, RespValue::Integer(3)]);
/// assert_eq!(reply.to_vec(), b"*3\r\n$1\r\na\r\n$-1\r\n:3\r\n");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum RespValue {
    /// `+<text>\r\n`; the text must not contain CR or LF.
    Simple(Bytes),
    /// `-<text>\r\n`, by convention starting with an error code (`ERR`, `WRONGTYPE`);
    /// the text must not contain CR or LF.
    Error(Bytes),
    /// `:<n>\r\n`.
    Integer(i64),
    /// `$<len>\r\n<bytes>\r\n`, binary-safe.
    Bulk(Bytes),
    /// The null bulk string, `$-1\r\n` (`GET` of a missing key).
    Null,
    /// The null array, `*-1\r\n`.
    NullArray,
    /// `*<n>\r\n` followed by `n` values (which may be arrays).
    Array(Vec<RespValue>),
}

impl RespValue {
    /// `+OK\r\n`. O(1), no allocation.
    ///
    /// ```
    /// assert_eq!(seine_codec::resp::RespValue::ok().to_vec(), b"+OK\r\n");
    /// ```
    pub const fn ok() -> Self {
        RespValue::Simple(Bytes::from_static(b"OK"))
    }

    /// A simple string from static text. O(1), no allocation or copy.
    ///
    /// ```
    /// assert_eq!(seine_codec::resp::RespValue::simple("PONG").to_vec(), b"+PONG\r\n");
    /// ```
    pub const fn simple(text: &'static str) -> Self {
        RespValue::Simple(Bytes::from_static(text.as_bytes()))
    }

    /// An error reply. Takes a `&'static str` without copying, or a `String`
    /// without copying it again.
    ///
    /// ```
    /// use seine_codec::resp::RespValue;
    /// let e = RespValue::error(format!("ERR unknown command '{}'", "FOO"));
    /// assert_eq!(e.to_vec(), b"-ERR unknown command 'FOO'\r\n");
    /// ```
    pub fn error(text: impl Into<Bytes>) -> Self {
        RespValue::Error(text.into())
    }

    /// A bulk string. `Bytes` are taken as they are (no copy); `&'static` data is
    /// wrapped; a `Vec<u8>` or `String` is moved, not copied.
    ///
    /// ```
    /// use seine_codec::resp::RespValue;
    /// assert_eq!(RespValue::bulk("hi").to_vec(), b"$2\r\nhi\r\n");
    /// ```
    pub fn bulk(data: impl Into<Bytes>) -> Self {
        RespValue::Bulk(data.into())
    }

    /// The payload of a simple string, error or bulk string.
    ///
    /// ```
    /// use seine_codec::resp::RespValue;
    /// assert_eq!(RespValue::bulk("x").as_bytes(), Some(&b"x"[..]));
    /// assert_eq!(RespValue::Integer(1).as_bytes(), None);
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            RespValue::Simple(b) | RespValue::Error(b) | RespValue::Bulk(b) => Some(b),
            _ => None,
        }
    }

    /// Whether this is an error reply.
    ///
    /// ```
    /// assert!(seine_codec::resp::RespValue::error("ERR x").is_error());
    /// ```
    pub fn is_error(&self) -> bool {
        matches!(self, RespValue::Error(_))
    }

    /// The encoded bytes, copied into a new `Vec` (for tests and logs; servers write
    /// values through [`RespEncoder`](super::RespEncoder), which copies no large bulk).
    ///
    /// ```
    /// assert_eq!(seine_codec::resp::RespValue::Integer(-7).to_vec(), b":-7\r\n");
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        super::encoder::to_vec(self)
    }
}

impl fmt::Debug for RespValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
        match self {
            RespValue::Simple(b) => write!(f, "Simple({:?})", text(b)),
            RespValue::Error(b) => write!(f, "Error({:?})", text(b)),
            RespValue::Integer(n) => write!(f, "Integer({n})"),
            RespValue::Bulk(b) if b.len() <= 64 => write!(f, "Bulk({:?})", text(b)),
            RespValue::Bulk(b) => write!(f, "Bulk({} bytes)", b.len()),
            RespValue::Null => f.write_str("Null"),
            RespValue::NullArray => f.write_str("NullArray"),
            RespValue::Array(items) => f.debug_list().entries(items).finish(),
        }
    }
}

impl From<i64> for RespValue {
    fn from(n: i64) -> Self {
        RespValue::Integer(n)
    }
}

impl From<Option<Bytes>> for RespValue {
    /// `Some(b)` is a bulk string, `None` the null bulk string.
    fn from(b: Option<Bytes>) -> Self {
        b.map_or(RespValue::Null, RespValue::Bulk)
    }
}

/// Arguments stored inline before a command allocates: enough for `SET key value
/// EX 10`.
pub(crate) const INLINE_ARGS: usize = 5;

/// A command as a client sends it: its name and arguments, each a [`Bytes`] view of
/// the received buffer (see [`RespCommandDecoder`](super::RespCommandDecoder) for
/// when an argument is copied).
///
/// Up to five arguments (the name included) are stored inline: decoding such a
/// command allocates nothing.
///
/// # Examples
///
/// ```
/// use seine_codec::resp::RespCommand;
///
/// let cmd = RespCommand::from_args(["set", "k", "v"]);
/// assert!(cmd.is("SET"));
/// assert_eq!(cmd.arg(1).map(|a| &a[..]), Some(&b"k"[..]));
/// assert_eq!(cmd.len(), 3);
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RespCommand {
    args: SmallVec<[Bytes; INLINE_ARGS]>,
}

impl RespCommand {
    pub(crate) fn from_smallvec(args: SmallVec<[Bytes; INLINE_ARGS]>) -> Self {
        RespCommand { args }
    }

    /// A command from its parts (for clients and tests). Each part is converted
    /// into `Bytes` (static data and owned buffers are not copied).
    ///
    /// ```
    /// let cmd = seine_codec::resp::RespCommand::from_args(["PING"]);
    /// assert_eq!(cmd.name(), b"PING");
    /// ```
    pub fn from_args<I, A>(args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<Bytes>,
    {
        RespCommand {
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// The command name as sent (first argument; empty for an empty command).
    ///
    /// ```
    /// assert_eq!(seine_codec::resp::RespCommand::from_args(["get", "k"]).name(), b"get");
    /// ```
    pub fn name(&self) -> &[u8] {
        self.args.first().map_or(&[], |b| &b[..])
    }

    /// Whether the name equals `name`, ignoring ASCII case. No allocation.
    ///
    /// ```
    /// assert!(seine_codec::resp::RespCommand::from_args(["PiNg"]).is("ping"));
    /// ```
    pub fn is(&self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name.as_bytes())
    }

    /// All arguments, the name first.
    ///
    /// ```
    /// let cmd = seine_codec::resp::RespCommand::from_args(["DEL", "a", "b"]);
    /// assert_eq!(cmd.args().len(), 3);
    /// ```
    pub fn args(&self) -> &[Bytes] {
        &self.args
    }

    /// Argument `i` (0 is the name).
    ///
    /// ```
    /// let cmd = seine_codec::resp::RespCommand::from_args(["GET", "k"]);
    /// assert!(cmd.arg(2).is_none());
    /// ```
    pub fn arg(&self, i: usize) -> Option<&Bytes> {
        self.args.get(i)
    }

    /// Number of arguments, the name included.
    ///
    /// ```
    /// assert_eq!(seine_codec::resp::RespCommand::from_args(["PING"]).len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether there are no arguments at all.
    ///
    /// ```
    /// assert!(seine_codec::resp::RespCommand::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// The arguments, moved out (no copy).
    ///
    /// ```
    /// let cmd = seine_codec::resp::RespCommand::from_args(["SET", "k", "v"]);
    /// let args: Vec<_> = cmd.into_args().collect();
    /// assert_eq!(args[2], "v");
    /// ```
    pub fn into_args(self) -> impl ExactSizeIterator<Item = Bytes> + DoubleEndedIterator {
        self.args.into_iter()
    }

    /// The command as a RESP array of bulk strings (what a client writes). O(args),
    /// no payload copy.
    ///
    /// ```
    /// let cmd = seine_codec::resp::RespCommand::from_args(["PING"]);
    /// assert_eq!(cmd.to_value().to_vec(), b"*1\r\n$4\r\nPING\r\n");
    /// ```
    pub fn to_value(&self) -> RespValue {
        RespValue::Array(self.args.iter().cloned().map(RespValue::Bulk).collect())
    }
}

impl fmt::Debug for RespCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.args.iter().map(|a| String::from_utf8_lossy(a)))
            .finish()
    }
}
