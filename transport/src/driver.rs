//! The channel driver: one local task per connection, on the connection's loop,
//! owning its [`ChannelCore`] and socket.
//!
//! Each turn it waits for whichever comes first: the socket readable (only while
//! the pipeline wants to read), writable (only while flushed data waits), or work
//! queued by `Channel` handles; it then runs that work, writes pending data, and
//! reads a batch. The calls into the core follow the order in
//! [`seine_channel::transport`].

use std::io;

use std::rc::Rc;
use std::sync::Arc;

use seine_channel::{
    Addr, Channel, ChannelCore, ChannelError, KernelTlsRecord, MetricsRecorder, Pipeline, UserEvent,
};
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::channel_set::{ChannelSet, Slot};
use crate::error::TransportError;
use crate::ktls::{self, Received, RecordLayer};
use crate::options::ChannelOptions;
use crate::recv_buf::RecvBuf;
use crate::socket_stream::SocketStream;
use crate::wakeup::{self, Wakeup};
use crate::writer::StreamTransport;

/// Builds a channel's pipeline; runs on the channel's loop, once per channel.
pub(crate) type Initializer =
    Arc<dyn Fn(&mut Pipeline<'_>) -> Result<(), ChannelError> + Send + Sync + 'static>;

/// Where a new channel registers (server and group) and how it is set up.
#[derive(Clone)]
pub(crate) struct ChannelParams {
    pub(crate) init: Initializer,
    pub(crate) opts: Arc<ChannelOptions>,
    pub(crate) server: Option<Arc<ChannelSet>>,
    pub(crate) group: Arc<ChannelSet>,
}

/// Unregisters the channel (adding its counters to the totals) however the task
/// ends, and releases its connection slot.
struct Registration {
    channel: Channel,
    sets: [Option<Arc<ChannelSet>>; 2],
    shard: usize,
    _slot: Option<Slot>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        for set in self.sets.iter().flatten() {
            set.unregister(self.shard, &self.channel);
        }
    }
}

/// An active channel and what its driver owns: the state of one connection's
/// task while it waits. Kept small on purpose (an idle connection is this, its
/// pipeline and its socket); fields drop in order, the registration last.
pub(crate) struct ChannelTask<S> {
    core: ChannelCore,
    stream: Rc<S>,
    opts: Arc<ChannelOptions>,
    recorder: MetricsRecorder,
    record_layer: RecordLayer,
    _reg: Registration,
}

/// Runs one connected socket as a channel until it closes. `shard` is the loop's
/// index; `ready` (clients) receives the handle once the channel is active, or the
/// reason it is not.
pub(crate) async fn run_channel<S: SocketStream>(
    stream: S,
    local: Addr,
    peer: Addr,
    params: ChannelParams,
    shard: usize,
    slot: Option<Slot>,
    ready: Option<oneshot::Sender<Result<Channel, TransportError>>>,
) {
    // Pinned where it is awaited: no second local holds the driver (see `start`
    // in accept.rs).
    let driver = std::pin::pin!(
        open_channel(stream, local, peer, &params, shard, slot, ready)
            .map(|(task, span)| task.run().instrument(span))
    );
    if let Some(driver) = driver.as_pin_mut() {
        driver.await;
    }
}

/// Sets a connected socket up as a channel: registers it, builds its pipeline and
/// fires `channel_active`. Returns the task to drive and its span, or `None` when
/// the channel closed at once (shutting down, or the initializer failed).
pub(crate) fn open_channel<S: SocketStream>(
    stream: S,
    local: Addr,
    peer: Addr,
    params: &ChannelParams,
    shard: usize,
    slot: Option<Slot>,
    ready: Option<oneshot::Sender<Result<Channel, TransportError>>>,
) -> Option<(ChannelTask<S>, tracing::Span)> {
    let (channel, recorder) = Channel::with_recorder(local, peer);
    let span = tracing::debug_span!("channel", id = %channel.id(), peer = %channel.peer_addr());
    let entered = span.enter();
    let mut reg = Registration {
        channel: channel.clone(),
        sets: [None, None],
        shard,
        _slot: slot,
    };
    for (i, set) in [params.server.as_ref(), Some(&params.group)]
        .into_iter()
        .enumerate()
    {
        if let Some(set) = set {
            if !set.register(shard, &channel) {
                tracing::debug!("shutting down: connection closed at once");
                if let Some(tx) = ready {
                    let _ = tx.send(Err(TransportError::Shutdown));
                }
                return None;
            }
            reg.sets[i] = Some(set.clone());
        }
    }

    let stream = Rc::new(stream);
    let record_layer = RecordLayer::default();
    let transport = StreamTransport::new(
        stream.clone(),
        channel.clone(),
        recorder.clone(),
        params.opts.clone(),
        record_layer.clone(),
    );
    let mut core = ChannelCore::new(
        channel.clone(),
        Box::new(transport),
        params.opts.config.clone(),
    );
    if let Err(e) = (params.init)(&mut core.pipeline()) {
        tracing::warn!(error = %e, "channel initializer failed: closing the connection");
        core.close_now(Some(e.clone().into()));
        if let Some(tx) = ready {
            let _ = tx.send(Err(TransportError::Initializer(e)));
        }
        return None;
    }
    core.fire_active();
    tracing::trace!("channel active");
    if let Some(tx) = ready {
        let _ = tx.send(Ok(channel));
    }
    drop(entered);
    let task = ChannelTask {
        core,
        stream,
        opts: params.opts.clone(),
        recorder,
        record_layer,
        _reg: reg,
    };
    Some((task, span))
}

impl<S: SocketStream> ChannelTask<S> {
    /// Drives the channel until it closes (run inside the channel's span).
    ///
    /// Not an `async fn`: one would keep a second copy of `self` in its state
    /// (the argument, then the local it is moved into); the block below uses the
    /// captured task in place.
    pub(crate) fn run(self) -> impl std::future::Future<Output = ()> {
        let mut task = self;
        async move {
            // Borrow the whole task: a block naming only some fields would capture
            // only those, and drop the rest (the registration) at once.
            drive(&mut task).await;
            tracing::trace!("channel closed");
        }
    }
}

/// The driver loop. A plain function returning the loop's future, so that its
/// arguments are kept once in the future's state (an `async fn` keeps them twice).
#[allow(clippy::manual_async_fn)] // on purpose: an `async fn` keeps its argument twice
fn drive<S: SocketStream>(t: &mut ChannelTask<S>) -> impl std::future::Future<Output = ()> + '_ {
    // The task's fields are named through `t` where they are used (a local
    // reference to each would be kept in the future's state too).
    async move {
        let mut recv = RecvBuf::new(&t.opts.recv_buffer);
        let channel = t.core.channel().clone();
        let max_reads = t.opts.max_reads_per_wakeup.max(1);
        let mut wakeup = Wakeup::default();
        while !t.core.is_closed() {
            // The turn lives in this block only (nothing of it is kept across the
            // yield below); it ends, and its clock with it, before the driver awaits
            // again.
            let again = {
                let stream = &*t.stream;
                let ev = wakeup::next_turn(
                    &mut t.core,
                    &mut wakeup,
                    |cx| stream.poll_write_ready(cx),
                    |cx| stream.poll_read_ready(cx),
                )
                .await;
                let io = Reader {
                    stream,
                    channel: &channel,
                    recorder: &t.recorder,
                    record_layer: &t.record_layer,
                };
                ev.run(
                    &mut t.core,
                    |core| read_batch(core, &io, &mut recv, max_reads),
                    |core, e, context| fail(core, &channel, e, context),
                    ["waiting to write", "waiting to read"],
                )
            };
            if again {
                // The batch hit its limit with data left, or a timer is due again at
                // once: let the loop's other channels run first.
                tokio::task::yield_now().await;
            }
        }
    }
}

fn fail(core: &mut ChannelCore, channel: &Channel, e: io::Error, context: &'static str) {
    let err = TransportError::from_io(e, context, channel.peer_addr());
    if err.is_connection_reset() {
        tracing::debug!(error = %err, "peer went away");
    } else {
        tracing::debug!(error = %err, "socket error: closing the channel");
    }
    core.fail(err);
}

/// What a read batch reads from, and reports to.
struct Reader<'a, S> {
    stream: &'a S,
    channel: &'a Channel,
    recorder: &'a MetricsRecorder,
    record_layer: &'a RecordLayer,
}

impl<S: SocketStream> Reader<'_, S> {
    /// One read of up to `want` bytes into `buf`: `read(2)`, or where the kernel
    /// runs the TLS record layer, `recvmsg(2)` with the record type.
    fn read(&self, buf: &mut bytes::BytesMut, want: usize) -> io::Result<Received> {
        if !self.record_layer.is_offloaded() {
            return self
                .stream
                .try_read_buf(&mut bytes::BufMut::limit(buf, want))
                .map(Received::Data);
        }
        let start = buf.len();
        buf.resize(start + want, 0);
        let r = self.stream.try_io(tokio::io::Interest::READABLE, || {
            ktls::recv(self.stream.as_fd(), &mut buf[start..])
        });
        let n = match r {
            Ok(Received::Data(n) | Received::Record { len: n, .. }) => n,
            Err(_) => 0,
        };
        buf.truncate(start + n);
        r
    }
}

/// Reads up to `max_reads` times, firing each read, then `read_complete`. Returns
/// whether more data may be waiting (the batch hit its limit). A record other
/// than application data (kTLS only) is fired as a [`KernelTlsRecord`] user event.
fn read_batch<S: SocketStream>(
    core: &mut ChannelCore,
    io: &Reader<'_, S>,
    recv: &mut RecvBuf,
    max_reads: usize,
) -> bool {
    let (stream, channel, recorder) = (io.stream, io.channel, io.recorder);
    let mut reads = 0;
    loop {
        if !core.wants_read() {
            recv.release();
            if reads > 0 {
                core.fire_read_complete();
            }
            return false;
        }
        if reads == max_reads {
            core.fire_read_complete();
            return true;
        }
        let want = recv.guess();
        let buf = recv.buffer();
        let res = io.read(buf, want);
        match res {
            Ok(Received::Record { content_type, len }) => {
                recorder.record_read(len);
                let payload = buf.split().freeze();
                reads += 1;
                core.fire_user_event(UserEvent::new(KernelTlsRecord {
                    content_type,
                    payload,
                }));
            }
            Ok(Received::Data(0)) => {
                recv.release();
                if reads > 0 {
                    core.fire_read_complete();
                }
                tracing::trace!("end of input");
                core.fire_input_closed();
                return false;
            }
            Ok(Received::Data(n)) => {
                recorder.record_read(n);
                let bytes = buf.split().freeze();
                recv.record(n);
                reads += 1;
                core.fire_read(bytes);
                if n < want {
                    // The socket had no more: skip the read that would say WouldBlock.
                    stream.clear_read_ready();
                    recv.release();
                    core.fire_read_complete();
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                recv.release();
                if reads > 0 {
                    core.fire_read_complete();
                }
                return false;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                recv.release();
                if reads > 0 {
                    core.fire_read_complete();
                }
                fail(core, channel, e, "read");
                return false;
            }
        }
    }
}
