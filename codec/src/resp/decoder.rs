//! [`RespCommandDecoder`]: what a Redis server reads, commands as arrays of bulk
//! strings (RESP2) or inline commands.

use seine_buffer::{Buf, Bytes, CompositeBuf};
use smallvec::SmallVec;

use super::scan_input::{Input, Line, header_line};
use super::value::{INLINE_ARGS, RespCommand};
use crate::decoder::Decoder;
use crate::error::{CodecError, Corruption};

/// Default [`RespCommandDecoder::max_bulk_length`]: 512 MiB, Redis's
/// `proto-max-bulk-len`.
pub const DEFAULT_MAX_BULK_LENGTH: usize = 512 * 1024 * 1024;
/// Default [`RespCommandDecoder::max_array_length`]: 1 Mi arguments.
pub const DEFAULT_MAX_ARRAY_LENGTH: usize = 1024 * 1024;
/// Default [`RespCommandDecoder::max_inline_length`]: 64 KiB, Redis's
/// `PROTO_INLINE_MAX_SIZE`.
pub const DEFAULT_MAX_INLINE_LENGTH: usize = 64 * 1024;

/// Decodes client commands: RESP2 arrays of bulk strings
/// (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline commands (`PING\r\n`, arguments
/// separated by spaces or tabs, quoted as `redis-cli` quotes them: `SET "a b" 'c'`).
///
/// # Cost
///
/// * Each argument is a [`Bytes`] view of the received buffer, **not a copy**,
///   whenever it lies in one received segment (with the default adaptive
///   cumulation, small reads are merged into one segment, so this is the common
///   case). An argument that straddles two segments is copied once into its own
///   buffer ([`copied_bytes`](Self::copied_bytes) counts these bytes).
/// * A command of up to five arguments allocates nothing (they are stored inline).
/// * Parsing is resumable: a command that arrives in pieces is never scanned twice,
///   so a large value arriving slowly costs O(1) per read until it is complete.
///
/// # Limits
///
/// Nothing is allocated for what a peer claims: a bulk string longer than
/// [`max_bulk_length`](RespCommandDecoderBuilder::max_bulk_length) or an array longer than
/// [`max_array_length`](RespCommandDecoderBuilder::max_array_length) is refused as soon as its header is read
/// ([`CodecError::TooLongFrame`]); malformed headers, a negative bulk length, or a
/// nested array are [`CodecError::CorruptFrame`], and so are unbalanced quotes in an
/// inline command. `*0` and negative counts such as `*-1` are empty commands and
/// skipped, as Redis does.
///
/// # Examples
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::Decoder;
/// use seine_codec::resp::RespCommandDecoder;
///
/// let mut dec = RespCommandDecoder::new();
/// let mut buf = CompositeBuf::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*1\r\n$4\r\nEC"[..]);
/// let get = dec.decode(&mut buf).unwrap().unwrap();
/// assert!(get.is("get"));
/// assert_eq!(get.arg(1).unwrap(), "k");
/// assert!(dec.decode(&mut buf).unwrap().unwrap().is("PING")); // inline
/// assert!(dec.decode(&mut buf).unwrap().is_none()); // the rest has not arrived
/// ```
#[derive(Clone, Debug)]
pub struct RespCommandDecoder {
    max_bulk_length: usize,
    max_array_length: usize,
    max_inline_length: usize,
    /// The array being parsed, if its header was read.
    partial: Option<Partial>,
    /// Start and length of each argument parsed so far (reused between commands).
    spans: Vec<(usize, usize)>,
    copied: u64,
}

#[derive(Debug, Clone, Copy)]
struct Partial {
    /// Arguments announced.
    argc: usize,
    /// Where the next unparsed byte is.
    pos: usize,
    /// A bulk string whose header was read: its payload's start and length.
    bulk: Option<(usize, usize)>,
}

/// What a scan found.
enum Scan {
    /// More bytes are needed.
    Incomplete,
    /// An empty command of this many bytes (`*0\r\n`, a blank inline line).
    Skip(usize),
    /// An array command ending at this index; its spans are in `self.spans`.
    Array(usize),
    /// An inline command: the line's content ends at `content`, the line at `end`.
    Inline { content: usize, end: usize },
}

/// Configures a [`RespCommandDecoder`]; made by [`RespCommandDecoder::builder`].
/// Defaults: Redis's limits, as [`RespCommandDecoder::new`].
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::{CodecError, Decoder};
/// use seine_codec::resp::RespCommandDecoder;
///
/// let mut dec = RespCommandDecoder::builder()
///     .max_bulk_length(4)
///     .max_array_length(16)
///     .max_inline_length(8)
///     .build()?;
/// assert_eq!(dec.max_array_length(), 16);
/// let mut buf = CompositeBuf::from(&b"*1\r\n$5\r\n"[..]);
/// assert_eq!(dec.decode(&mut buf), Err(CodecError::TooLongFrame { length: 5, max: 4 }));
/// let mut buf = CompositeBuf::from(&b"PING PONG PING"[..]);
/// assert!(dec.decode(&mut buf).is_err());
/// # Ok::<(), CodecError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "call build() to get the decoder"]
pub struct RespCommandDecoderBuilder {
    max_bulk_length: usize,
    max_array_length: usize,
    max_inline_length: usize,
}

impl Default for RespCommandDecoderBuilder {
    fn default() -> Self {
        RespCommandDecoderBuilder {
            max_bulk_length: DEFAULT_MAX_BULK_LENGTH,
            max_array_length: DEFAULT_MAX_ARRAY_LENGTH,
            max_inline_length: DEFAULT_MAX_INLINE_LENGTH,
        }
    }
}

impl RespCommandDecoderBuilder {
    /// The longest bulk string accepted, in bytes (Redis's `proto-max-bulk-len`).
    pub fn max_bulk_length(mut self, max: usize) -> Self {
        self.max_bulk_length = max;
        self
    }

    /// The largest number of arguments (the name included) accepted.
    pub fn max_array_length(mut self, max: usize) -> Self {
        self.max_array_length = max;
        self
    }

    /// The longest inline command line accepted, in bytes.
    pub fn max_inline_length(mut self, max: usize) -> Self {
        self.max_inline_length = max;
        self
    }

    /// Builds the decoder. Does not allocate.
    ///
    /// # Errors
    ///
    /// None today (every limit is valid); the `Result` keeps one convention
    /// across the codecs' builders.
    pub fn build(self) -> Result<RespCommandDecoder, CodecError> {
        Ok(RespCommandDecoder {
            max_bulk_length: self.max_bulk_length,
            max_array_length: self.max_array_length,
            max_inline_length: self.max_inline_length,
            partial: None,
            spans: Vec::new(),
            copied: 0,
        })
    }
}

impl Default for RespCommandDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl RespCommandDecoder {
    /// A decoder with Redis's limits (512 MiB bulk strings, 64 KiB inline commands)
    /// and at most 1 Mi arguments per command. Does not allocate.
    ///
    /// ```
    /// let dec = seine_codec::resp::RespCommandDecoder::new();
    /// assert_eq!(dec.max_bulk_length(), 512 * 1024 * 1024);
    /// ```
    pub fn new() -> Self {
        RespCommandDecoder {
            max_bulk_length: DEFAULT_MAX_BULK_LENGTH,
            max_array_length: DEFAULT_MAX_ARRAY_LENGTH,
            max_inline_length: DEFAULT_MAX_INLINE_LENGTH,
            partial: None,
            spans: Vec::new(),
            copied: 0,
        }
    }

    /// A builder with the defaults of [`new`](Self::new).
    pub fn builder() -> RespCommandDecoderBuilder {
        RespCommandDecoderBuilder::default()
    }

    /// The longest bulk string accepted, in bytes.
    ///
    /// ```
    /// let dec = seine_codec::resp::RespCommandDecoder::new();
    /// assert_eq!(dec.max_bulk_length(), 512 * 1024 * 1024);
    /// ```
    pub fn max_bulk_length(&self) -> usize {
        self.max_bulk_length
    }

    /// The largest number of arguments (the name included) accepted.
    ///
    /// ```
    /// let dec = seine_codec::resp::RespCommandDecoder::new();
    /// assert_eq!(dec.max_array_length(), 1024 * 1024);
    /// ```
    pub fn max_array_length(&self) -> usize {
        self.max_array_length
    }

    /// The longest inline command line accepted, in bytes.
    ///
    /// ```
    /// let dec = seine_codec::resp::RespCommandDecoder::new();
    /// assert_eq!(dec.max_inline_length(), 64 * 1024);
    /// ```
    pub fn max_inline_length(&self) -> usize {
        self.max_inline_length
    }

    /// Bytes of arguments copied so far because they straddled segments.
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    /// use seine_codec::Decoder;
    /// use seine_codec::resp::RespCommandDecoder;
    ///
    /// let mut dec = RespCommandDecoder::new();
    /// let mut buf: CompositeBuf = [Bytes::from_static(b"*1\r\n$4\r\nPI"), Bytes::from_static(b"NG\r\n")]
    ///     .into_iter()
    ///     .collect();
    /// assert!(dec.decode(&mut buf).unwrap().unwrap().is("PING"));
    /// assert_eq!(dec.copied_bytes(), 4);
    /// ```
    pub fn copied_bytes(&self) -> u64 {
        self.copied
    }

    /// Whether part of a command has been read (and is waiting for the rest).
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::Decoder;
    /// use seine_codec::resp::RespCommandDecoder;
    ///
    /// let mut dec = RespCommandDecoder::new();
    /// let mut buf = CompositeBuf::from(&b"*1\r\n"[..]);
    /// assert!(dec.decode(&mut buf).unwrap().is_none());
    /// assert!(dec.is_partial());
    /// ```
    pub fn is_partial(&self) -> bool {
        self.partial.is_some()
    }

    fn corrupt(&mut self, reason: Corruption) -> CodecError {
        self.reset();
        CodecError::CorruptFrame { reason }
    }

    fn too_long(&mut self, length: u64, max: usize) -> CodecError {
        self.reset();
        CodecError::TooLongFrame { length, max }
    }

    fn reset(&mut self) {
        self.partial = None;
        self.spans.clear();
    }

    /// Scans from where the last call stopped, without consuming anything.
    #[inline]
    fn scan<I: Input + ?Sized>(&mut self, input: &I) -> Result<Scan, CodecError> {
        let mut p = match self.partial {
            Some(p) => p,
            None => {
                if input.len() == 0 {
                    return Ok(Scan::Incomplete);
                }
                if input.byte(0) != b'*' {
                    return self.scan_inline(input);
                }
                let (n, pos) = match header_line(input, 0) {
                    Ok(Line::Done(n, pos)) => (n, pos),
                    Ok(Line::Partial) => return Ok(Scan::Incomplete),
                    Err(reason) => return Err(self.corrupt(reason)),
                };
                if n <= 0 {
                    // Redis skips `*0`, `*-1` and any other negative count alike.
                    return Ok(Scan::Skip(pos));
                }
                if n as u64 > self.max_array_length as u64 {
                    return Err(self.too_long(n as u64, self.max_array_length));
                }
                self.spans.clear();
                Partial {
                    argc: n as usize,
                    pos,
                    bulk: None,
                }
            }
        };
        let len = input.len();
        loop {
            if let Some((start, n)) = p.bulk {
                let end = start.saturating_add(n).saturating_add(2);
                if len < end {
                    self.partial = Some(p);
                    return Ok(Scan::Incomplete);
                }
                if input.byte(end - 2) != b'\r' || input.byte(end - 1) != b'\n' {
                    return Err(self.corrupt(Corruption::RespBulkNotCrlf {
                        length: n,
                        offset: start,
                    }));
                }
                self.spans.push((start, n));
                p.bulk = None;
                p.pos = end;
            }
            if self.spans.len() == p.argc {
                self.partial = None;
                return Ok(Scan::Array(p.pos));
            }
            if p.pos >= len {
                self.partial = Some(p);
                return Ok(Scan::Incomplete);
            }
            let kind = input.byte(p.pos);
            if kind != b'$' {
                return Err(self.corrupt(Corruption::RespExpectedBulk {
                    argument: self.spans.len(),
                    offset: p.pos,
                    found: kind,
                }));
            }
            let header = p.pos;
            let (n, start) = match header_line(input, p.pos) {
                Ok(Line::Done(n, start)) => (n, start),
                Ok(Line::Partial) => {
                    self.partial = Some(p);
                    return Ok(Scan::Incomplete);
                }
                Err(reason) => return Err(self.corrupt(reason)),
            };
            if n < 0 {
                return Err(self.corrupt(Corruption::RespInvalidBulkLength {
                    length: n,
                    offset: header,
                }));
            }
            if n as u64 > self.max_bulk_length as u64 {
                return Err(self.too_long(n as u64, self.max_bulk_length));
            }
            p.bulk = Some((start, n as usize));
        }
    }

    fn scan_inline<I: Input + ?Sized>(&mut self, input: &I) -> Result<Scan, CodecError> {
        let limit = self.max_inline_length.saturating_add(1);
        match input.find_lf(0, limit) {
            Some(lf) => {
                let content = if lf > 0 && input.byte(lf - 1) == b'\r' {
                    lf - 1
                } else {
                    lf
                };
                Ok(Scan::Inline {
                    content,
                    end: lf + 1,
                })
            }
            None if input.len() >= limit => {
                Err(self.too_long(input.len() as u64, self.max_inline_length))
            }
            None => Ok(Scan::Incomplete),
        }
    }

    /// Cuts the array command ending at `end` off `src`, one `Bytes` per span.
    fn take_array(&mut self, src: &mut CompositeBuf, end: usize) -> RespCommand {
        let mut args: SmallVec<[Bytes; INLINE_ARGS]> = SmallVec::with_capacity(self.spans.len());
        if end <= src.chunk().len() {
            // Inside the first segment: one `Bytes` split off it (no copy, and no
            // composite built and dropped per command).
            let base = src.copy_to_bytes(end);
            args.extend(self.spans.iter().map(|&(s, n)| base.slice(s..s + n)));
        } else {
            let frame = src.split_to(end);
            for &(s, n) in &self.spans {
                let arg = frame.slice(s..s + n);
                if arg.segment_count() > 1 {
                    self.copied += n as u64;
                }
                args.push(arg.into_bytes());
            }
        }
        self.spans.clear();
        RespCommand::from_smallvec(args)
    }

    /// Cuts the inline line off `src` and splits it into arguments as Redis does
    /// (`sdssplitargs`): on whitespace, with `"..."` (escapes `\n \r \t \b \a \\
    /// \" \xHH`) and `'...'` (escape `\'`) quoting. A line without quotes is split
    /// into views of the line (no copy).
    fn take_inline(
        &mut self,
        src: &mut CompositeBuf,
        content: usize,
        end: usize,
    ) -> Result<RespCommand, CodecError> {
        let mut frame = src.split_to(end);
        frame.truncate(content);
        if frame.segment_count() > 1 {
            self.copied += content as u64;
        }
        let line = frame.into_bytes();
        if memchr::memchr3(b'"', b'\'', 0, &line).is_some() {
            return split_quoted(&line)
                .map(RespCommand::from_smallvec)
                .map_err(|reason| self.corrupt(reason));
        }
        let mut args: SmallVec<[Bytes; INLINE_ARGS]> = SmallVec::new();
        let mut i = 0;
        while i < line.len() {
            if is_space(line[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < line.len() && !is_space(line[i]) {
                i += 1;
            }
            args.push(line.slice(start..i));
        }
        Ok(RespCommand::from_smallvec(args))
    }
}

/// Splits an inline line holding quotes (or a NUL, where Redis's C string ends).
fn split_quoted(line: &[u8]) -> Result<SmallVec<[Bytes; INLINE_ARGS]>, Corruption> {
    const UNBALANCED: Corruption = Corruption::RespUnbalancedQuotes;
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    let at = |i: usize| line.get(i).copied();
    let mut args = SmallVec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        if i == line.len() {
            return Ok(args);
        }
        let mut arg = Vec::new();
        // A closing quote must end the argument.
        let closes = |i: usize| match at(i + 1) {
            None => Ok(()),
            Some(b) if is_space(b) => Ok(()),
            Some(_) => Err(UNBALANCED),
        };
        let mut quote = None;
        loop {
            match (quote, at(i)) {
                (Some(_), None) => return Err(UNBALANCED),
                (None, None) => break,
                (None, Some(b)) if is_space(b) => break,
                (None, Some(q @ (b'"' | b'\''))) => quote = Some(q),
                (None, Some(b)) => arg.push(b),
                (Some(b'"'), Some(b'\\')) => match (at(i + 1), hex_byte(at(i + 2), at(i + 3))) {
                    (Some(b'x'), Some(v)) => {
                        arg.push(v);
                        i += 3;
                    }
                    (Some(e), _) => {
                        arg.push(match e {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                        i += 1;
                    }
                    (None, _) => return Err(UNBALANCED),
                },
                (Some(b'\''), Some(b'\\')) if at(i + 1) == Some(b'\'') => {
                    arg.push(b'\'');
                    i += 1;
                }
                (Some(q), Some(b)) if b == q => {
                    closes(i)?;
                    i += 1;
                    break;
                }
                (Some(_), Some(b)) => arg.push(b),
            }
            i += 1;
        }
        args.push(Bytes::from(arg));
    }
}

fn hex_byte(hi: Option<u8>, lo: Option<u8>) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(hi?)? * 16 + digit(lo?)?) as u8)
}

#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

impl Decoder for RespCommandDecoder {
    type Item = RespCommand;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<RespCommand>, CodecError> {
        loop {
            let scan = match src.segments().as_slice() {
                [one] => self.scan(&one[..])?,
                _ => self.scan(&*src)?,
            };
            match scan {
                Scan::Incomplete => return Ok(None),
                Scan::Skip(n) => bytes::Buf::advance(src, n),
                Scan::Array(end) => return Ok(Some(self.take_array(src, end))),
                Scan::Inline { content, end } => {
                    let cmd = self.take_inline(src, content, end)?;
                    if !cmd.is_empty() {
                        return Ok(Some(cmd));
                    }
                }
            }
        }
    }

    /// Like `decode`; bytes of an incomplete command left at the end of input are
    /// [`CodecError::TruncatedFrame`].
    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<RespCommand>, CodecError> {
        match self.decode(src)? {
            Some(cmd) => Ok(Some(cmd)),
            None if src.is_empty() => Ok(None),
            None => {
                let remaining = src.len();
                self.reset();
                src.clear();
                Err(CodecError::TruncatedFrame { remaining })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(dec: &mut RespCommandDecoder, buf: &mut CompositeBuf) -> Vec<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        while let Some(cmd) = dec.decode(buf).unwrap() {
            out.push(cmd.args().iter().map(|a| a.to_vec()).collect());
        }
        out
    }

    #[test]
    fn array_in_one_segment_is_zero_copy() {
        let data = Bytes::from_static(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n");
        let mut buf = CompositeBuf::from(data.clone());
        let mut dec = RespCommandDecoder::new();
        let cmd = dec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(
            cmd.arg(2).unwrap().as_ptr(),
            data[data.len() - 7..].as_ptr()
        );
        assert!(buf.is_empty());
        assert_eq!(dec.copied_bytes(), 0);
    }

    #[test]
    fn skips_empty_commands_and_blank_lines() {
        let mut buf = CompositeBuf::from(&b"*0\r\n*-1\r\n*-2\r\n\r\n  \r\n\nPING\n"[..]);
        let mut dec = RespCommandDecoder::new();
        assert_eq!(all(&mut dec, &mut buf), vec![vec![b"PING".to_vec()]]);
        assert!(buf.is_empty());
    }

    #[test]
    fn inline_splits_on_whitespace() {
        let mut buf = CompositeBuf::from(&b"SET  k\tv \r\n"[..]);
        let mut dec = RespCommandDecoder::new();
        assert_eq!(
            all(&mut dec, &mut buf),
            vec![vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]]
        );
    }

    #[test]
    fn inline_quotes_as_redis_does() {
        let mut buf = CompositeBuf::from(
            &b"SET \"a b\" 'c d'\r\nSET k \"x\\ny\\x41\\\"\\q\" '\\'\\n'\nECHO \"\" a\"b c\"\r\nX\0 ignored\n"[..],
        );
        let mut dec = RespCommandDecoder::new();
        let v = |s: &[u8]| s.to_vec();
        assert_eq!(
            all(&mut dec, &mut buf),
            vec![
                vec![v(b"SET"), v(b"a b"), v(b"c d")],
                vec![v(b"SET"), v(b"k"), v(b"x\nyA\"q"), v(b"'\\n")],
                vec![v(b"ECHO"), v(b""), v(b"ab c")],
                vec![v(b"X")],
            ]
        );
        assert!(buf.is_empty());
        for bad in [
            &b"SET \"a b\r\n"[..],
            b"SET 'a\n",
            b"SET \"a\"b\n",
            b"SET 'a'b\n",
            b"SET \"a\\\n",
        ] {
            let mut dec = RespCommandDecoder::new();
            let mut buf = CompositeBuf::from(bad);
            match dec.decode(&mut buf) {
                Err(CodecError::CorruptFrame { reason }) => {
                    assert_eq!(reason, Corruption::RespUnbalancedQuotes);
                    assert_eq!(reason.to_string(), "unbalanced quotes in request");
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bad)),
            }
            assert!(buf.is_empty(), "the bad line is consumed");
        }
    }

    #[test]
    fn resumes_without_rescanning() {
        let mut dec = RespCommandDecoder::new();
        let mut buf = CompositeBuf::from(&b"*2\r\n$3\r\nGET\r\n$10\r\n0123"[..]);
        assert!(dec.decode(&mut buf).unwrap().is_none());
        assert_eq!(dec.spans.len(), 1);
        assert!(matches!(
            dec.partial,
            Some(Partial {
                bulk: Some((18, 10)),
                ..
            })
        ));
        buf.push(Bytes::from_static(b"456789\r"));
        assert!(dec.decode(&mut buf).unwrap().is_none());
        buf.push(Bytes::from_static(b"\n"));
        let cmd = dec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(cmd.arg(1).unwrap(), "0123456789");
        assert!(!dec.is_partial());
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$'"),
            (b"*1\r\n*1\r\n$1\r\na\r\n", "nested array"),
            (b"*1\r\n$-1\r\n", "invalid bulk length -1"),
            (b"*1\r\n$-5\r\n", "invalid bulk length -5"),
            (b"*x\r\n", "not a decimal"),
            (b"*1\n", "CRLF"),
            (b"*1\r\n$3\r\nabcXY", "not followed by CRLF"),
            (
                b"*1\r\n$00000000000000000000000000000000000001\r\n",
                "longer than",
            ),
        ];
        for (input, want) in cases {
            let mut dec = RespCommandDecoder::new();
            let mut buf = CompositeBuf::from(input.to_vec());
            match dec.decode(&mut buf) {
                Err(CodecError::CorruptFrame { reason }) => {
                    let text = reason.to_string();
                    assert!(text.contains(want), "{text:?} lacks {want:?}")
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
            }
            assert!(!dec.is_partial());
        }
    }

    #[test]
    fn huge_claims_are_refused_before_allocating() {
        let mut dec = RespCommandDecoder::new();
        let mut buf = CompositeBuf::from(&b"*1\r\n$4294967296\r\n"[..]);
        assert_eq!(
            dec.decode(&mut buf),
            Err(CodecError::TooLongFrame {
                length: 4 << 30,
                max: DEFAULT_MAX_BULK_LENGTH
            })
        );
        let mut buf = CompositeBuf::from(&b"*9223372036854775807\r\n"[..]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(CodecError::TooLongFrame { .. })
        ));
        assert_eq!(dec.spans.capacity(), 0);
    }
}
