//! The pipeline: handlers in order, stored type-erased in slots, with the head (the
//! transport's end) and the tail at fixed slots 0 and 1.
//!
//! Dispatch takes a slot's handler out while it runs. An event that reaches a slot
//! whose handler is running (a codec whose `fire_read` led the next handler to
//! write a response back through the same codec) waits in that slot's typed
//! mailbox and is delivered, in order, as soon as the running callback returns.
//! Removed slots keep pointing at their neighbours, so an event in flight finishes
//! its path; their storage is reused only once no dispatch is running.
//!
//! Files: `structure` (adding, removing, replacing handlers: the public
//! [`Pipeline`]), `dispatch` (delivering events to slots), `head` (the transport's
//! end: writes, flush, close), `tail` (unhandled inbound events), `lifecycle`
//! (the channel's states), `timers` (handlers' timers), `erased` (the type-erased
//! handler and message).

mod dispatch;
mod names;
// The one place that needs `unsafe`: a type-erased message slot read in place.
#[allow(unsafe_code)]
pub(crate) mod erased;
mod head;
mod lifecycle;
mod structure;
mod tail;
mod timers;

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::attr::Attributes;
use crate::channel::Channel;
use crate::completion::Completion;
use crate::config::ChannelConfig;
use crate::error::{ChannelError, Error};
use crate::outbound::OutboundBuffer;
use crate::transport::Transport;
use erased::{ErasedHandler, SlotTypes};

use lifecycle::Lifecycle;
pub use structure::Pipeline;
pub(crate) use timers::{Due, TimerId, Timers};

pub(crate) const HEAD: usize = 0;
pub(crate) const TAIL: usize = 1;

/// What every hop touches, kept small and apart from the rest of a slot.
pub(crate) struct Hot {
    pub(crate) handler: Option<Box<dyn ErasedHandler>>,
    pub(crate) next_in: u32,
    pub(crate) prev_out: u32,
    /// Events waiting in the slot's mailbox.
    pub(crate) deferred: u32,
    pub(crate) removed: bool,
}

/// The rest of a slot.
pub(crate) struct Slot {
    pub(crate) name: names::Name,
    /// Which handler holds the slot (slots are reused): work that comes back
    /// later (a blocking job's result) reaches the handler that asked, or no one.
    pub(crate) generation: u32,
    pub(crate) mailbox: Option<Box<dyn Any>>,
    pub(crate) types: &'static SlotTypes,
}

/// What an embedded channel's ends keep for the test to inspect.
#[derive(Default)]
pub(crate) struct EmbeddedSinks {
    /// Messages written to the head (buffers once flushed; other types at once).
    pub(crate) outbound: VecDeque<(Box<dyn Any>, &'static str)>,
    /// Messages that reached the tail.
    pub(crate) inbound: VecDeque<(Box<dyn Any>, &'static str)>,
    pub(crate) user_events: VecDeque<crate::UserEvent>,
    pub(crate) exceptions: VecDeque<Error>,
}

pub(crate) type SharedSinks = Rc<RefCell<EmbeddedSinks>>;

/// What the head fires and accepts.
pub(crate) enum HeadKind {
    /// A socket: fires `Bytes`, accepts the buffer types.
    Socket,
    /// A datagram socket: fires `DatagramPacket`, accepts `DatagramPacket` (and,
    /// connected, the buffer types).
    Datagram,
    /// The test transport: fires and accepts anything; non-buffer messages are
    /// kept as they are.
    Embedded(SharedSinks),
}

pub(crate) struct Inner {
    pub(crate) hot: Vec<Hot>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) order: Vec<usize>,
    pub(crate) free: Vec<usize>,
    pub(crate) graveyard: Vec<usize>,
    pub(crate) out: OutboundBuffer,
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) channel: Channel,
    pub(crate) config: ChannelConfig,
    pub(crate) attrs: Attributes,
    pub(crate) next_ticket: u64,
    pub(crate) dirty: bool,
    pub(crate) in_read_batch: bool,
    pub(crate) read_requested: bool,
    /// Where the channel is in its life.
    pub(crate) life: Lifecycle,
    pub(crate) head: HeadKind,
    /// Handlers' timers and scheduled user events.
    pub(crate) timers: Timers,
    pub(crate) next_generation: u32,
}

fn sentinel(name: &str) -> (Hot, Slot) {
    (
        Hot {
            handler: None,
            next_in: TAIL as u32,
            prev_out: HEAD as u32,
            deferred: 0,
            removed: false,
        },
        Slot {
            name: names::intern(name),
            generation: 0,
            mailbox: None,
            types: SlotTypes::inbound::<(), ()>(),
        },
    )
}

impl Inner {
    pub(crate) fn new(
        channel: Channel,
        transport: Box<dyn Transport>,
        config: ChannelConfig,
        head: HeadKind,
    ) -> Self {
        let mut out = OutboundBuffer::new(
            channel.shared.completions.clone(),
            config.low_water_mark,
            config.high_water_mark,
        );
        out.set_merge_below(config.merge_writes_below);
        let (head_hot, head_slot) = sentinel("head");
        let (tail_hot, tail_slot) = sentinel("tail");
        Inner {
            hot: vec![head_hot, tail_hot],
            slots: vec![head_slot, tail_slot],
            order: Vec::new(),
            free: Vec::new(),
            graveyard: Vec::new(),
            out,
            transport,
            channel,
            config,
            attrs: Attributes::default(),
            next_ticket: 0,
            dirty: false,
            in_read_batch: false,
            read_requested: false,
            life: Lifecycle::default(),
            head,
            timers: Timers::default(),
            next_generation: 0,
        }
    }

    /// Spawns a task on the channel's loop, through the transport's executor.
    pub(crate) fn spawn(&self, task: crate::LocalTask) -> Result<(), ChannelError> {
        let ex = self.transport.executor().ok_or(ChannelError::NoExecutor)?;
        ex.spawn_local(task);
        Ok(())
    }

    #[inline]
    pub(crate) fn next_in(&self, idx: usize) -> usize {
        self.hot[idx].next_in as usize
    }

    #[inline]
    pub(crate) fn prev_out(&self, idx: usize) -> usize {
        self.hot[idx].prev_out as usize
    }

    /// Something was written: flush at the end of the read batch.
    #[inline]
    pub(crate) fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Numbers a new write and marks the channel as having unflushed writes.
    #[inline]
    pub(crate) fn next_ticket(&mut self) -> u64 {
        self.dirty = true;
        self.next_ticket += 1;
        self.next_ticket
    }

    pub(crate) fn completion(&self, ticket: u64) -> Completion {
        Completion::ticket(self.channel.shared.completions.clone(), ticket)
    }

    pub(crate) fn resolve(&mut self, ticket: u64, result: Result<(), Error>) {
        self.channel.shared.completions.resolve(ticket, result);
    }
}
