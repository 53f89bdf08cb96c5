//! permessage-deflate (RFC 7692): negotiation of its parameters, and compression
//! of whole messages (flate2 on zlib-rs, raw deflate, sync flush).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::error::WebSocketError;
use crate::error::CodecError;

/// The parameters of permessage-deflate this end offers (client) or accepts
/// (server). Off unless given to [`WebSocketConfig::deflate`](super::WebSocketConfig::deflate).
///
/// * A server accepts the first offer it can honour, adding the
///   `*_no_context_takeover` flags set here to those the client asked for, and
///   limiting each window to the smaller of the offer and this configuration.
///   Offers of `server_max_window_bits=8` are declined (zlib's smallest window is 9).
/// * A client offers these parameters and follows what the server answers.
///
/// ```
/// use seine_codec::websocket::{DeflateConfig, WebSocketConfig};
///
/// let deflate = DeflateConfig::default().server_no_context_takeover(true).server_max_window_bits(10);
/// let config = WebSocketConfig::default().deflate(deflate);
/// assert!(config.get_deflate().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct DeflateConfig {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: u8,
    client_max_window_bits: u8,
    level: u32,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            level: 6,
        }
    }
}

impl DeflateConfig {
    /// The server compresses each message on its own (no shared window).
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// The client compresses each message on its own.
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// The server's largest LZ77 window, 9..=15 bits (clamped).
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(9, 15);
        self
    }

    /// The client's largest LZ77 window, 9..=15 bits (clamped).
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits.clamp(9, 15);
        self
    }

    /// The compression level, 0..=9 (clamped).
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// The `Sec-WebSocket-Extensions` offer a client sends.
    pub(crate) fn client_offer(&self) -> String {
        let mut s = String::from("permessage-deflate; client_max_window_bits");
        if self.client_max_window_bits < 15 {
            s = format!(
                "permessage-deflate; client_max_window_bits={}",
                self.client_max_window_bits
            );
        }
        if self.server_max_window_bits < 15 {
            s.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        s
    }

    /// A server's answer to the `Sec-WebSocket-Extensions` values of a request:
    /// the response value and the compressor, or `None` to decline every offer.
    pub(crate) fn accept<'a>(
        &self,
        offers: impl Iterator<Item = &'a str>,
    ) -> Option<(String, PerMessageDeflate)> {
        for offer in offers.flat_map(|v| v.split(',')) {
            let Some(params) = parse_offer(offer) else {
                continue;
            };
            let server_bits = match params.server_max_window_bits {
                Some(Some(b)) if b < 9 => continue,
                Some(Some(b)) => b.min(self.server_max_window_bits),
                Some(None) => continue, // a value is required
                None => self.server_max_window_bits,
            };
            let client_bits = match params.client_max_window_bits {
                Some(Some(b)) => Some(b.min(self.client_max_window_bits)),
                Some(None) => Some(self.client_max_window_bits),
                None => None,
            };
            let server_nct = params.server_no_context_takeover || self.server_no_context_takeover;
            let client_nct = params.client_no_context_takeover || self.client_no_context_takeover;
            let mut answer = String::from("permessage-deflate");
            if server_nct {
                answer.push_str("; server_no_context_takeover");
            }
            if client_nct {
                answer.push_str("; client_no_context_takeover");
            }
            if server_bits < 15 || params.server_max_window_bits.is_some() {
                answer.push_str(&format!("; server_max_window_bits={server_bits}"));
            }
            if let Some(b) = client_bits.filter(|&b| b < 15) {
                answer.push_str(&format!("; client_max_window_bits={b}"));
            }
            let pmd = PerMessageDeflate::new(self.level, server_bits, server_nct, client_nct);
            return Some((answer, pmd));
        }
        None
    }

    /// A client's reading of the server's answer (the response's
    /// `Sec-WebSocket-Extensions`).
    pub(crate) fn accepted_by_server(
        &self,
        answer: &str,
    ) -> Result<PerMessageDeflate, WebSocketError> {
        let bad = || WebSocketError::handshake(format!("unacceptable extension answer {answer:?}"));
        let params = parse_offer(answer).ok_or_else(bad)?;
        let client_bits = match params.client_max_window_bits {
            Some(Some(b)) if b >= 9 => b.min(self.client_max_window_bits),
            Some(_) => return Err(bad()),
            None => self.client_max_window_bits,
        };
        if matches!(params.server_max_window_bits, Some(None)) {
            return Err(bad());
        }
        Ok(PerMessageDeflate::new(
            self.level,
            client_bits,
            params.client_no_context_takeover || self.client_no_context_takeover,
            params.server_no_context_takeover,
        ))
    }
}

/// The parameters of one `permessage-deflate` offer or answer.
#[derive(Default)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// Present, with its value if it has one.
    server_max_window_bits: Option<Option<u8>>,
    client_max_window_bits: Option<Option<u8>>,
}

/// Parses `permessage-deflate; param[=value]...`; `None` for another extension
/// or an invalid, unknown or repeated parameter.
fn parse_offer(offer: &str) -> Option<Params> {
    let mut parts = offer.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case("permessage-deflate") {
        return None;
    }
    let mut p = Params::default();
    for part in parts {
        let (name, value) = match part.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (part, None),
        };
        let bits = |v: Option<&str>| -> Option<Option<u8>> {
            match v {
                None => Some(None),
                Some(v) => match v.parse::<u8>() {
                    Ok(b) if (8..=15).contains(&b) && !v.starts_with('0') => Some(Some(b)),
                    _ => None,
                },
            }
        };
        match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" if value.is_none() && !p.server_no_context_takeover => {
                p.server_no_context_takeover = true
            }
            "client_no_context_takeover" if value.is_none() && !p.client_no_context_takeover => {
                p.client_no_context_takeover = true
            }
            "server_max_window_bits" if p.server_max_window_bits.is_none() => {
                p.server_max_window_bits = Some(bits(value)?)
            }
            "client_max_window_bits" if p.client_max_window_bits.is_none() => {
                p.client_max_window_bits = Some(bits(value)?)
            }
            _ => return None,
        }
    }
    Some(p)
}

/// The tail a sync flush ends with, stripped from each message (RFC 7692, 7.2.1).
const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// One connection's compressor and decompressor.
pub(crate) struct PerMessageDeflate {
    compress: Compress,
    decompress: Decompress,
    /// Reset the compressor after each message (our no_context_takeover).
    reset_compress: bool,
    /// Reset the decompressor after each message (the peer's).
    reset_decompress: bool,
}

impl PerMessageDeflate {
    fn new(level: u32, window_bits: u8, reset_compress: bool, reset_decompress: bool) -> Self {
        PerMessageDeflate {
            compress: Compress::new_with_window_bits(
                Compression::new(level),
                false,
                window_bits.clamp(9, 15),
            ),
            decompress: Decompress::new_with_window_bits(false, 15),
            reset_compress,
            reset_decompress,
        }
    }

    /// Compresses one message's payload (copies: the output is new bytes).
    pub(crate) fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start_in = self.compress.total_in();
        loop {
            let consumed = (self.compress.total_in() - start_in) as usize;
            let before = out.len();
            self.compress
                .compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
                .map_err(|e| CodecError::Encode {
                    reason: format!("deflate: {e}"),
                })?;
            let done = (self.compress.total_in() - start_in) as usize == data.len();
            if done && out.len() < out.capacity() {
                break;
            }
            if out.len() == before && out.len() < out.capacity() && done {
                break;
            }
            out.reserve(out.capacity().max(64));
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - 4);
        }
        if out.is_empty() {
            // Nothing to flush (an empty message): one empty stored block's
            // header, which the receiver's appended tail completes (7.2.3.6).
            out.push(0);
        }
        if self.reset_compress {
            self.compress.reset();
        }
        Ok(out)
    }

    /// Inflates one message's payload, refusing more than `max` bytes of output.
    pub(crate) fn decompress(
        &mut self,
        data: &[u8],
        max: usize,
    ) -> Result<Vec<u8>, WebSocketError> {
        let bad = |e: String| WebSocketError::BadCompression { reason: e };
        let mut out = Vec::with_capacity((data.len() * 2).max(64).min(max.saturating_add(1)));
        for input in [data, &TAIL[..]] {
            let start_in = self.decompress.total_in();
            loop {
                let consumed = (self.decompress.total_in() - start_in) as usize;
                if out.len() == out.capacity() {
                    if out.len() > max {
                        break;
                    }
                    let grow = out.capacity().min(max + 1 - out.len()).max(64);
                    out.reserve_exact(grow);
                }
                let before = out.len();
                let status = self
                    .decompress
                    .decompress_vec(&input[consumed..], &mut out, FlushDecompress::Sync)
                    .map_err(|e| bad(e.to_string()))?;
                let consumed_now = (self.decompress.total_in() - start_in) as usize;
                if out.len() > max {
                    return Err(WebSocketError::MessageTooLong {
                        length: out.len() as u64,
                        max,
                    });
                }
                let progressed = out.len() > before || consumed_now > consumed;
                if consumed_now == input.len() && out.len() < out.capacity() {
                    break;
                }
                if status == Status::StreamEnd {
                    break;
                }
                if !progressed && out.len() < out.capacity() {
                    return Err(bad("the inflater made no progress".into()));
                }
            }
        }
        if self.reset_decompress {
            self.decompress.reset(false);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(config: &DeflateConfig, offer: &str) -> (PerMessageDeflate, PerMessageDeflate) {
        let (answer, server) = config.accept([offer].into_iter()).expect("accepted");
        let client = config.accepted_by_server(&answer).expect("client accepts");
        (server, client)
    }

    #[test]
    fn messages_round_trip_with_and_without_context_takeover() {
        for config in [
            DeflateConfig::default(),
            DeflateConfig::default()
                .server_no_context_takeover(true)
                .client_no_context_takeover(true)
                .server_max_window_bits(9),
        ] {
            let (mut server, mut client) = pair(&config, &config.client_offer());
            for msg in [
                &b"hello hello hello"[..],
                b"",
                &[7u8; 100_000][..],
                b"hello again",
            ] {
                let z = client.compress(msg).unwrap();
                assert_eq!(server.decompress(&z, 1 << 20).unwrap(), msg);
                let z = server.compress(msg).unwrap();
                assert_eq!(client.decompress(&z, 1 << 20).unwrap(), msg);
            }
        }
    }

    #[test]
    fn a_bomb_is_refused_at_the_limit() {
        let config = DeflateConfig::default();
        let (mut server, mut client) = pair(&config, "permessage-deflate");
        let z = client.compress(&vec![0u8; 10 << 20]).unwrap();
        assert!(z.len() < 64 << 10);
        let err = server.decompress(&z, 1 << 20).unwrap_err();
        assert!(matches!(err, WebSocketError::MessageTooLong { .. }));
    }

    #[test]
    fn a_limit_under_64_bytes_is_kept() {
        // Found by the fuzz target: a capacity clamp with min > max.
        let config = DeflateConfig::default();
        let (mut server, mut client) = pair(&config, "permessage-deflate");
        let z = client.compress(b"Hello").unwrap();
        assert_eq!(server.decompress(&z, 28).unwrap(), b"Hello");
        let z = client.compress(&[b'x'; 29]).unwrap();
        assert!(server.decompress(&z, 28).is_err());
    }

    #[test]
    fn negotiation_answers_follow_the_offer() {
        let config = DeflateConfig::default();
        let (answer, _) = config
            .accept(["x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=10; client_max_window_bits"].into_iter())
            .unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=10");
        // server_max_window_bits=8 cannot be honoured; a bad parameter is declined.
        assert!(
            config
                .accept(["permessage-deflate; server_max_window_bits=8"].into_iter())
                .is_none()
        );
        assert!(
            config
                .accept(["permessage-deflate; foo"].into_iter())
                .is_none()
        );
        let (answer, _) = config
            .accept(["permessage-deflate; client_no_context_takeover"].into_iter())
            .unwrap();
        assert_eq!(answer, "permessage-deflate; client_no_context_takeover");
    }
}
