//! [`HAProxyMessageDecoder`]: the pipeline handler that reads a PROXY header at
//! the start of a connection and then leaves the pipeline.

use std::time::Duration;

use seine_buffer::Bytes;
use seine_channel::{ChannelHandler, Context, InboundContext, InboundHandler};

use super::parser::ProxyHeaderParser;
use crate::CodecError;

/// Reads the PROXY protocol header (v1 or v2) a load balancer sends first on each
/// connection (Netty's `HAProxyMessageDecoder`), then removes itself.
///
/// Put it first in the pipeline. Once the header is complete it:
///
/// 1. stores the [`HAProxyMessage`](super::HAProxyMessage) as a channel attribute (`ctx.attr::<HAProxyMessage>()`;
///    [`HAProxyMessage::source`](super::HAProxyMessage::source) is the client's address),
/// 2. fires it as a user event,
/// 3. passes the bytes that followed the header on as a read (a view, not a copy),
/// 4. removes itself, so later reads go straight to the next handler.
///
/// A connection that does not start with a valid header, or whose header is over
/// the limit (see [`ProxyHeaderParser`]), gets a [`CodecError`] as
/// `exception_caught` and is closed. With a [timeout](Self::with_timeout), a
/// connection that has not sent a whole header in time is closed too
/// ([`CodecError::ProxyHeaderTimedOut`]). A connection that closes before sending
/// a byte (a TCP health check) passes quietly; a LOCAL header (HAProxy's v2 health
/// check) is an ordinary header without a source address.
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::proxy::{HAProxyMessage, HAProxyMessageDecoder};
///
/// let mut ch = EmbeddedChannel::with_handlers([("proxy", Handler::from(HAProxyMessageDecoder::new()))]);
/// ch.write_inbound(Bytes::from_static(b"PROXY TCP4 127.0.0.5 10.0.0.1 40000 80\r\nGET")).unwrap();
/// let event = ch.take_user_events().pop().unwrap();
/// assert_eq!(event.downcast_ref::<HAProxyMessage>().unwrap().source().unwrap().port(), 40000);
/// assert_eq!(ch.read_inbound::<Bytes>().unwrap(), "GET");
/// assert!(ch.pipeline().names().is_empty()); // it removed itself
/// ```
pub struct HAProxyMessageDecoder {
    parser: ProxyHeaderParser,
    timeout: Option<Duration>,
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Waiting,
    Failed,
    Done,
}

/// The key of the header timer (a core timer of this handler's own).
const DEADLINE: u64 = 0;

impl Default for HAProxyMessageDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HAProxyMessageDecoder {
    /// A decoder accepting v2 headers up to the longest the format allows, with no
    /// timeout.
    pub fn new() -> Self {
        Self::with_parser(ProxyHeaderParser::default())
    }

    /// A decoder refusing v2 headers with more than `max_tlv_size` bytes of TLVs
    /// (Netty's `HAProxyMessageDecoder(int maxTlvSize)`).
    pub fn with_max_tlv_size(max_tlv_size: usize) -> Self {
        Self::with_parser(ProxyHeaderParser::with_max_tlv_size(max_tlv_size))
    }

    fn with_parser(parser: ProxyHeaderParser) -> Self {
        HAProxyMessageDecoder {
            parser,
            timeout: None,
            state: State::Waiting,
        }
    }

    /// Closes a connection that has not sent its whole header `timeout` after it
    /// became active.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    // The header timeout, in one place: armed when the channel is active,
    // disarmed when the header is in, failed or the handler leaves.
    fn arm(&mut self, ctx: &mut Context<'_>) {
        if let (Some(t), State::Waiting) = (self.timeout, self.state) {
            ctx.set_timer_after(DEADLINE, t);
        }
    }

    fn disarm(&mut self, ctx: &mut Context<'_>) {
        ctx.cancel_timer(DEADLINE);
    }

    fn fail(&mut self, ctx: &mut Context<'_>, error: CodecError) {
        self.state = State::Failed;
        self.disarm(ctx);
        tracing::debug!(peer = %ctx.channel().peer_addr(), %error, "refusing a connection");
        ctx.fire_exception(error);
        ctx.close();
    }
}

impl ChannelHandler for HAProxyMessageDecoder {
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        if ctx.is_active() {
            self.arm(ctx);
        }
    }

    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        self.disarm(ctx);
    }

    fn timer_fired(&mut self, ctx: &mut Context<'_>, _key: u64) {
        if self.state == State::Waiting {
            let after = self.timeout.unwrap_or_default();
            self.fail(ctx, CodecError::ProxyHeaderTimedOut { after });
        }
    }
}

impl InboundHandler for HAProxyMessageDecoder {
    type Read = Bytes;
    type Fire = Bytes;

    fn channel_active(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        self.arm(ctx);
        ctx.fire_active();
    }

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, mut msg: Bytes) {
        match self.state {
            State::Waiting => {}
            State::Failed => return, // the channel is closing: drop the rest
            State::Done => return ctx.fire_read(msg),
        }
        match self.parser.push(&mut msg) {
            Ok(None) => {}
            Ok(Some(header)) => {
                self.state = State::Done;
                self.disarm(ctx);
                ctx.set_attr(header.clone());
                ctx.fire_user_event(header);
                if !msg.is_empty() {
                    ctx.fire_read(msg);
                }
                ctx.remove_self();
            }
            Err(e) => self.fail(ctx, e),
        }
    }

    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        if self.state == State::Waiting && !ctx.is_auto_read() {
            ctx.read(); // the header is incomplete: ask for the rest
        }
        ctx.fire_read_complete();
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        self.end_of_input(ctx);
        ctx.fire_input_closed();
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        self.end_of_input(ctx);
        ctx.fire_inactive();
    }
}

impl HAProxyMessageDecoder {
    /// Input ended before the header did: quiet if nothing came (a TCP health
    /// check), an error for half a header.
    fn end_of_input(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        self.disarm(ctx);
        if self.state != State::Waiting {
            return;
        }
        let remaining = self.parser.buffered();
        self.state = State::Failed;
        if remaining > 0 {
            ctx.fire_exception(CodecError::TruncatedFrame { remaining });
        }
    }
}

impl From<HAProxyMessageDecoder> for seine_channel::Handler {
    fn from(decoder: HAProxyMessageDecoder) -> Self {
        seine_channel::Handler::inbound(decoder)
    }
}
