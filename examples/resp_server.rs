//! An in-memory key-value server speaking RESP2, enough for `redis-cli` and
//! `redis-benchmark`:
//!
//! ```text
//! cargo run --release --example resp_server -- --addr 127.0.0.1:6380 --threads 2
//! redis-cli -p 6380 set greeting hello
//! redis-benchmark -p 6380 -t ping,set,get,incr,mset -n 100000 -c 50 -P 16 -q
//! cargo run --release --example resp_server -- --help
//! ```
//!
//! Commands: PING, ECHO, SET (NX/XX/GET/EX/PX/EXAT/PXAT/KEEPTTL), GET, SETNX,
//! GETSET, GETDEL, APPEND, STRLEN, TYPE, DEL, UNLINK, EXISTS, KEYS, INCR, DECR,
//! INCRBY, DECRBY, MGET, MSET, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX/XX/GT/LT),
//! PERSIST, TTL, PTTL, DBSIZE, FLUSHDB, FLUSHALL, SELECT 0, COMMAND, CONFIG GET,
//! HELLO, CLIENT (ID/GETNAME/SETNAME/SETINFO), INFO, QUIT. Anything else gets the
//! error reply Redis gives, and replies follow Redis's (error texts, integer
//! parsing, option checks).
//!
//! The pipeline of each connection is `RespCodec` (bytes <-> commands/replies) and
//! `Kv` (commands -> replies). Every event loop serves the same `Store`: a fixed
//! number of shards, each a `Mutex<HashMap>`, so clients on different loops see the
//! same data and rarely wait for each other. Keys expire lazily (when touched, and
//! in DBSIZE).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use seine::codec::resp::{RespCodec, RespCommand, RespValue};
use seine::prelude::*;

mod support;

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
    /// The last `CLIENT ID` given out.
    last_client_id: AtomicI64,
    shards: Vec<Mutex<HashMap<Bytes, Entry>>>,
}

impl Store {
    fn new() -> Self {
        Store {
            seed: RandomState::new().hash_one(0u8) | 1,
            last_client_id: AtomicI64::new(0),
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

    /// The live keys matching the glob `pattern`.
    fn keys(&self, pattern: &[u8]) -> Vec<Bytes> {
        let now = Instant::now();
        let mut out = Vec::new();
        for s in &self.shards {
            let s = s.lock().unwrap_or_else(PoisonError::into_inner);
            out.extend(
                s.iter()
                    .filter(|(k, e)| e.live(now) && glob(pattern, k))
                    .map(|(k, _)| k.clone()),
            );
        }
        out
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
    /// This connection's `CLIENT ID`.
    id: i64,
    /// Set by `CLIENT SETNAME`.
    name: Option<Bytes>,
    /// QUIT was answered: commands pipelined behind it are not run.
    quit: bool,
}

impl ChannelHandler for Kv {}

impl InboundHandler for Kv {
    type Read = RespCommand;
    type Fire = RespCommand;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, RespCommand>, cmd: RespCommand) {
        if self.quit {
            return;
        }
        let reply = self.execute(&cmd);
        ctx.write_void(reply);
        if cmd.is("QUIT") {
            self.quit = true;
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

/// An error text built from peer data: at most `max` bytes of `b`, CR and LF turned
/// into spaces (an error line cannot hold them), as Redis formats its errors.
fn shown(b: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(max)]).replace(['\r', '\n'], " ")
}

/// Redis's answer to a command it does not know: the name and the start of the
/// arguments, each cut at 128 bytes.
fn unknown_command(cmd: &RespCommand) -> RespValue {
    let mut args = String::new();
    for a in &cmd.args()[1..] {
        if args.len() >= 128 {
            break;
        }
        args += &format!("'{}' ", shown(a, 128 - args.len()));
    }
    RespValue::error(format!(
        "ERR unknown command '{}', with args beginning with: {args}",
        shown(cmd.name(), 128)
    ))
}

/// An integer as Redis reads one (`string2ll`): an optional `-`, then digits without
/// leading zeros; no `+`, no `-0`, nothing around them.
fn int(b: &[u8]) -> Option<i64> {
    match b {
        [b'0'] => Some(0),
        [b'1'..=b'9', ..] | [b'-', b'1'..=b'9', ..] => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

/// Milliseconds since the Unix epoch.
fn unix_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| d.as_millis() as i64)
}

/// An expiry argument in `unit` ms (1000 for seconds), relative or (`absolute`) Unix
/// time, for command `cmd` (its name as sent); `Err` is the reply. A deadline
/// already past is `Ok(None)`.
fn expiry(arg: &[u8], unit: i64, absolute: bool, cmd: &[u8]) -> Result<Option<Instant>, RespValue> {
    let invalid = || {
        let cmd = String::from_utf8_lossy(cmd).to_lowercase();
        RespValue::error(format!("ERR invalid expire time in '{cmd}' command"))
    };
    let t = int(arg).ok_or_else(|| err(NOT_INT))?;
    let ms = t.checked_mul(unit).ok_or_else(invalid)?;
    let now = unix_ms();
    let rel = if absolute { ms.saturating_sub(now) } else { ms };
    if rel <= 0 {
        return Ok(None);
    }
    // Redis refuses a deadline past its millisecond clock's range.
    if rel > i64::MAX - now {
        return Err(invalid());
    }
    Instant::now()
        .checked_add(Duration::from_millis(rel as u64))
        .map(Some)
        .ok_or_else(invalid)
}

impl Kv {
    fn execute(&mut self, cmd: &RespCommand) -> RespValue {
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
            return self.incr(cmd);
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
        if is("EXPIRE") || is("PEXPIRE") || is("EXPIREAT") || is("PEXPIREAT") {
            return self.expire(cmd);
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
                    // Whole milliseconds, rounded up: a TTL just set reads back as set.
                    let left = at.saturating_duration_since(Instant::now());
                    let ms = left.as_nanos().div_ceil(1_000_000) as i64;
                    // Redis rounds TTL to the nearest second.
                    RespValue::Integer(if is("TTL") { (ms + 500) / 1000 } else { ms })
                }
            });
        }
        if is("PERSIST") {
            if n != 2 {
                return arity(cmd);
            }
            return store.with(&args[1], |slot| match slot {
                Some(e) if e.expires.is_some() => {
                    e.expires = None;
                    RespValue::Integer(1)
                }
                _ => RespValue::Integer(0),
            });
        }
        if is("ECHO") {
            return if n == 2 {
                RespValue::Bulk(args[1].clone())
            } else {
                arity(cmd)
            };
        }
        if is("STRLEN") || is("TYPE") {
            if n != 2 {
                return arity(cmd);
            }
            let value = store.get(&args[1]);
            return match (is("TYPE"), value) {
                (false, v) => RespValue::Integer(v.map_or(0, |v| v.len() as i64)),
                (true, Some(_)) => RespValue::simple("string"),
                (true, None) => RespValue::simple("none"),
            };
        }
        if is("APPEND") {
            if n != 3 {
                return arity(cmd);
            }
            return store.with(&args[1], |slot| {
                let e = slot.get_or_insert_with(|| Entry {
                    value: Bytes::new(),
                    expires: None,
                });
                let mut v = Vec::with_capacity(e.value.len() + args[2].len());
                v.extend_from_slice(&e.value);
                v.extend_from_slice(&args[2]);
                e.value = Bytes::from(v);
                RespValue::Integer(e.value.len() as i64)
            });
        }
        if is("GETSET") || is("GETDEL") {
            if n != if is("GETSET") { 3 } else { 2 } {
                return arity(cmd);
            }
            return store.with(&args[1], |slot| {
                let old = slot.take().map(|e| e.value);
                if n == 3 {
                    *slot = Some(Entry {
                        value: own(&args[2]),
                        expires: None,
                    });
                }
                old.into()
            });
        }
        if is("SETNX") {
            if n != 3 {
                return arity(cmd);
            }
            return store.with(&args[1], |slot| {
                if slot.is_some() {
                    return RespValue::Integer(0);
                }
                *slot = Some(Entry {
                    value: own(&args[2]),
                    expires: None,
                });
                RespValue::Integer(1)
            });
        }
        if is("KEYS") {
            if n != 2 {
                return arity(cmd);
            }
            return RespValue::Array(
                store
                    .keys(&args[1])
                    .into_iter()
                    .map(RespValue::Bulk)
                    .collect(),
            );
        }
        if is("DBSIZE") {
            return if n == 1 {
                RespValue::Integer(store.len() as i64)
            } else {
                arity(cmd)
            };
        }
        if is("FLUSHDB") || is("FLUSHALL") {
            let mode = args.get(1).map(|m| m.to_ascii_uppercase());
            return match (n, mode.as_deref()) {
                (1, _) | (2, Some(b"ASYNC" | b"SYNC")) => {
                    store.clear();
                    RespValue::ok()
                }
                _ => err(SYNTAX),
            };
        }
        if is("SELECT") {
            if n != 2 {
                return arity(cmd);
            }
            return match int(&args[1]) {
                Some(0) => RespValue::ok(),
                Some(_) => err("ERR DB index is out of range"),
                None => err(NOT_INT),
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
                None | Some(Some(2)) => hello(self.id),
                Some(Some(_)) => err("NOPROTO unsupported protocol version"),
                Some(None) => err("ERR Protocol version is not an integer or out of range"),
            };
        }
        if is("CLIENT") {
            return self.client(cmd);
        }
        if is("QUIT") {
            return RespValue::ok();
        }
        if is("INFO") {
            return RespValue::bulk("# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n");
        }
        unknown_command(cmd)
    }

    /// INCR, DECR, INCRBY, DECRBY.
    fn incr(&self, cmd: &RespCommand) -> RespValue {
        let args = cmd.args();
        let decr = cmd.is("DECR") || cmd.is("DECRBY");
        let by = match (args.len(), cmd.is("INCR") || cmd.is("DECR")) {
            (2, true) => 1,
            (3, false) => match int(&args[2]) {
                Some(v) => v,
                None => return err(NOT_INT),
            },
            _ => return arity(cmd),
        };
        let Some(by) = (if decr { by.checked_neg() } else { Some(by) }) else {
            return err("ERR decrement would overflow");
        };
        self.store.with(&args[1], |slot| {
            let current = match slot {
                Some(e) => match int(&e.value) {
                    Some(v) => v,
                    None => return err(NOT_INT),
                },
                None => 0,
            };
            let Some(next) = current.checked_add(by) else {
                return err("ERR increment or decrement would overflow");
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
        })
    }

    /// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT unix-s | PXAT unix-ms | KEEPTTL]
    fn set(&self, cmd: &RespCommand) -> RespValue {
        let args = cmd.args();
        if args.len() < 3 {
            return arity(cmd);
        }
        let (mut nx, mut xx, mut get, mut keep_ttl) = (false, false, false, false);
        // (argument, unit in ms, absolute)
        let mut expire: Option<(&Bytes, i64, bool)> = None;
        let mut i = 3;
        while i < args.len() {
            let opt = args[i].to_ascii_uppercase();
            let unit = match &opt[..] {
                b"NX" if !xx => {
                    nx = true;
                    None
                }
                b"XX" if !nx => {
                    xx = true;
                    None
                }
                b"GET" => {
                    get = true;
                    None
                }
                b"KEEPTTL" if expire.is_none() => {
                    keep_ttl = true;
                    None
                }
                b"EX" => Some((1000, false)),
                b"PX" => Some((1, false)),
                b"EXAT" => Some((1000, true)),
                b"PXAT" => Some((1, true)),
                _ => return err(SYNTAX),
            };
            if let Some((unit, absolute)) = unit {
                // The same option again replaces the first; another kind conflicts.
                let same = |&(_, u, a): &(&Bytes, i64, bool)| (u, a) == (unit, absolute);
                match args.get(i + 1) {
                    Some(t) if expire.as_ref().is_none_or(same) && !keep_ttl => {
                        expire = Some((t, unit, absolute))
                    }
                    _ => return err(SYNTAX),
                }
                i += 1;
            }
            i += 1;
        }
        let ttl = match expire {
            None => None,
            Some((t, unit, absolute)) => {
                // Redis refuses a non-positive relative or absolute time here.
                if int(t).is_some_and(|t| t <= 0) {
                    return err("ERR invalid expire time in 'set' command");
                }
                match expiry(t, unit, absolute, b"set") {
                    Ok(at) => Some(at),
                    Err(reply) => return reply,
                }
            }
        };
        let (key, value) = (&args[1], &args[2]);
        if !nx && !xx && !keep_ttl && !get && ttl != Some(None) {
            self.store.set(key, value.clone(), ttl.flatten());
            return RespValue::ok();
        }
        self.store.with(key, |slot| {
            let old = slot.as_ref().map(|e| e.value.clone());
            let done = |old: Option<Bytes>| if get { old.into() } else { RespValue::ok() };
            if (nx && slot.is_some()) || (xx && slot.is_none()) {
                return if get { old.into() } else { RespValue::Null };
            }
            *slot = match ttl {
                // An absolute time already past: set, and gone at once.
                Some(None) => None,
                Some(at) => Some(Entry {
                    value: own(value),
                    expires: at,
                }),
                None => Some(Entry {
                    value: own(value),
                    expires: slot.as_ref().and_then(|e| e.expires).filter(|_| keep_ttl),
                }),
            };
            done(old)
        })
    }

    /// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX | XX | GT | LT]
    fn expire(&self, cmd: &RespCommand) -> RespValue {
        let args = cmd.args();
        if args.len() < 3 {
            return arity(cmd);
        }
        let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
        for opt in &args[3..] {
            match &opt.to_ascii_uppercase()[..] {
                b"NX" => nx = true,
                b"XX" => xx = true,
                b"GT" => gt = true,
                b"LT" => lt = true,
                _ => {
                    return RespValue::error(format!("ERR Unsupported option {}", shown(opt, 128)));
                }
            }
        }
        if nx && (xx || gt || lt) {
            return err("ERR NX and XX, GT or LT options at the same time are not compatible");
        }
        if gt && lt {
            return err("ERR GT and LT options at the same time are not compatible");
        }
        let seconds = cmd.is("EXPIRE") || cmd.is("EXPIREAT");
        let absolute = cmd.is("EXPIREAT") || cmd.is("PEXPIREAT");
        let unit = if seconds { 1000 } else { 1 };
        let at = match expiry(&args[2], unit, absolute, cmd.name()) {
            Ok(at) => at,
            Err(reply) => return reply,
        };
        self.store.with(&args[1], |slot| {
            let Some(e) = slot else {
                return RespValue::Integer(0);
            };
            // No TTL counts as an infinite one for GT and LT.
            let applies = match (e.expires, at) {
                _ if nx => e.expires.is_none(),
                (None, _) if xx || gt => false,
                (Some(cur), Some(new)) if gt => new > cur,
                (Some(_), None) if gt => false,
                (Some(cur), Some(new)) if lt => new < cur,
                _ => true,
            };
            if !applies {
                return RespValue::Integer(0);
            }
            match at {
                None => *slot = None,
                Some(at) => e.expires = Some(at),
            }
            RespValue::Integer(1)
        })
    }

    /// CONFIG GET (what redis-benchmark asks for) and CONFIG RESETSTAT.
    fn config(&self, cmd: &RespCommand) -> RespValue {
        const PARAMS: [(&str, &str); 3] = [("save", ""), ("appendonly", "no"), ("databases", "1")];
        let args = cmd.args();
        let Some(sub) = args.get(1) else {
            return arity(cmd);
        };
        match &sub.to_ascii_uppercase()[..] {
            b"GET" if args.len() >= 3 => {
                let mut out = Vec::new();
                for (param, value) in PARAMS {
                    if args[2..]
                        .iter()
                        .any(|p| glob(&p.to_ascii_lowercase(), param.as_bytes()))
                    {
                        out.push(RespValue::bulk(param));
                        out.push(RespValue::bulk(value));
                    }
                }
                RespValue::Array(out)
            }
            b"GET" => err("ERR wrong number of arguments for 'config|get' command"),
            b"SET" if args.len() >= 4 => RespValue::error(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                shown(&args[2], 128)
            )),
            b"SET" => err("ERR wrong number of arguments for 'config|set' command"),
            b"RESETSTAT" => RespValue::ok(),
            _ => RespValue::error(format!(
                "ERR unknown subcommand '{}'. Try CONFIG HELP.",
                shown(sub, 128)
            )),
        }
    }

    /// CLIENT ID, GETNAME, SETNAME, SETINFO.
    fn client(&mut self, cmd: &RespCommand) -> RespValue {
        let args = cmd.args();
        let Some(sub) = args.get(1) else {
            return arity(cmd);
        };
        match (&sub.to_ascii_uppercase()[..], args.len()) {
            (b"ID", 2) => RespValue::Integer(self.id),
            (b"GETNAME", 2) => self.name.clone().into(),
            (b"SETNAME", 3) => {
                let name = &args[2];
                if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
                    return err(
                        "ERR Client names cannot contain spaces, newlines or special characters.",
                    );
                }
                self.name = (!name.is_empty()).then(|| own(name));
                RespValue::ok()
            }
            (b"SETINFO", 4) => RespValue::ok(),
            (b"ID" | b"GETNAME" | b"SETNAME" | b"SETINFO", _) => RespValue::error(format!(
                "ERR wrong number of arguments for 'client|{}' command",
                shown(sub, 128).to_lowercase()
            )),
            _ => RespValue::error(format!(
                "ERR unknown subcommand '{}'. Try CLIENT HELP.",
                shown(sub, 128)
            )),
        }
    }
}

/// Redis's glob match (`KEYS`, `CONFIG GET`): `*`, `?`, `[abc]`, `[^a-z]`, `\x`.
fn glob(pattern: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    // Where to resume after the last `*`: (pattern index after it, string index).
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, i));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => class(pattern, p + 1, s[i]),
            Some(b'\\') if p + 1 < pattern.len() => (pattern[p + 1] == s[i]).then_some(p + 2),
            Some(&c) => (c == s[i]).then_some(p + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                p = next;
                i += 1;
            }
            (None, Some((sp, si))) => {
                p = sp;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the class starting at `pattern[p]` (after `[`); the pattern
/// index after the class if it matches.
fn class(pattern: &[u8], mut p: usize, c: u8) -> Option<usize> {
    let not = pattern.get(p) == Some(&b'^');
    if not {
        p += 1;
    }
    let mut hit = false;
    loop {
        match pattern.get(p) {
            // An unclosed class ends with the pattern, as in Redis.
            None => break,
            Some(b']') => {
                p += 1;
                break;
            }
            Some(b'\\') if p + 1 < pattern.len() => {
                hit |= pattern[p + 1] == c;
                p += 2;
            }
            Some(&lo) if pattern.get(p + 1) == Some(&b'-') && p + 2 < pattern.len() => {
                let hi = pattern[p + 2];
                let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
                hit |= (lo..=hi).contains(&c);
                p += 3;
            }
            Some(&x) => {
                hit |= x == c;
                p += 1;
            }
        }
    }
    (hit != not).then_some(p)
}

/// HELLO's answer, a RESP2 flat list of field/value pairs.
fn hello(id: i64) -> RespValue {
    RespValue::Array(vec![
        RespValue::bulk("server"),
        RespValue::bulk("redis"),
        RespValue::bulk("version"),
        RespValue::bulk("7.0.0"),
        RespValue::bulk("proto"),
        RespValue::Integer(2),
        RespValue::bulk("id"),
        RespValue::Integer(id),
        RespValue::bulk("mode"),
        RespValue::bulk("standalone"),
        RespValue::bulk("role"),
        RespValue::bulk("master"),
        RespValue::bulk("modules"),
        RespValue::Array(vec![]),
    ])
}

/// An in-memory key-value server speaking RESP2, enough for redis-cli and
/// redis-benchmark.
#[derive(clap::Parser)]
#[command(name = "resp_server", version, args_override_self = true)]
struct Args {
    #[command(flatten)]
    server: support::ServerArgs<6380>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = support::start();
    let signals = support::ShutdownSignals::install()?;

    let store = Arc::new(Store::new());
    let group = EventLoopGroup::new(args.server.threads())?;
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |pipeline| {
            pipeline.add_last("resp", RespCodec::new().into())?;
            pipeline.add_last(
                "kv",
                Handler::inbound(Kv {
                    id: store.last_client_id.fetch_add(1, Ordering::Relaxed) + 1,
                    store: store.clone(),
                    name: None,
                    quit: false,
                }),
            )?;
            Ok(())
        })
        .bind(&args.server.addr)?;
    support::announce(server.local_addr()?)?;

    support::shutdown::wait_then_drain(signals, Some(&server), &group);
    Ok(())
}
