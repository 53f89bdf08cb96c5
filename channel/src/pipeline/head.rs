//! The head: the transport's end of the pipeline. It turns writes into outbound
//! entries, flushes them to the transport, and carries out close and shutdown.

use seine_buffer::{Bytes, CompositeBuf, FileRegion};

use super::erased::{self, Event, Msg, OwnedEvent, TypeInfo};
use super::{HEAD, HeadKind, Inner};
use crate::datagram::DatagramPacket;
use crate::error::{ChannelError, Error};
use crate::message::OutboundBuf;

impl Inner {
    /// The type slot `idx` takes for writes, if it does not take `msg`'s (`None`:
    /// it does, or the check happens later, as at an embedded head).
    pub(crate) fn refuses_write(&self, idx: usize, msg: &erased::MsgMeta) -> Option<TypeInfo> {
        if idx == HEAD {
            let (accepted, _) = self.head_accepts();
            let ok = accepted.is_empty() || accepted.iter().any(|&a| a.type_id() == msg.type_id());
            return (!ok).then_some(match self.head {
                HeadKind::Datagram => &erased::DATAGRAM_HEAD_WRITE,
                _ => &erased::HEAD_WRITE,
            });
        }
        let want = self.slots[idx].types.write?;
        (want.type_id() != msg.type_id()).then_some(want)
    }

    /// The types the head takes for writes, and how error messages name them
    /// (empty: any type, the embedded head). One list for the pipeline's type
    /// check and for handle writes.
    pub(crate) fn head_accepts(&self) -> (smallvec::SmallVec<[TypeInfo; 5]>, &'static str) {
        use erased::meta;
        match self.head {
            HeadKind::Socket => (
                smallvec::smallvec![
                    meta::<Bytes>(),
                    meta::<CompositeBuf>(),
                    meta::<FileRegion>(),
                    meta::<OutboundBuf>(),
                ],
                "OutboundBuf (or Bytes, CompositeBuf, FileRegion)",
            ),
            HeadKind::Datagram => (
                smallvec::smallvec![
                    meta::<crate::DatagramPacket>(),
                    meta::<crate::DatagramPacket<OutboundBuf>>(),
                    meta::<Bytes>(),
                    meta::<CompositeBuf>(),
                    meta::<OutboundBuf>(),
                ],
                "DatagramPacket (or, connected, Bytes, CompositeBuf, OutboundBuf)",
            ),
            HeadKind::Embedded(_) => (smallvec::SmallVec::new(), ""),
        }
    }

    #[inline(never)]
    pub(super) fn head(&mut self, ev: Event<'_>) {
        match ev {
            Event::Write(m, p) => self.head_write(m, p.take_ticket()),
            Event::Other(OwnedEvent::Flush) => self.head_flush(),
            Event::Other(OwnedEvent::ReadRequest) => {
                self.read_requested = true;
                self.transport.read_requested();
            }
            Event::Other(OwnedEvent::Close) => self.head_close(),
            Event::Other(OwnedEvent::ShutdownOutput) => self.head_shutdown_output(),
            // Inbound events start after the head; nothing inbound arrives here.
            Event::Read(_) | Event::Other(_) => {}
        }
    }

    pub(super) fn head_write(&mut self, mut m: Msg<'_>, ticket: u64) {
        if let Err(err) = self.life.accepts_writes() {
            self.resolve(ticket, Err(err.into()));
            return;
        }
        if let HeadKind::Datagram = self.head {
            self.head_write_datagram(m, ticket);
            return;
        }
        let buf = if let Some(b) = m.take::<Bytes>() {
            OutboundBuf::Bytes(b)
        } else if let Some(b) = m.take::<OutboundBuf>() {
            b
        } else if let Some(c) = m.take::<CompositeBuf>() {
            OutboundBuf::Composite(c)
        } else if let Some(f) = m.take::<FileRegion>() {
            OutboundBuf::File(f)
        } else if let HeadKind::Embedded(sinks) = &self.head {
            let name = m.type_name();
            if let Some(b) = m.take_boxed() {
                sinks.borrow_mut().outbound.push_back((b, name));
            }
            if ticket > 0 {
                self.channel.shared.completions.complete_through(ticket);
            }
            return;
        } else {
            let expected: TypeInfo = &erased::HEAD_WRITE;
            self.unexpected(HEAD, Event::Write(m, crate::Promise { ticket }), expected);
            return;
        };
        self.out.push(buf, ticket);
        self.fire_writability_changes();
    }

    /// A datagram channel's head: one entry per datagram, with its recipient.
    pub(super) fn head_write_datagram(&mut self, mut m: Msg<'_>, ticket: u64) {
        let (buf, to) = if let Some(d) = m.take::<DatagramPacket>() {
            (OutboundBuf::Bytes(d.content), d.recipient)
        } else if let Some(d) = m.take::<DatagramPacket<OutboundBuf>>() {
            (d.content, d.recipient)
        } else if let Some(b) = m.take::<Bytes>() {
            (OutboundBuf::Bytes(b), None)
        } else if let Some(b) = m.take::<OutboundBuf>() {
            (b, None)
        } else if let Some(c) = m.take::<CompositeBuf>() {
            (OutboundBuf::Composite(c), None)
        } else {
            let expected: TypeInfo = &erased::DATAGRAM_HEAD_WRITE;
            self.unexpected(HEAD, Event::Write(m, crate::Promise { ticket }), expected);
            return;
        };
        if buf.is_file() {
            let err = ChannelError::UnexpectedMessage {
                handler: "head".into(),
                expected: "a datagram in memory",
                got: "FileRegion",
            };
            self.resolve(ticket, Err(err.into()));
            return;
        }
        self.out.push_datagram(buf, to, ticket);
        self.fire_writability_changes();
    }

    pub(crate) fn head_flush(&mut self) {
        self.dirty = false;
        if self.life.is_closed() {
            return;
        }
        self.out.mark_flushed();
        self.write_out();
    }

    /// Hands flushed entries to the transport; finishes a pending shutdown or close
    /// once they are written.
    pub(crate) fn write_out(&mut self) {
        if self.life.is_closed() || self.life.drops_unsent() {
            return;
        }
        if self.out.has_flushed()
            && let Err(e) = self.transport.flush(&mut self.out)
        {
            self.fail(e);
            return;
        }
        self.fire_writability_changes();
        if !self.out.has_flushed() {
            if self.life.take_pending_shutdown()
                && let Err(e) = self.transport.shutdown_output()
            {
                tracing::debug!(channel = %self.channel.id(), error = %e, "shutdown_output failed");
            }
            if self.life.is_close_pending() {
                self.do_close(None);
            }
        }
    }

    pub(super) fn head_close(&mut self) {
        if !self.life.request_close() {
            return;
        }
        if self.life.drops_unsent() {
            return self.do_close(None);
        }
        self.out.mark_flushed();
        self.write_out();
    }

    pub(super) fn head_shutdown_output(&mut self) {
        if !self.life.request_shutdown_output() {
            return;
        }
        self.out.mark_flushed();
        self.write_out();
    }

    pub(super) fn fire_writability_changes(&mut self) {
        let n = self.out.take_writability_changes();
        if n == 0 {
            return;
        }
        self.channel.set_writable(self.out.is_writable());
        for _ in 0..n {
            let next = self.next_in(HEAD);
            self.invoke(next, Event::Other(OwnedEvent::WritabilityChanged));
        }
    }

    /// The transport broke (reset, broken pipe, I/O error): report, then close
    /// without trying to flush.
    pub(crate) fn fail(&mut self, error: Error) {
        if self.life.is_closed() {
            return;
        }
        self.life.drop_unsent();
        let next = self.next_in(HEAD);
        self.invoke(next, Event::Other(OwnedEvent::Exception(error.clone())));
        self.do_close(Some(error));
    }

    pub(crate) fn do_close(&mut self, cause: Option<Error>) {
        let Some(fire_inactive) = self.life.close() else {
            return;
        };
        self.timers.clear();
        let err = cause.clone().unwrap_or_else(|| ChannelError::Closed.into());
        self.out.fail_all(&err);
        self.channel.shared.completions.close(cause);
        self.channel.set_active(false);
        // Commands queued by handles after this point are refused; those still
        // queued will never run: their completions fail as the channel closed.
        drop(self.channel.shared.queue.close());
        if self.life.resets() {
            self.transport.abort();
        }
        self.transport.close();
        if fire_inactive {
            let next = self.next_in(HEAD);
            self.invoke(next, Event::Other(OwnedEvent::Inactive));
        }
    }
}
