//! The handler traits users implement.
//!
//! An [`InboundHandler`] reads one message type and passes another on; an
//! [`OutboundHandler`] accepts one type from the handler after it and writes another
//! toward the transport. A codec implements both and takes one pipeline slot
//! ([`Handler::duplex`]). Every callback but the message ones has a default that passes
//! the event on, so a handler overrides only what it needs.
//!
//! ```
//! use seine_channel::{ChannelHandler, Handler, InboundContext, InboundHandler};
//! use seine_channel::testing::EmbeddedChannel;
//!
//! /// Upper-cases every string it reads and passes it on.
//! struct Shout;
//! impl ChannelHandler for Shout {}
//! impl InboundHandler for Shout {
//!     type Read = String;
//!     type Fire = String;
//!     fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
//!         ctx.fire_read(msg.to_uppercase());
//!     }
//! }
//!
//! let mut ch = EmbeddedChannel::new();
//! ch.pipeline().add_last("shout", Handler::inbound(Shout)).unwrap();
//! ch.write_inbound(String::from("hi")).unwrap();
//! assert_eq!(ch.read_inbound::<String>().as_deref(), Some("HI"));
//! ```

use std::any::Any;
use std::fmt;

use crate::completion::Promise;
use crate::context::{Context, InboundContext, OutboundContext};
use crate::error::Error;
use crate::pipeline::erased::{self, ErasedHandler, SlotTypes};

/// Callbacks every handler has: entering and leaving a pipeline.
pub trait ChannelHandler: 'static {
    /// Called once the handler is in the pipeline and can receive events.
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
    }

    /// Called once the handler has left the pipeline. Events still reach the
    /// handlers after it through `ctx` (a decoder passes on the bytes it holds, as
    /// Netty's `ByteToMessageDecoder` does).
    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
    }

    /// The timer this handler set under `key` ([`Context::set_timer`]) is due.
    /// `ctx.now()` is at or after its deadline. Runs on the channel's loop, like
    /// every callback; a timer fires once (set it again to repeat).
    fn timer_fired(&mut self, ctx: &mut Context<'_>, key: u64) {
        let _ = (ctx, key);
    }

    /// The blocking work this handler started under `key`
    /// ([`Context::spawn_blocking`]) finished with `output` (take it with
    /// [`UserEvent::downcast`]). Not called if the handler left the pipeline or the
    /// channel closed meanwhile.
    fn blocking_done(&mut self, ctx: &mut Context<'_>, key: u64, output: UserEvent) {
        let _ = (ctx, key, output);
    }
}

/// A handler of inbound events: reads `Read`, passes on `Fire`.
pub trait InboundHandler: ChannelHandler {
    /// The message this handler receives.
    type Read: 'static;
    /// The message this handler passes to the next inbound handler.
    type Fire: 'static;

    /// A message arrived.
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Self::Fire>, msg: Self::Read);

    /// The transport finished a batch of reads; what the batch wrote is flushed
    /// after this event.
    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, Self::Fire>) {
        ctx.fire_read_complete();
    }

    /// The channel is connected.
    fn channel_active(&mut self, ctx: &mut InboundContext<'_, Self::Fire>) {
        ctx.fire_active();
    }

    /// The channel closed.
    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, Self::Fire>) {
        ctx.fire_inactive();
    }

    /// The peer shut down its write side (end of input). Unless half-closure is
    /// allowed, the channel closes after this event (writes accepted so far are
    /// flushed first).
    fn input_closed(&mut self, ctx: &mut InboundContext<'_, Self::Fire>) {
        ctx.fire_input_closed();
    }

    /// The outbound buffer crossed a water mark; see `ctx.is_writable()`.
    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, Self::Fire>) {
        ctx.fire_writability_changed();
    }

    /// A user event (timeouts, handshake done, ...).
    fn user_event(&mut self, ctx: &mut InboundContext<'_, Self::Fire>, event: UserEvent) {
        ctx.fire_user_event(event);
    }

    /// An error happened: a decoder rejected input, a write failed, a handler
    /// reported one. If no handler takes it, the tail logs it and closes the channel.
    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, Self::Fire>, error: Error) {
        ctx.fire_exception(error);
    }
}

/// A handler of outbound operations: accepts `Write`, writes `Emit`.
pub trait OutboundHandler: ChannelHandler {
    /// The message this handler accepts from the handler after it.
    type Write: 'static;
    /// The message it writes toward the transport.
    type Emit: 'static;

    /// A write passes through. Pass `promise` on with the message written for it.
    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, Self::Emit>,
        msg: Self::Write,
        promise: Promise,
    );

    /// Writes so far should go to the transport.
    fn flush(&mut self, ctx: &mut OutboundContext<'_, Self::Emit>) {
        ctx.flush();
    }

    /// A handler asked for more input (auto-read off).
    fn read(&mut self, ctx: &mut OutboundContext<'_, Self::Emit>) {
        ctx.read();
    }

    /// Close the channel (after flushing what was written).
    fn close(&mut self, ctx: &mut OutboundContext<'_, Self::Emit>) {
        ctx.close();
    }

    /// Shut down the write side after what was written.
    fn shutdown_output(&mut self, ctx: &mut OutboundContext<'_, Self::Emit>) {
        ctx.shutdown_output();
    }
}

/// A user event: any `'static` value, boxed.
pub struct UserEvent(Box<dyn Any>);

impl UserEvent {
    /// Boxes `event`.
    pub fn new<E: Any>(event: E) -> Self {
        UserEvent(Box::new(event))
    }

    pub(crate) fn from_box(event: Box<dyn Any>) -> Self {
        UserEvent(event)
    }

    /// The event as `E`, if it is one.
    pub fn downcast_ref<E: Any>(&self) -> Option<&E> {
        self.0.downcast_ref()
    }

    /// Whether the event is an `E`.
    pub fn is<E: Any>(&self) -> bool {
        self.0.is::<E>()
    }

    /// Takes the event out as `E`, or gives it back.
    pub fn downcast<E: Any>(self) -> Result<E, UserEvent> {
        self.0.downcast().map(|b| *b).map_err(UserEvent)
    }
}

impl fmt::Debug for UserEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserEvent(..)")
    }
}

/// A handler ready to enter a pipeline: type-erased, with the four message types it
/// reads, fires, accepts and writes (checked whenever the pipeline changes).
///
/// Make one with [`Handler::inbound`], [`Handler::outbound`] or [`Handler::duplex`];
/// library codecs also convert with `From`. Allocates once.
pub struct Handler {
    pub(crate) erased: Box<dyn ErasedHandler>,
    pub(crate) types: &'static SlotTypes,
}

impl Handler {
    /// An inbound-only handler.
    pub fn inbound<H: InboundHandler>(handler: H) -> Self {
        Handler {
            erased: Box::new(erased::Inbound(handler)),
            types: SlotTypes::inbound::<H::Read, H::Fire>(),
        }
    }

    /// An outbound-only handler.
    pub fn outbound<H: OutboundHandler>(handler: H) -> Self {
        Handler {
            erased: Box::new(erased::Outbound(handler)),
            types: SlotTypes::outbound::<H::Write, H::Emit>(),
        }
    }

    /// A handler of both directions (a codec), in one slot.
    pub fn duplex<H: InboundHandler + OutboundHandler>(handler: H) -> Self {
        Handler {
            erased: Box::new(erased::Duplex(handler)),
            types: SlotTypes::duplex::<
                <H as InboundHandler>::Read,
                <H as InboundHandler>::Fire,
                <H as OutboundHandler>::Write,
                <H as OutboundHandler>::Emit,
            >(),
        }
    }

    /// The type names this handler reads / fires / accepts / writes, for messages.
    pub fn describe(&self) -> String {
        self.types.describe()
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("types", &self.types.describe())
            .finish()
    }
}
