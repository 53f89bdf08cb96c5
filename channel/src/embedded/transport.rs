//! The embedded channel's transport: what the pipeline writes is kept for the test,
//! up to an optional byte budget; the clock is virtual; tasks run on the test's
//! thread.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use seine_buffer::Bytes;

use super::executor::LocalExecutor;
use crate::error::Error;
use crate::executor::Executor;
use crate::message::OutboundBuf;
use crate::outbound::OutboundBuffer;
use crate::pipeline::SharedSinks;
use crate::transport::Transport;

/// How many bytes the embedded transport still accepts (`None`: unlimited).
pub(super) type Budget = Rc<Cell<Option<usize>>>;

pub(super) struct EmbeddedTransport {
    pub(super) sinks: SharedSinks,
    pub(super) budget: Budget,
    pub(super) clock: Rc<Cell<Instant>>,
    pub(super) executor: LocalExecutor,
}

impl Transport for EmbeddedTransport {
    fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error> {
        while out.has_flushed() {
            let len = out.front().map_or(0, OutboundBuf::len);
            match self.budget.get() {
                None => {}
                Some(0) if len > 0 => return Ok(()),
                Some(b) if b < len => {
                    let part = partial(out.front().expect("flushed entry"), b)?;
                    self.sinks
                        .borrow_mut()
                        .outbound
                        .push_back((Box::new(OutboundBuf::Bytes(part)), "OutboundBuf"));
                    out.advance(b);
                    self.budget.set(Some(0));
                    return Ok(());
                }
                Some(b) => self.budget.set(Some(b - len)),
            }
            let msg = out.pop_flushed().expect("flushed entry");
            self.sinks
                .borrow_mut()
                .outbound
                .push_back((Box::new(msg), "OutboundBuf"));
        }
        Ok(())
    }

    fn shutdown_output(&mut self) -> Result<(), Error> {
        Ok(())
    }

    fn close(&mut self) {}

    fn now(&self) -> Instant {
        self.clock.get()
    }

    fn executor(&self) -> Option<&dyn Executor> {
        Some(&self.executor)
    }
}

/// The first `n` bytes of `msg`, for a transport that accepts only part of it.
fn partial(msg: &OutboundBuf, n: usize) -> Result<Bytes, Error> {
    Ok(match msg {
        OutboundBuf::Bytes(b) => b.slice(..n),
        OutboundBuf::Composite(c) => c.slice(..n).to_bytes(),
        OutboundBuf::File(f) => f.read_chunk(n)?,
    })
}
