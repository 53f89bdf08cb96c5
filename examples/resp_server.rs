//! An in-memory key-value server speaking RESP2, enough for `redis-cli` and
//! `redis-benchmark`:
//!
//! ```text
//! cargo run --release --example resp_server -- --addr 127.0.0.1:6380 --threads 2
//! redis-cli -p 6380 set greeting hello
//! redis-benchmark -p 6380 -t ping,set,get,incr,mset -n 100000 -c 50 -P 16 -q
//! ```
//!
//! Commands: PING, ECHO, SET (EX/PX/NX/XX/KEEPTTL), GET, DEL, EXISTS, INCR, DECR,
//! INCRBY, DECRBY, MGET, MSET, EXPIRE, PEXPIRE, TTL, PTTL, DBSIZE, FLUSHDB,
//! FLUSHALL, SELECT 0, COMMAND, CONFIG GET, HELLO, CLIENT, INFO, QUIT. Anything else
//! gets an error reply, as from Redis.
//!
//! The pipeline of each connection is `RespCodec` (bytes <-> commands/replies) and
//! `Kv` (commands -> replies). Every event loop serves the same `Store`: a fixed
//! number of shards, each a `Mutex<HashMap>`, so clients on different loops see the
//! same data and rarely wait for each other. Keys expire lazily (when touched, and
//! in DBSIZE).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use seine::buffer::Bytes;
use seine::channel::prelude::*;
use seine::codec::resp::{RespCodec, RespCommand, RespValue};
use seine::transport::{EventLoopGroup, ServerBootstrap};

const SHARDS: usize = 64;

/// Values shorter than this are copied when stored: a decoded argument is a view
/// of the connection's receive buffer, and keeping a small view would keep the
/// whole buffer alive. Larger values are stored as the views they are (no copy).
const COPY_BELOW: usize = 64 * 1024;

struct Entry {
    value: Bytes,
    expires: Option<Instant>,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.expires.is_none_or(|at| at > now)
    }

    /// [`live`](Self::live) now; reads the clock only for an entry that expires.
    fn live_now(&self) -> bool {
        self.expires.is_none_or(|at| at > Instant::now())
    }
}

/// The shared key space.
struct Store {
    /// Seeds the shard choice (so that which keys share a shard is not
    /// predictable from outside).
    seed: u64,
    shards: Vec<Mutex<HashMap<Bytes, Entry>>>,
}

impl Store {
    fn new() -> Self {
        Store {
            seed: RandomState::new().hash_one(0u8) | 1,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, key: &[u8]) -> MutexGuard<'_, HashMap<Bytes, Entry>> {
        self.shards[self.shard_index(key)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Which shard holds `key`: a seeded FNV-1a-style mix, a fraction of the cost
    /// of the maps' SipHash (which keeps guarding each map against collisions; a
    /// peer that could aim many keys at one shard would only make its lock busier).
    fn shard_index(&self, key: &[u8]) -> usize {
        let mut h = self.seed;
        for &b in key {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        // The high bits are the best mixed.
        (h >> 40) as usize % SHARDS
    }

    /// Runs `f` on the live entry of `key` (`None` if missing or expired); what
    /// `f` leaves in the slot is stored (`None` deletes).
    fn with<R>(&self, key: &Bytes, f: impl FnOnce(&mut Option<Entry>) -> R) -> R {
        let mut shard = self.shard(key);
        let (owned_key, mut slot) = match shard.remove_entry(&key[..]) {
            Some((k, e)) if e.live_now() => (Some(k), Some(e)),
            Some((k, _)) => (Some(k), None),
            None => (None, None),
        };
        let r = f(&mut slot);
        if let Some(e) = slot {
            shard.insert(owned_key.unwrap_or_else(|| own(key)), e);
        }
        r
    }

    fn get(&self, key: &[u8]) -> Option<Bytes> {
        let shard = self.shard(key);
        let e = shard.get(key)?;
        e.live_now().then(|| e.value.clone())
    }

    fn set(&self, key: &Bytes, value: Bytes, expires: Option<Instant>) {
        let entry = Entry {
            value: own(&value),
            expires,
        };
        let mut shard = self.shard(key);
        // An existing key keeps its stored copy: no new one to make and drop.
        match shard.get_mut(&key[..]) {
            Some(slot) => *slot = entry,
            None => {
                shard.insert(own(key), entry);
            }
        }
    }

    fn remove(&self, key: &[u8]) -> bool {
        let mut shard = self.shard(key);
        shard.remove(key).is_some_and(|e| e.live_now())
    }

    fn len(&self) -> usize {
        let now = Instant::now();
        self.shards
            .iter()
            .map(|s| {
                let mut s = s.lock().unwrap_or_else(PoisonError::into_inner);
                s.retain(|_, e| e.live(now));
                s.len()
            })
            .sum()
    }

    fn clear(&self) {
        for s in &self.shards {
            s.lock().unwrap_or_else(PoisonError::into_inner).clear();
        }
    }
}

/// A copy of a short buffer (see [`COPY_BELOW`]); long ones are kept as they are.
fn own(b: &Bytes) -> Bytes {
    if b.len() < COPY_BELOW {
        Bytes::copy_from_slice(b)
    } else {
        b.clone()
    }
}

/// Answers commands from the store.
struct Kv {
    store: Arc<Store>,
}

impl ChannelHandler for Kv {}

impl InboundHandler for Kv {
    type Read = RespCommand;
    type Fire = RespCommand;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, RespCommand>, cmd: RespCommand) {
        let reply = self.execute(&cmd);
        ctx.write_void(reply);
        if cmd.is("QUIT") {
            ctx.close();
        }
    }
}

fn err(text: &'static str) -> RespValue {
    RespValue::error(text)
}

fn arity(cmd: &RespCommand) -> RespValue {
    let name = String::from_utf8_lossy(cmd.name()).to_lowercase();
    RespValue::error(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

fn int(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

const NOT_INT: &str = "ERR value is not an integer or out of range";

impl Kv {
    fn execute(&self, cmd: &RespCommand) -> RespValue {
        let args = cmd.args();
        let n = args.len();
        let name = cmd.name();
        let is = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
        let store = &self.store;
        if is("GET") {
            if n != 2 {
                return arity(cmd);
            }
            return store.get(&args[1]).into();
        }
        if is("SET") {
            return self.set(cmd);
        }
        if is("PING") {
            return match n {
                1 => RespValue::simple("PONG"),
                2 => RespValue::Bulk(args[1].clone()),
                _ => arity(cmd),
            };
        }
        if is("INCR") || is("DECR") || is("INCRBY") || is("DECRBY") {
            let by = match (n, is("INCR") || is("DECR")) {
                (2, true) => 1,
                (3, false) => match int(&args[2]) {
                    Some(v) => v,
                    None => return err(NOT_INT),
                },
                _ => return arity(cmd),
            };
            let by = if is("DECR") || is("DECRBY") {
                by.checked_neg()
            } else {
                Some(by)
            };
            let Some(by) = by else { return err(NOT_INT) };
            return store.with(&args[1], |slot| {
                let current = match slot {
                    Some(e) => match int(&e.value) {
                        Some(v) => v,
                        None => return err(NOT_INT),
                    },
                    None => 0,
                };
                let Some(next) = current.checked_add(by) else {
                    return RespValue::error("ERR increment or decrement would overflow");
                };
                let value = Bytes::from(next.to_string());
                match slot {
                    Some(e) => e.value = value,
                    None => {
                        *slot = Some(Entry {
                            value,
                            expires: None,
                        })
                    }
                }
                RespValue::Integer(next)
            });
        }
        if is("MGET") {
            if n < 2 {
                return arity(cmd);
            }
            return RespValue::Array(args[1..].iter().map(|k| store.get(k).into()).collect());
        }
        if is("MSET") {
            if n < 3 || n.is_multiple_of(2) {
                return arity(cmd);
            }
            for kv in args[1..].chunks(2) {
                store.set(&kv[0], kv[1].clone(), None);
            }
            return RespValue::ok();
        }
        if is("DEL") || is("UNLINK") || is("EXISTS") {
            if n < 2 {
                return arity(cmd);
            }
            let count = if is("EXISTS") {
                args[1..].iter().filter(|k| store.get(k).is_some()).count()
            } else {
                args[1..].iter().filter(|k| store.remove(k)).count()
            };
            return RespValue::Integer(count as i64);
        }
        if is("EXPIRE") || is("PEXPIRE") {
            if n != 3 {
                return arity(cmd);
            }
            let Some(t) = int(&args[2]) else {
                return err(NOT_INT);
            };
            let ms = if is("EXPIRE") {
                t.saturating_mul(1000)
            } else {
                t
            };
            return store.with(&args[1], |slot| match slot {
                None => RespValue::Integer(0),
                Some(_) if ms <= 0 => {
                    *slot = None;
                    RespValue::Integer(1)
                }
                Some(e) => {
                    e.expires = Some(Instant::now() + Duration::from_millis(ms as u64));
                    RespValue::Integer(1)
                }
            });
        }
        if is("TTL") || is("PTTL") {
            if n != 2 {
                return arity(cmd);
            }
            return store.with(&args[1], |slot| match slot {
                None => RespValue::Integer(-2),
                Some(Entry { expires: None, .. }) => RespValue::Integer(-1),
                Some(Entry {
                    expires: Some(at), ..
                }) => {
                    let left = at.saturating_duration_since(Instant::now());
                    RespValue::Integer(if is("TTL") {
                        left.as_millis().div_ceil(1000) as i64
                    } else {
                        left.as_millis() as i64
                    })
                }
            });
        }
        if is("ECHO") {
            return if n == 2 {
                RespValue::Bulk(args[1].clone())
            } else {
                arity(cmd)
            };
        }
        if is("DBSIZE") {
            return RespValue::Integer(store.len() as i64);
        }
        if is("FLUSHDB") || is("FLUSHALL") {
            store.clear();
            return RespValue::ok();
        }
        if is("SELECT") {
            return match args.get(1).map(|a| &a[..]) {
                Some(b"0") => RespValue::ok(),
                Some(_) => err("ERR DB index is out of range"),
                None => arity(cmd),
            };
        }
        if is("COMMAND") {
            // redis-cli asks for command docs at start-up; an empty answer is fine.
            return RespValue::Array(vec![]);
        }
        if is("CONFIG") {
            return self.config(cmd);
        }
        if is("HELLO") {
            return match args.get(1).map(|v| int(v)) {
                None | Some(Some(2)) => hello(),
                Some(Some(_)) => err("NOPROTO unsupported protocol version"),
                Some(None) => err("ERR Protocol version is not an integer or out of range"),
            };
        }
        if is("CLIENT") || is("QUIT") {
            return RespValue::ok();
        }
        if is("INFO") {
            return RespValue::bulk("# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n");
        }
        let shown: Vec<String> = args[1..]
            .iter()
            .take(3)
            .map(|a| format!("'{}'", String::from_utf8_lossy(a)))
            .collect();
        RespValue::error(format!(
            "ERR unknown command '{}', with args beginning with: {}",
            String::from_utf8_lossy(name),
            shown.join(" ")
        ))
    }

    /// SET key value [NX | XX] [EX seconds | PX milliseconds | KEEPTTL]
    fn set(&self, cmd: &RespCommand) -> RespValue {
        let args = cmd.args();
        if args.len() < 3 {
            return arity(cmd);
        }
        let (mut nx, mut xx, mut keep_ttl, mut ttl) = (false, false, false, None);
        let mut i = 3;
        while i < args.len() {
            let opt = &args[i][..];
            if opt.eq_ignore_ascii_case(b"NX") {
                nx = true;
            } else if opt.eq_ignore_ascii_case(b"XX") {
                xx = true;
            } else if opt.eq_ignore_ascii_case(b"KEEPTTL") {
                keep_ttl = true;
            } else if opt.eq_ignore_ascii_case(b"EX") || opt.eq_ignore_ascii_case(b"PX") {
                let Some(t) = args.get(i + 1).and_then(|v| int(v)) else {
                    return err(NOT_INT);
                };
                if t <= 0 {
                    return err("ERR invalid expire time in 'set' command");
                }
                let ms = if opt.eq_ignore_ascii_case(b"EX") {
                    t.saturating_mul(1000)
                } else {
                    t
                };
                ttl = Some(Instant::now() + Duration::from_millis(ms as u64));
                i += 1;
            } else {
                return err("ERR syntax error");
            }
            i += 1;
        }
        if (nx && xx) || (keep_ttl && ttl.is_some()) {
            return err("ERR syntax error");
        }
        let (key, value) = (&args[1], &args[2]);
        if !nx && !xx && !keep_ttl {
            self.store.set(key, value.clone(), ttl);
            return RespValue::ok();
        }
        self.store.with(key, |slot| {
            if (nx && slot.is_some()) || (xx && slot.is_none()) {
                return RespValue::Null;
            }
            let expires = match slot {
                Some(e) if keep_ttl => e.expires,
                _ => ttl,
            };
            *slot = Some(Entry {
                value: own(value),
                expires,
            });
            RespValue::ok()
        })
    }

    /// CONFIG GET: what redis-benchmark asks for; other parameters are unknown.
    fn config(&self, cmd: &RespCommand) -> RespValue {
        let args = cmd.args();
        if args.len() < 3 || !args[1].eq_ignore_ascii_case(b"GET") {
            return RespValue::ok();
        }
        let mut out = Vec::new();
        for param in &args[2..] {
            let value = match &param.to_ascii_lowercase()[..] {
                b"save" => "",
                b"appendonly" => "no",
                b"databases" => "1",
                _ => continue,
            };
            out.push(RespValue::Bulk(param.clone()));
            out.push(RespValue::bulk(value));
        }
        RespValue::Array(out)
    }
}

/// HELLO's answer, a RESP2 flat list of field/value pairs.
fn hello() -> RespValue {
    RespValue::Array(vec![
        RespValue::bulk("server"),
        RespValue::bulk("redis"),
        RespValue::bulk("version"),
        RespValue::bulk("7.0.0"),
        RespValue::bulk("proto"),
        RespValue::Integer(2),
        RespValue::bulk("mode"),
        RespValue::bulk("standalone"),
        RespValue::bulk("role"),
        RespValue::bulk("master"),
        RespValue::bulk("modules"),
        RespValue::Array(vec![]),
    ])
}

/// `--addr HOST:PORT` and `--threads N`.
fn parse_args(default_addr: &str) -> Result<(String, usize), String> {
    let mut addr = default_addr.to_string();
    let mut threads = EventLoopGroup::default_threads();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = value,
            "--threads" => threads = value.parse().map_err(|e| format!("--threads: {e}"))?,
            _ => {
                return Err(format!(
                    "unknown option {flag}; use --addr HOST:PORT --threads N"
                ));
            }
        }
    }
    Ok((addr, threads.max(1)))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let (addr, threads) = parse_args("127.0.0.1:6380")?;

    let store = Arc::new(Store::new());
    let group = EventLoopGroup::new(threads)?;
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |pipeline| {
            pipeline.add_last("resp", RespCodec::new().into())?;
            pipeline.add_last(
                "kv",
                Handler::inbound(Kv {
                    store: store.clone(),
                }),
            )?;
            Ok(())
        })
        .bind(&addr)?;
    println!("listening on {}", server.local_addr()?);
    std::io::stdout().flush()?;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(tokio::signal::ctrl_c())?;
    eprintln!("shutting down");
    server.shutdown_gracefully_blocking(Duration::from_secs(5));
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
    Ok(())
}
