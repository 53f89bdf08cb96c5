//! An authoritative DNS server for one zone, on UDP and TCP at the same address.
//!
//! ```text
//! cargo run --release --example dns_server -- --addr 127.0.0.1:5353 --zone example.zone
//! dig @127.0.0.1 -p 5353 www.example.com A
//! ```
//!
//! The zone is a standard master file (RFC 1035 section 5), parsed by
//! hickory-proto; the DNS wire format is hickory-proto's too. Answers A, AAAA, TXT
//! (and any other type the zone holds), NODATA and NXDOMAIN with the zone's SOA,
//! REFUSED for names outside the zone, FORMERR for what does not parse.
//!
//! One handler, two transports:
//!
//! ```text
//! UDP: DatagramPacket -> DatagramPacketDecoder(DnsDecoder) -> DnsHandler -> DatagramPacket
//! TCP: bytes -> ByteToMessageDecoder(DnsDecoder, 2-byte length framing) -> DnsHandler -> bytes
//! ```
//!
//! * A query with an OPT record (EDNS) gets an answer with one (payload 1232);
//!   an answer that does not fit (512 bytes without EDNS) is sent with the TC bit
//!   and only the question, so the client retries over TCP.
//! * Every positive answer is encoded once at start; a query then costs a lookup,
//!   a copy of the answer, and patching its ID, RD bit and the question's case.
//!   The common query (one uncompressed question of class IN, at most an OPT
//!   record with COOKIE or padding) is read by a strict, bounds-checked parser
//!   beside hickory-proto; anything else, and every answer not precomputed
//!   (NXDOMAIN, NODATA, truncation, errors), takes hickory-proto's path. Both
//!   paths give the same bytes (`tests/examples_dns_fast_path.rs`, the `dns`
//!   fuzz target).
//! * Answers leave with the DF bit and are never fragmented
//!   (`DatagramOptions::dont_fragment`): they are sized to fit (RFC 8900).
//! * Datagrams that are responses, or too short to carry a header, are dropped and
//!   counted; the counts are printed at exit.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, LowerName, Name, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;
use seine::buffer::{Buf, BufMut, Bytes, BytesMut, CompositeBuf};
use seine::channel::prelude::*;
use seine::channel::{ChannelError, DatagramPacket, Pipeline};
use seine::codec::{ByteToMessageDecoder, CodecError, DatagramPacketDecoder, Decoder};
use seine::transport::{DatagramBootstrap, DatagramOptions, EventLoopGroup, ServerBootstrap};

mod support;

/// The EDNS payload size this server offers (the 2020 DNS flag day's value).
const EDNS_PAYLOAD: u16 = 1232;
/// The most a UDP answer may carry without EDNS (RFC 1035 4.2.1).
const PLAIN_UDP_MAX: usize = 512;
/// A DNS header.
const HEADER: usize = 12;

/// An authoritative DNS server for one zone, over UDP and TCP at the same
/// address (--addr serves both).
#[derive(Parser)]
#[command(name = "dns_server", version, args_override_self = true)]
struct Args {
    #[command(flatten)]
    server: support::ServerArgs<5353>,
    /// The zone's master file (RFC 1035 section 5).
    #[arg(long, value_name = "FILE")]
    zone: PathBuf,
    /// The zone's origin when the file has no $ORIGIN (default: the file name,
    /// without a `.zone` suffix).
    #[arg(long, value_name = "NAME")]
    origin: Option<String>,
}

// ---- the zone and its precomputed answers ----

/// A multiply-rotate hasher for the answer table's keys (a name and a type, a
/// few dozen bytes): the keys come from the zone file, not from peers, so the
/// table needs speed rather than SipHash's resistance to chosen collisions (a
/// peer only chooses what to look up).
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn write_usize(&mut self, n: usize) {
        self.write(&(n as u64).to_le_bytes());
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyHash = std::hash::BuildHasherDefault<KeyHasher>;

/// One zone, ready to answer.
pub struct Zone {
    origin: LowerName,
    /// Positive answers by lowercase wire name + type (big-endian), encoded once.
    answers: HashMap<Box<[u8]>, Encoded, KeyHash>,
    /// Every name that exists (for NODATA versus NXDOMAIN), lowercase wire form.
    names: HashSet<Box<[u8]>, KeyHash>,
    soa: Option<Record>,
}

/// One answer encoded with ID 0 and a lowercase question: without and with EDNS.
struct Encoded {
    plain: Bytes,
    edns: Bytes,
}

/// Why a zone could not be loaded.
#[derive(Debug)]
pub struct ZoneError(String);

impl std::fmt::Display for ZoneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ZoneError {}

fn our_edns() -> Edns {
    let mut e = Edns::new();
    e.set_max_payload(EDNS_PAYLOAD);
    e.set_version(0);
    e
}

/// `name` in wire form, ASCII-lowercased (length bytes are below 64, untouched).
fn wire_lower(name: &Name) -> Vec<u8> {
    let mut v = name.to_bytes().unwrap_or_default();
    v.make_ascii_lowercase();
    v
}

impl Zone {
    /// Parses a master file. `origin` is used when the file has no `$ORIGIN`.
    pub fn parse(text: &str, origin: Option<&str>) -> Result<Zone, ZoneError> {
        let origin = origin
            .map(|o| Name::from_ascii(o).map_err(|e| ZoneError(format!("origin {o:?}: {e}"))))
            .transpose()?;
        let (origin, sets) = hickory_proto::serialize::txt::Parser::new(text, None, origin)
            .parse()
            .map_err(|e| ZoneError(format!("zone file: {e}")))?;
        let mut by_key: HashMap<(Name, RecordType), Vec<Record>> = HashMap::new();
        let mut names = HashSet::default();
        let mut soa = None;
        for (key, set) in sets {
            for r in set.records_without_rrsigs() {
                if r.record_type() == RecordType::SOA {
                    soa = Some(r.clone());
                }
                by_key
                    .entry((r.name.to_lowercase(), key.record_type))
                    .or_default()
                    .push(r.clone());
            }
            // The name and every ancestor inside the zone exist (empty
            // non-terminals answer NODATA, not NXDOMAIN).
            let mut n: Name = Name::from(&key.name);
            while n.num_labels() >= origin.num_labels() {
                names.insert(wire_lower(&n).into_boxed_slice());
                if n.num_labels() == 0 {
                    break;
                }
                n = n.base_name();
            }
        }
        let mut answers = HashMap::default();
        for ((name, ty), records) in by_key {
            let mut m = Message::response(0, OpCode::Query);
            m.metadata.authoritative = true;
            m.add_query(Query::query(name.clone(), ty));
            m.add_answers(records);
            let plain = m
                .to_vec()
                .map_err(|e| ZoneError(format!("{name} {ty}: {e}")))?;
            m.set_edns(our_edns());
            let edns = m
                .to_vec()
                .map_err(|e| ZoneError(format!("{name} {ty}: {e}")))?;
            let mut key = wire_lower(&name);
            key.extend_from_slice(&u16::from(ty).to_be_bytes());
            answers.insert(
                key.into_boxed_slice(),
                Encoded {
                    plain: plain.into(),
                    edns: edns.into(),
                },
            );
        }
        Ok(Zone {
            origin: LowerName::new(&origin),
            answers,
            names,
            soa,
        })
    }

    /// The zone's origin.
    pub fn origin(&self) -> &LowerName {
        &self.origin
    }
}

// ---- the codec: queries in, hickory-proto's wire format ----

/// One query: its bytes and what was read from them.
pub struct DnsQuery {
    raw: Bytes,
    read: Read,
}

/// What the decoder read from a query.
enum Read {
    /// The common case, read by [`read_simple`]'s strict parser alone: a query
    /// with one question, no answer or authority records, at most an OPT record,
    /// nothing after it.
    Simple(Simple),
    /// Anything else, read as a whole message by hickory-proto (`None`: it does
    /// not parse).
    Full(Option<Box<Message>>),
}

/// The fields of a simple query the answer needs.
struct Simple {
    id: u16,
    recursion_desired: bool,
    /// Length of the question's name in wire form (it starts at byte 12).
    name_len: usize,
    query_type: u16,
    /// The OPT record's UDP payload size, if there is one.
    edns_payload: Option<u16>,
}

/// The OPT record's type (RFC 6891).
const OPT: u16 = 41;
/// EDNS options the fast path passes over: COOKIE (RFC 7873) and Padding (RFC
/// 7830), which hickory-proto keeps as opaque bytes too. Any other option sends
/// the query down hickory-proto's path.
const OPAQUE_OPTIONS: [u16; 2] = [10, 12];

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads `raw` as a [`Read::Simple`] query, or `None` for anything else (which
/// then goes to hickory-proto): a strict, bounds-checked parser of the one shape
/// resolvers and load tools send. Uncompressed question name of at most 255
/// bytes, class IN, an optional OPT record (root owner, version 0, no extended
/// RCODE, options that are well framed and opaque), and nothing after it.
fn read_simple(raw: &[u8]) -> Option<Simple> {
    let flags = *raw.get(2)?;
    // QR clear (a query), opcode 0 (QUERY); AA, TC and RD as they come.
    if flags & 0xf8 != 0 {
        return None;
    }
    let counts = (be16(raw, 4)?, be16(raw, 6)?, be16(raw, 8)?, be16(raw, 10)?);
    let additionals = match counts {
        (1, 0, 0, n @ (0 | 1)) => n,
        _ => return None,
    };
    let mut at = HEADER;
    loop {
        let len = usize::from(*raw.get(at)?);
        at += 1 + len;
        if len == 0 {
            break;
        }
        // Compression pointers and the reserved label types: hickory-proto's path.
        if len > 63 || at - HEADER > 255 {
            return None;
        }
    }
    let name_len = at - HEADER;
    if name_len > 255 {
        return None;
    }
    let query_type = be16(raw, at)?;
    if be16(raw, at + 2)? != u16::from(DNSClass::IN) {
        return None;
    }
    at += 4;
    let edns_payload = if additionals == 1 {
        // Owner (the root), type, class (the payload size), TTL (extended RCODE,
        // version, flags), RDLENGTH.
        if *raw.get(at)? != 0 || be16(raw, at + 1)? != OPT {
            return None;
        }
        let payload = be16(raw, at + 3)?;
        if be16(raw, at + 5)? != 0 {
            return None; // an extended RCODE or an EDNS version above 0
        }
        let rdlen = usize::from(be16(raw, at + 9)?);
        at += 11;
        let end = at.checked_add(rdlen)?;
        let mut opt = at;
        while opt < end {
            let code = be16(raw, opt)?;
            let len = usize::from(be16(raw, opt + 2)?);
            opt += 4 + len;
            if !OPAQUE_OPTIONS.contains(&code) || opt > end {
                return None;
            }
        }
        at = end;
        Some(payload)
    } else {
        None
    };
    if at != raw.len() {
        return None;
    }
    Some(Simple {
        id: be16(raw, 0)?,
        recursion_desired: flags & 0x01 != 0,
        name_len,
        query_type,
        edns_payload,
    })
}

impl DnsQuery {
    /// Reads one message: the strict fast parser first, hickory-proto for
    /// anything it does not take.
    pub fn read(raw: Bytes) -> DnsQuery {
        let read = match read_simple(&raw) {
            Some(simple) => Read::Simple(simple),
            None => Read::Full(Message::from_vec(&raw).ok().map(Box::new)),
        };
        DnsQuery { raw, read }
    }

    /// Reads one message with hickory-proto alone: the reference the fast path
    /// is held to (the answers must be byte for byte the same).
    pub fn read_full(raw: Bytes) -> DnsQuery {
        let read = Read::Full(Message::from_vec(&raw).ok().map(Box::new));
        DnsQuery { raw, read }
    }

    /// Whether the strict fast parser took this query.
    pub fn is_simple(&self) -> bool {
        matches!(self.read, Read::Simple(_))
    }
}

/// Cuts and parses DNS messages: one per datagram (UDP), or each behind a 2-byte
/// big-endian length (TCP, RFC 1035 4.2.2). Malformed messages are not errors
/// here: the handler answers them FORMERR.
pub struct DnsDecoder {
    tcp: bool,
}

impl DnsDecoder {
    /// For datagrams: the whole datagram is one message.
    pub fn udp() -> Self {
        DnsDecoder { tcp: false }
    }

    /// For a stream: 2-byte length framing.
    pub fn tcp() -> Self {
        DnsDecoder { tcp: true }
    }
}

impl Decoder for DnsDecoder {
    type Item = DnsQuery;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<DnsQuery>, CodecError> {
        let raw = if self.tcp {
            let Some(len) = src.get_uint_at(0, 2, seine::buffer::ByteOrder::BigEndian) else {
                return Ok(None);
            };
            let len = len as usize;
            if src.len() < 2 + len {
                return Ok(None);
            }
            src.advance(2);
            src.copy_to_bytes(len) // no copy when the frame sits in one read
        } else {
            if src.is_empty() {
                return Ok(None);
            }
            let n = src.len();
            src.copy_to_bytes(n)
        };
        Ok(Some(DnsQuery::read(raw)))
    }

    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<DnsQuery>, CodecError> {
        match self.decode(src)? {
            Some(q) => Ok(Some(q)),
            None if src.is_empty() => Ok(None),
            // A TCP peer that closed mid-message: nothing to answer.
            None => {
                let n = src.len();
                src.advance(n);
                Ok(None)
            }
        }
    }
}

// ---- the handler: one for both transports ----

/// What a transport's query message gives the handler and takes back.
pub trait Request: 'static {
    /// The answer's message type on this transport.
    type Reply: 'static;
    /// Whether answers must fit a datagram (TC bit) or may be 64 KiB (TCP).
    const DATAGRAM: bool;
    /// The query.
    fn query(&self) -> &DnsQuery;
    /// Wraps an answer (`answer[2..]`; the first two bytes are room for a TCP
    /// length) for the transport.
    fn reply(&self, answer: BytesMut) -> Self::Reply;
}

impl Request for DatagramPacket<DnsQuery> {
    type Reply = DatagramPacket;
    const DATAGRAM: bool = true;
    fn query(&self) -> &DnsQuery {
        &self.content
    }
    fn reply(&self, mut answer: BytesMut) -> DatagramPacket {
        answer.advance(2);
        self.reply(answer.freeze())
    }
}

impl Request for DnsQuery {
    type Reply = Bytes;
    const DATAGRAM: bool = false;
    fn query(&self) -> &DnsQuery {
        self
    }
    fn reply(&self, mut answer: BytesMut) -> Bytes {
        let len = (answer.len() - 2) as u16;
        answer[..2].copy_from_slice(&len.to_be_bytes());
        answer.freeze()
    }
}

/// What the server did, over every loop and both transports.
#[derive(Default)]
pub struct Stats {
    /// Answers with data.
    pub answered: AtomicU64,
    /// NXDOMAIN answers.
    pub nxdomain: AtomicU64,
    /// NODATA answers (the name exists, not the type).
    pub nodata: AtomicU64,
    /// FORMERR answers (input that does not parse).
    pub formerr: AtomicU64,
    /// REFUSED and NOTIMP answers.
    pub refused: AtomicU64,
    /// Answers sent with the TC bit.
    pub truncated: AtomicU64,
    /// Input dropped unanswered (responses, fragments shorter than a header).
    pub dropped: AtomicU64,
}

impl Stats {
    fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Answers queries from the zone; `M` is the transport's query message.
pub struct DnsHandler<M> {
    zone: Arc<Zone>,
    stats: Arc<Stats>,
    buf: BytesMut,
    /// The lookup key of the query in hand (lowercase name + type), reused.
    key: Vec<u8>,
    _m: std::marker::PhantomData<fn(M)>,
}

impl<M: Request> DnsHandler<M> {
    /// A handler answering from `zone`, counting in `stats`.
    pub fn new(zone: Arc<Zone>, stats: Arc<Stats>) -> Self {
        DnsHandler {
            zone,
            stats,
            buf: BytesMut::new(),
            key: Vec::with_capacity(257),
            _m: std::marker::PhantomData,
        }
    }

    /// The answer to `q`, after two bytes of room, or `None` to drop it.
    fn answer(&mut self, q: &DnsQuery) -> Option<BytesMut> {
        if self.buf.capacity() < 1024 {
            self.buf.reserve(64 * 1024);
        }
        self.buf.put_u16(0);
        let parsed;
        let m: &Message = match &q.read {
            Read::Simple(simple) => {
                if let Some(answer) = self.answer_simple(&q.raw, simple) {
                    return Some(answer);
                }
                // Not precomputed (NXDOMAIN, NODATA, truncated, EDNS version > 0): the full path.
                parsed = match Message::from_vec(&q.raw) {
                    Ok(m) => m,
                    Err(_) => return self.formerr(&q.raw),
                };
                &parsed
            }
            Read::Full(Some(m)) => m,
            Read::Full(None) => return self.formerr(&q.raw),
        };
        if m.metadata.message_type == MessageType::Response {
            Stats::bump(&self.stats.dropped);
            return self.drop_buf();
        }
        if m.metadata.op_code != OpCode::Query {
            return self.error(m, ResponseCode::NotImp, |s: &Stats| &s.refused);
        }
        if m.queries.len() != 1 {
            return self.error(m, ResponseCode::FormErr, |s: &Stats| &s.formerr);
        }
        let question = &m.queries[0];
        if question.query_class() != DNSClass::IN {
            return self.error(m, ResponseCode::Refused, |s: &Stats| &s.refused);
        }
        let limit = if M::DATAGRAM {
            match &m.edns {
                Some(e) => usize::from(e.max_payload().clamp(512, EDNS_PAYLOAD)),
                None => PLAIN_UDP_MAX,
            }
        } else {
            usize::from(u16::MAX)
        };
        let mut key = [0u8; 258];
        let wire = wire_lower(question.name());
        let n = wire.len();
        key[..n].copy_from_slice(&wire);
        key[n..n + 2].copy_from_slice(&u16::from(question.query_type()).to_be_bytes());
        if let Some(enc) = self.zone.answers.get(&key[..n + 2]) {
            let bytes = if m.edns.is_some() {
                &enc.edns
            } else {
                &enc.plain
            };
            if bytes.len() > limit {
                return self.truncated(m);
            }
            let at = self.buf.len();
            self.buf.extend_from_slice(bytes);
            let out = &mut self.buf[at..];
            out[..2].copy_from_slice(&m.metadata.id.to_be_bytes());
            out[2] |= u8::from(m.metadata.recursion_desired);
            // The question as asked (case kept, as clients using 0x20 expect):
            // the raw query's name has the same length as the lowercase one.
            if q.raw.len() >= HEADER + n {
                out[HEADER..HEADER + n].copy_from_slice(&q.raw[HEADER..HEADER + n]);
            }
            Stats::bump(&self.stats.answered);
            return Some(self.buf.split());
        }
        let name = LowerName::new(question.name());
        if !self.zone.origin.zone_of(&name) {
            return self.error(m, ResponseCode::Refused, |s: &Stats| &s.refused);
        }
        let exists = self.zone.names.contains(&wire[..]);
        let mut r = response_to(m);
        r.metadata.authoritative = true;
        if exists {
            Stats::bump(&self.stats.nodata);
        } else {
            r.metadata.response_code = ResponseCode::NXDomain;
            Stats::bump(&self.stats.nxdomain);
        }
        if let Some(soa) = &self.zone.soa {
            r.add_authority(soa.clone());
        }
        self.encode(&r, m, limit)
    }

    /// A precomputed answer to a simple query, if there is one (and it fits).
    fn answer_simple(&mut self, raw: &[u8], q: &Simple) -> Option<BytesMut> {
        let n = q.name_len;
        let name = raw.get(HEADER..HEADER + n)?;
        // A name of at most 255 bytes and a type, in a buffer kept for it (no
        // zeroed array per query).
        self.key.clear();
        self.key.extend_from_slice(name);
        self.key.make_ascii_lowercase();
        self.key.extend_from_slice(&q.query_type.to_be_bytes());
        let enc = self.zone.answers.get(self.key.as_slice())?;
        let (bytes, limit) = match q.edns_payload {
            Some(payload) => (&enc.edns, usize::from(payload.clamp(512, EDNS_PAYLOAD))),
            None => (&enc.plain, PLAIN_UDP_MAX),
        };
        if M::DATAGRAM && bytes.len() > limit {
            return None; // truncated, from the full path
        }
        let at = self.buf.len();
        self.buf.extend_from_slice(bytes);
        let out = &mut self.buf[at..];
        out[..2].copy_from_slice(&q.id.to_be_bytes());
        out[2] |= u8::from(q.recursion_desired);
        // The question as asked (case kept, as clients using 0x20 expect).
        out[HEADER..HEADER + n].copy_from_slice(name);
        Stats::bump(&self.stats.answered);
        Some(self.buf.split())
    }

    /// The answer to `q` as this transport sends it (no TCP length prefix), or
    /// `None` where the query is dropped.
    pub fn answer_bytes(&mut self, q: &DnsQuery) -> Option<Bytes> {
        let mut answer = self.answer(q)?;
        answer.advance(2);
        Some(answer.freeze())
    }

    fn drop_buf(&mut self) -> Option<BytesMut> {
        self.buf.clear();
        None
    }

    /// FORMERR for input that does not parse: its ID and opcode copied, no
    /// sections. Input without a whole header, or that is a response, is dropped.
    fn formerr(&mut self, raw: &[u8]) -> Option<BytesMut> {
        if raw.len() < HEADER || raw[2] & 0x80 != 0 {
            Stats::bump(&self.stats.dropped);
            return self.drop_buf();
        }
        Stats::bump(&self.stats.formerr);
        self.buf.put_slice(&raw[..2]);
        // QR, the opcode and RD as asked; RCODE 1.
        self.buf.put_u8(0x80 | (raw[2] & 0x79));
        self.buf.put_u8(1);
        self.buf.put_bytes(0, 8);
        Some(self.buf.split())
    }

    fn error(
        &mut self,
        m: &Message,
        code: ResponseCode,
        counter: fn(&Stats) -> &AtomicU64,
    ) -> Option<BytesMut> {
        Stats::bump(counter(&self.stats));
        let mut r = response_to(m);
        r.metadata.response_code = code;
        self.encode(&r, m, PLAIN_UDP_MAX.max(usize::from(m.max_payload())))
    }

    fn truncated(&mut self, m: &Message) -> Option<BytesMut> {
        Stats::bump(&self.stats.truncated);
        let mut r = response_to(m);
        r.metadata.authoritative = true;
        r.metadata.truncation = true;
        self.encode(&r, m, usize::MAX)
    }

    /// Encodes `r` after the room; truncated if over `limit`.
    fn encode(&mut self, r: &Message, query: &Message, limit: usize) -> Option<BytesMut> {
        match r.to_vec() {
            Ok(v) if v.len() <= limit => {
                self.buf.put_slice(&v);
                Some(self.buf.split())
            }
            Ok(_) => {
                self.buf.truncate(2);
                self.truncated(query)
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot encode an answer");
                self.drop_buf()
            }
        }
    }
}

/// A response header for `m`: its ID, opcode, RD, question, and an OPT record if
/// it had one.
fn response_to(m: &Message) -> Message {
    let mut r = Message::response(m.metadata.id, m.metadata.op_code);
    r.metadata.recursion_desired = m.metadata.recursion_desired;
    r.add_queries(m.queries.iter().cloned());
    if m.edns.is_some() {
        r.set_edns(our_edns());
    }
    r
}

impl<M: Request> ChannelHandler for DnsHandler<M> {}

impl<M: Request> InboundHandler for DnsHandler<M> {
    type Read = M;
    type Fire = M;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, M>, msg: M) {
        if let Some(answer) = self.answer(msg.query()) {
            ctx.write_void(msg.reply(answer)); // flushed when the read batch ends
        }
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, M>, error: Error) {
        tracing::debug!(%error, "dropping a connection");
        if !M::DATAGRAM {
            ctx.close();
        }
    }
}

/// The UDP pipeline.
pub fn udp_pipeline(
    p: &mut Pipeline<'_>,
    zone: Arc<Zone>,
    stats: Arc<Stats>,
) -> Result<(), ChannelError> {
    p.add_last(
        "dns-codec",
        DatagramPacketDecoder::new(DnsDecoder::udp()).into(),
    )?;
    let handler: DnsHandler<DatagramPacket<DnsQuery>> = DnsHandler::new(zone, stats);
    p.add_last("dns", Handler::inbound(handler))?;
    Ok(())
}

/// The TCP pipeline: the same handler behind 2-byte length framing.
pub fn tcp_pipeline(
    p: &mut Pipeline<'_>,
    zone: Arc<Zone>,
    stats: Arc<Stats>,
) -> Result<(), ChannelError> {
    p.add_last(
        "dns-codec",
        ByteToMessageDecoder::new(DnsDecoder::tcp()).into(),
    )?;
    let handler: DnsHandler<DnsQuery> = DnsHandler::new(zone, stats);
    p.add_last("dns", Handler::inbound(handler))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = support::start();
    let mut signals = seine::transport::ShutdownSignals::install()?;
    let text = std::fs::read_to_string(&args.zone)
        .map_err(|e| format!("reading {}: {e}", args.zone.display()))?;
    let default_origin = args
        .zone
        .file_name()
        .and_then(|f| f.to_str())
        .map(|f| f.trim_end_matches(".zone").to_string());
    let origin = args.origin.clone().or(default_origin);
    let zone = Arc::new(Zone::parse(&text, origin.as_deref())?);
    tracing::info!(origin = %zone.origin(), answers = zone.answers.len(), "zone loaded");
    let stats = Arc::new(Stats::default());

    let group = EventLoopGroup::new(args.server.threads())?;
    let (z, s) = (zone.clone(), stats.clone());
    let tcp = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |p| tcp_pipeline(p, z.clone(), s.clone()))
        .bind(&args.server.addr)?;
    let addr: SocketAddr = tcp.local_addr()?;
    let (z, s) = (zone.clone(), stats.clone());
    let udp = DatagramBootstrap::new()
        .group(&group)
        .options(DatagramOptions {
            max_datagram_size: 4096,
            // Answers are sized not to fragment (512 bytes, or the EDNS size up
            // to 1232): DF on, as DNS over UDP wants (RFC 8900).
            dont_fragment: true,
            ..DatagramOptions::default()
        })
        .handler(move |p| udp_pipeline(p, z.clone(), s.clone()))
        .bind(addr)?;
    support::announce(addr)?;

    signals.wait();
    eprintln!("shutting down");
    udp.shutdown_gracefully_blocking(Duration::from_secs(1));
    tcp.shutdown_gracefully_blocking(Duration::from_secs(1));
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
    let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
    eprintln!(
        "answered {}, nxdomain {}, nodata {}, formerr {}, refused {}, truncated {}, dropped {}; udp {}",
        l(&stats.answered),
        l(&stats.nxdomain),
        l(&stats.nodata),
        l(&stats.formerr),
        l(&stats.refused),
        l(&stats.truncated),
        l(&stats.dropped),
        udp.metrics(),
    );
    Ok(())
}
