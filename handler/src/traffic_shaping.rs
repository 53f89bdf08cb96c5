//! [`TrafficShapingHandler`]: read and write byte-rate limits, per channel or
//! shared by every channel of every loop ([`GlobalTrafficShaper`]) (Netty's
//! `ChannelTrafficShapingHandler` and `GlobalTrafficShapingHandler`; nginx's
//! `limit_rate`).
//!
//! Nothing is ever dropped. **Writes are delayed**: flushed writes leave in slices
//! of at most a twentieth of a second's worth of bytes, each at the time a
//! schedule at the rate gives it (one core timer; lateness of the timer does not
//! accumulate, as each slice is scheduled from the previous slice's slot). A
//! [`FileRegion`] is split into sub-regions of the same
//! file, so `sendfile` is paced too and nothing enters user space. Writing also
//! waits while the channel is not writable. **Reads are paused**: a read that
//! exceeds the read rate turns auto-read off (and holds `read()` requests) until
//! its bytes are within the rate again; the bytes read are passed on at once.
//!
//! A global shaper's schedule is shared by all channels holding it: their sum
//! stays within the rate, each getting slices first come, first served.
//!
//! ```
//! use std::time::Duration;
//! use seine_buffer::Bytes;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_channel::{Handler, OutboundBuf};
//! use seine_handler::{Rate, TrafficShapingHandler};
//!
//! // 20,000 bytes per second out, in slices of 1000 bytes (a twentieth of that):
//! // 3000 bytes leave at 0, 50 and 100 ms.
//! let shaper = TrafficShapingHandler::per_channel(Rate::UNLIMITED, Rate::new(20_000));
//! let mut ch = EmbeddedChannel::with_handlers([("shaper", Handler::duplex(shaper))]);
//! ch.write_outbound(OutboundBuf::from(vec![0u8; 3000]));
//! assert_eq!(ch.read_outbound_bytes().len(), 1000);
//! ch.advance_time(Duration::from_millis(99)).unwrap();
//! assert_eq!(ch.read_outbound_bytes().len(), 1000);
//! ch.advance_time(Duration::from_millis(1)).unwrap();
//! assert_eq!(ch.read_outbound_bytes().len(), 1000);
//! ```

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use seine_buffer::{Bytes, FileRegion};
use seine_channel::{
    ChannelHandler, Context, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise,
};

use crate::rate::{Pacer, Rate};

const WRITE: u64 = 0;
const READ: u64 = 1;

/// Slices carry at most this share of a second's bytes.
const SLICES_PER_SECOND: u64 = 20;
const MIN_SLICE: u64 = 512;
const MAX_SLICE: u64 = 1024 * 1024;

/// Limits shared by every channel whose [`TrafficShapingHandler`] was made with
/// [`TrafficShapingHandler::global`]: clone it (an `Arc`) into each loop's
/// initializer.
///
/// ```
/// use seine_handler::{GlobalTrafficShaper, Rate, TrafficShapingHandler};
/// let shared = GlobalTrafficShaper::new(Rate::UNLIMITED, "100m".parse().unwrap());
/// let for_one_channel = TrafficShapingHandler::global(&shared);
/// # let _ = for_one_channel;
/// ```
#[derive(Clone, Debug)]
pub struct GlobalTrafficShaper {
    read: Option<Arc<Pacer>>,
    write: Option<Arc<Pacer>>,
}

impl GlobalTrafficShaper {
    /// Read and write limits for all channels together.
    pub fn new(read: Rate, write: Rate) -> Self {
        let now = Instant::now();
        let pacer = |r: Rate| (!r.is_unlimited()).then(|| Arc::new(Pacer::new(r, now)));
        GlobalTrafficShaper {
            read: pacer(read),
            write: pacer(write),
        }
    }
}

/// Paces one channel's reads and writes; see the [module docs](self). Duplex, at
/// the transport's end by default (`Bytes` in, [`OutboundBuf`] out);
/// [`with_types`](Self::with_types) changes the inbound type (its length is not
/// known then, so only writes are shaped).
pub struct TrafficShapingHandler<I = Bytes> {
    read_rate: Rate,
    write_rate: Rate,
    global: Option<GlobalTrafficShaper>,
    read: Vec<Arc<Pacer>>,
    write: Vec<Arc<Pacer>>,
    queue: VecDeque<(OutboundBuf, Promise)>,
    /// The next slice's length and the time it may go.
    reserved: Option<(u64, Instant)>,
    read_paused: bool,
    auto_read_was_on: bool,
    read_wanted: bool,
    started: bool,
    _types: PhantomData<fn(I)>,
}

impl TrafficShapingHandler {
    /// Limits of this channel alone ([`Rate::UNLIMITED`] turns a direction off).
    pub fn per_channel(read: Rate, write: Rate) -> Self {
        TrafficShapingHandler {
            read_rate: read,
            write_rate: write,
            global: None,
            read: Vec::new(),
            write: Vec::new(),
            queue: VecDeque::new(),
            reserved: None,
            read_paused: false,
            auto_read_was_on: false,
            read_wanted: false,
            started: false,
            _types: PhantomData,
        }
    }

    /// Limits shared with every other channel holding `shaper`.
    pub fn global(shaper: &GlobalTrafficShaper) -> Self {
        let mut h = Self::per_channel(Rate::UNLIMITED, Rate::UNLIMITED);
        h.global = Some(shaper.clone());
        h
    }
}

/// A message's length, if it is a buffer this handler can measure.
trait Measured {
    fn measure(&self) -> Option<u64>;
}

impl<I: 'static> Measured for I {
    fn measure(&self) -> Option<u64> {
        let any = self as &dyn std::any::Any;
        if let Some(b) = any.downcast_ref::<Bytes>() {
            Some(b.len() as u64)
        } else {
            any.downcast_ref::<OutboundBuf>().map(|b| b.len() as u64)
        }
    }
}

impl<I: 'static> TrafficShapingHandler<I> {
    /// Also applies `shaper`'s shared limits (both must allow a transfer).
    pub fn and_global(mut self, shaper: &GlobalTrafficShaper) -> Self {
        self.global = Some(shaper.clone());
        self
    }

    /// The same handler for a position where it reads `I2`.
    pub fn with_types<I2: 'static>(self) -> TrafficShapingHandler<I2> {
        TrafficShapingHandler {
            read_rate: self.read_rate,
            write_rate: self.write_rate,
            global: self.global,
            read: self.read,
            write: self.write,
            queue: self.queue,
            reserved: self.reserved,
            read_paused: self.read_paused,
            auto_read_was_on: self.auto_read_was_on,
            read_wanted: self.read_wanted,
            started: self.started,
            _types: PhantomData,
        }
    }

    fn start(&mut self, ctx: &Context<'_>) {
        if self.started {
            return;
        }
        self.started = true;
        let now = ctx.now();
        if !self.read_rate.is_unlimited() {
            self.read.push(Arc::new(Pacer::new(self.read_rate, now)));
        }
        if !self.write_rate.is_unlimited() {
            self.write.push(Arc::new(Pacer::new(self.write_rate, now)));
        }
        if let Some(g) = &self.global {
            self.read.extend(g.read.clone());
            self.write.extend(g.write.clone());
        }
    }

    /// The largest slice: a twentieth of a second at the slowest rate.
    fn slice(&self) -> u64 {
        let slowest = self
            .write
            .iter()
            .map(|p| p.rate().bytes_per_second())
            .min()
            .unwrap_or(u64::MAX);
        (slowest / SLICES_PER_SECOND).clamp(MIN_SLICE, MAX_SLICE)
    }

    fn reserve(pacers: &[Arc<Pacer>], bytes: u64, now: Instant) -> Instant {
        pacers
            .iter()
            .map(|p| p.reserve(bytes, now))
            .max()
            .unwrap_or(now)
    }

    /// Writes the slices whose time has come while the channel is writable.
    fn pump(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        let mut sent = false;
        let slice = self.slice();
        while let Some((front, _)) = self.queue.front() {
            if !ctx.is_writable() || ctx.is_closing() {
                break; // writability_changed resumes
            }
            let now = ctx.now();
            let len = (front.len() as u64).min(slice);
            let (len, at) = *self
                .reserved
                .get_or_insert_with(|| (len, Self::reserve(&self.write, len, now)));
            if at > now {
                ctx.set_timer(WRITE, at);
                break;
            }
            self.reserved = None;
            sent = true;
            let (front, _) = self.queue.front_mut().expect("front");
            if front.len() as u64 <= len {
                let (msg, promise) = self.queue.pop_front().expect("front");
                ctx.write(msg, promise);
            } else {
                match split_front(front, len) {
                    Ok(part) => ctx.write(part, Promise::void()),
                    Err(e) => {
                        let (_, promise) = self.queue.pop_front().expect("front");
                        ctx.fail_promise(promise, e);
                    }
                }
            }
        }
        if sent {
            ctx.flush();
        }
    }
}

/// Splits the first `len` bytes off `buf` (no copy: a view, a composite's
/// segments, or a sub-region of the same file).
fn split_front(buf: &mut OutboundBuf, len: u64) -> Result<OutboundBuf, seine_channel::Error> {
    let n = usize::try_from(len).unwrap_or(usize::MAX);
    Ok(match buf {
        OutboundBuf::Bytes(b) => OutboundBuf::Bytes(b.split_to(n)),
        OutboundBuf::Composite(c) => OutboundBuf::Composite(c.split_to(n)),
        OutboundBuf::File(f) => {
            let start = f.current_position();
            let part = FileRegion::with_file_len(f.file().clone(), start, len, start + len)?;
            f.advance(len);
            OutboundBuf::File(part)
        }
    })
}

impl<I: 'static> ChannelHandler for TrafficShapingHandler<I> {
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        self.start(ctx);
    }

    fn timer_fired(&mut self, ctx: &mut Context<'_>, key: u64) {
        match key {
            WRITE => ctx.channel().flush(), // reaches `flush` below, from the tail
            _ => {
                self.read_paused = false;
                if self.auto_read_was_on {
                    self.auto_read_was_on = false;
                    ctx.channel().set_auto_read(true);
                }
                if self.read_wanted {
                    self.read_wanted = false;
                    ctx.read();
                }
            }
        }
    }
}

impl<I: 'static> InboundHandler for TrafficShapingHandler<I> {
    type Read = I;
    type Fire = I;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, I>, msg: I) {
        if !self.read.is_empty()
            && let Some(len) = msg.measure()
        {
            let now = ctx.now();
            let at = Self::reserve(&self.read, len, now);
            if at > now {
                if !self.read_paused && ctx.is_auto_read() {
                    self.auto_read_was_on = true;
                    ctx.channel().set_auto_read(false);
                }
                self.read_paused = true;
                let until = ctx.timer_deadline(READ).map_or(at, |d| d.max(at));
                ctx.set_timer(READ, until);
            }
        }
        ctx.fire_read(msg);
    }

    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, I>) {
        if ctx.is_writable() && !self.queue.is_empty() {
            ctx.channel().flush();
        }
        ctx.fire_writability_changed();
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, I>) {
        while let Some((_, promise)) = self.queue.pop_front() {
            ctx.fail_promise(promise, seine_channel::ChannelError::Closed);
        }
        ctx.fire_inactive();
    }
}

impl<I: 'static> OutboundHandler for TrafficShapingHandler<I> {
    type Write = OutboundBuf;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        msg: OutboundBuf,
        promise: Promise,
    ) {
        if self.write.is_empty() {
            return ctx.write(msg, promise);
        }
        self.queue.push_back((msg, promise));
    }

    fn flush(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        if self.queue.is_empty() {
            return ctx.flush();
        }
        self.pump(ctx);
    }

    fn read(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        if self.read_paused {
            self.read_wanted = true;
            return;
        }
        ctx.read();
    }

    fn close(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        // A graceful close sends what was written first, at the rate.
        if !self.queue.is_empty() && !ctx.is_closing() {
            let msgs: Vec<_> = self.queue.drain(..).collect();
            for (m, p) in msgs {
                ctx.write(m, p);
            }
        }
        ctx.close();
    }
}

impl<I> std::fmt::Debug for TrafficShapingHandler<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrafficShapingHandler")
            .field("read", &self.read_rate)
            .field("write", &self.write_rate)
            .field("queued", &self.queue.len())
            .finish()
    }
}
