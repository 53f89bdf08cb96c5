//! The codec's outbound side: responses in request order, a streamed body pulled
//! as the channel can take it, the responses that wait behind it.

use seine_channel::{
    ChannelError, Context, OutboundBuf, OutboundContext, OutboundHandler, Promise,
};

use super::inbound::send_continue;
use super::{ActiveStream, HttpServerCodec, ServerMessage};
use crate::error::CodecError;
use crate::http::encoder::ResponseContext;
use crate::http::response::HttpResponse;
use crate::resp::write_parts;

impl<M: ServerMessage> HttpServerCodec<M> {
    /// Encodes and writes a response now (no streamed body is in progress).
    fn write_now(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        resp: HttpResponse,
        promise: Promise,
    ) {
        if self.closing {
            return ctx.fail_promise(
                promise,
                CodecError::Encode {
                    reason: "a response after the one that closed the connection".into(),
                },
            );
        }
        let interim = resp.status < 200;
        let rc = if interim {
            self.pending.front().copied()
        } else {
            self.pending.pop_front()
        }
        .unwrap_or_default();
        // The streamed request whose body is arriving (always the newest) is
        // answered before its body was read.
        let early = !interim && self.body_open && self.pending.is_empty() && !self.body_answered;
        if early {
            self.body_answered = true;
        }
        // Draining: the last response owed (with no partial request behind it)
        // ends the connection. An early answer to a request whose client waits
        // for a `100 Continue` that will not come ends it too: the client may
        // send the body or not.
        let resp = if (self.draining
            && !interim
            && self.pending.is_empty()
            && self.cumulation.is_empty()
            && !self.body_open
            && self.pending_error.is_none())
            || (early && (self.continue_owed || self.draining))
        {
            resp.close()
        } else {
            resp
        };
        match self.encoder.encode_head_and_body(resp, &rc, &mut self.out) {
            Ok((close, Some(stream))) => {
                // The head now; the body as the channel can take it (`flush`).
                for part in self.out.take_parts() {
                    ctx.write_void(part);
                }
                self.out_stream = Some(ActiveStream {
                    stream,
                    promise,
                    close,
                    interim,
                });
            }
            Ok((close, None)) => {
                write_parts(ctx, &mut self.out, promise);
                self.after_response(ctx, close, interim);
            }
            Err(e) => {
                // The request is owed a response: answer 500 and close.
                self.out.take_parts();
                let status = 500;
                let resp = HttpResponse::text(status, "500 the response could not be encoded\n");
                let rc = ResponseContext {
                    keep_alive: false,
                    ..rc
                };
                self.write_last_response(ctx, resp, &rc);
                ctx.fail_promise(promise, e);
                self.after_response(ctx, true, false);
            }
        }
    }

    /// A response was written whole: close if it said so, otherwise answer what
    /// waited for it (an error, a `100 Continue`).
    fn after_response(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        close: bool,
        interim: bool,
    ) {
        if close {
            self.closing = true;
            // A body still arriving is read and dropped until the client closes,
            // so that it reads this response rather than a reset.
            let linger = self.body_open;
            self.body_open = false;
            self.close_after_flush(ctx, linger);
            self.stop_reading();
            return;
        }
        if !interim && self.pending.is_empty() {
            if let Some((error, linger)) = self.pending_error.take() {
                self.answer_error(ctx, error, linger);
            } else if std::mem::take(&mut self.continue_wanted) {
                if M::STREAMING {
                    if self.body_open && !self.body_answered && self.continue_owed {
                        self.continue_owed = false;
                        send_continue(ctx);
                    }
                } else {
                    send_continue(ctx);
                }
            }
        }
    }

    /// Writes the pieces of the streamed body in progress while the channel is
    /// writable; at its end, the responses that waited for it.
    fn pump(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        while let Some(active) = &mut self.out_stream {
            if !ctx.is_writable() || ctx.is_closing() {
                return;
            }
            match active.stream.write_next(&mut self.out) {
                Ok(false) => {
                    for part in self.out.take_parts() {
                        ctx.write_void(part);
                    }
                }
                Ok(true) => {
                    let ActiveStream {
                        promise,
                        close,
                        interim,
                        ..
                    } = self.out_stream.take().expect("a stream in progress");
                    write_parts(ctx, &mut self.out, promise);
                    self.after_response(ctx, close, interim);
                    while self.out_stream.is_none()
                        && let Some((resp, promise)) = self.queued.pop_front()
                    {
                        self.write_now(ctx, resp, promise);
                    }
                }
                Err(e) => {
                    // Part of the body is out: the framing cannot be finished.
                    tracing::debug!(error = %e, "a streamed response body failed");
                    self.out.take_parts();
                    let active = self.out_stream.take().expect("a stream in progress");
                    ctx.fail_promise(active.promise, e);
                    self.closing = true;
                    self.stop_reading();
                    self.fail_queued(ctx);
                    ctx.close();
                }
            }
        }
    }

    pub(super) fn fail_queued(&mut self, ctx: &mut Context<'_>) {
        while let Some((_, promise)) = self.queued.pop_front() {
            ctx.fail_promise(promise, ChannelError::Closed);
        }
    }
}

impl<M: ServerMessage> OutboundHandler for HttpServerCodec<M> {
    type Write = HttpResponse;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        resp: HttpResponse,
        promise: Promise,
    ) {
        if self.out_stream.is_some() {
            // In order, once the streamed body in progress has ended.
            self.queued.push_back((resp, promise));
            return;
        }
        self.write_now(ctx, resp, promise);
    }

    /// Writes what the channel can take of a streamed body, then flushes.
    fn flush(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        self.pump(ctx);
        ctx.flush();
    }

    /// A close while lingering waits for the end of the lingering (the client's
    /// close, or the linger time): the exception the codec fires closes the
    /// channel by default, and would cut the lingering short. A close while a
    /// response body is streamed waits for its end. `close_now` is not delayed.
    fn close(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        if ctx.is_closing_now() {
            return ctx.close();
        }
        if self.lingering {
            return;
        }
        if let Some(active) = &mut self.out_stream {
            active.close = true;
            return;
        }
        ctx.close();
    }
}
