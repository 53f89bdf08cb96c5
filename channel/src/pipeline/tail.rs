//! The tail: where inbound events that no handler consumed end. Under the
//! embedded transport it keeps them for the test to inspect.

use super::erased::{Event, OwnedEvent};
use super::{HeadKind, Inner, TAIL};
use crate::error::ChannelError;

impl Inner {
    #[cold]
    #[inline(never)]
    pub(super) fn tail(&mut self, ev: Event<'_>) {
        if let HeadKind::Embedded(sinks) = &self.head {
            match ev {
                Event::Read(mut m) => {
                    let name = m.type_name();
                    if let Some(b) = m.take_boxed() {
                        sinks.borrow_mut().inbound.push_back((b, name));
                    }
                    return;
                }
                Event::Other(OwnedEvent::UserEvent(e)) => {
                    sinks.borrow_mut().user_events.push_back(e);
                    return;
                }
                Event::Other(OwnedEvent::Exception(ref e)) => {
                    sinks.borrow_mut().exceptions.push_back(e.clone());
                }
                _ => {}
            }
        }
        match ev {
            Event::Read(m) => {
                tracing::warn!(
                    channel = %self.channel.id(), message = m.type_name(),
                    "a message reached the tail of the pipeline unhandled: dropped \
                     (add a handler that consumes it)"
                );
            }
            Event::Other(OwnedEvent::Exception(e)) => {
                if e.is_connection_reset() {
                    tracing::debug!(channel = %self.channel.id(), error = %e, "peer went away");
                } else {
                    tracing::warn!(
                        channel = %self.channel.id(), error = %e,
                        "an exception reached the tail of the pipeline unhandled"
                    );
                }
                if self.config.close_on_exception {
                    let prev = self.prev_out(TAIL);
                    self.invoke(prev, Event::Other(OwnedEvent::Close));
                }
            }
            Event::Other(OwnedEvent::UserEvent(_)) => {
                tracing::trace!(channel = %self.channel.id(), "user event reached the tail");
            }
            Event::Write(m, p) => {
                // Outbound events never target the tail; keep the promise honest.
                let err = ChannelError::UnexpectedMessage {
                    handler: "tail".into(),
                    expected: "nothing",
                    got: m.type_name(),
                };
                self.resolve(p.take_ticket(), Err(err.into()));
            }
            Event::Other(_) => {}
        }
    }
}
