//! The codec's inbound side: decoding, firing requests or parts with their read
//! credits, refusals, `100 Continue`, the lingering close.

use seine_buffer::Bytes;
use seine_channel::{
    ChannelError, ChannelHandler, Context, InboundContext, InboundHandler, OutboundBuf,
    ShutdownRequested, UserEvent,
};

use super::{HttpServerCodec, IdleCheck, Item, LINGER_TIMER, ServerMessage};
use crate::http::body::{HttpContent, HttpPart, HttpRequestPart, LastHttpContent};
use crate::http::encoder::ResponseContext;
use crate::http::error::HttpError;
use crate::http::flow::{ReadCredit, ReadWindow};
use crate::http::request::Version;
use crate::http::response::HttpResponse;

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

impl<M: ServerMessage> HttpServerCodec<M> {
    /// Decodes and fires every complete request (or part); `eof` at the end of
    /// input.
    fn decode_all(&mut self, ctx: &mut InboundContext<'_, M>, eof: bool) {
        while self.reading {
            let buf = self.cumulation.buf();
            let result = match (M::STREAMING, eof) {
                (false, false) => self.decoder.decode_request(buf).map(|r| r.map(Item::Whole)),
                (false, true) => self
                    .decoder
                    .decode_request_eof(buf)
                    .map(|r| r.map(Item::Whole)),
                (true, false) => self.decoder.decode_part(buf).map(|r| r.map(Item::Part)),
                (true, true) => self.decoder.decode_part_eof(buf).map(|r| r.map(Item::Part)),
            };
            match result {
                Ok(Some(Item::Whole(req))) => {
                    let rc = ResponseContext::of(&req);
                    self.pending.push_back(rc);
                    self.continue_wanted = false;
                    if !rc.keep_alive {
                        // Nothing after this request is answered.
                        self.stop_reading();
                    }
                    ctx.fire_read(M::from_item(Item::Whole(req)));
                }
                Ok(Some(Item::Part(part))) => self.fire_part(ctx, part),
                Ok(None) => {
                    if !M::STREAMING && self.decoder.take_continue() {
                        if self.pending.is_empty() && self.out_stream.is_none() {
                            send_continue(ctx);
                        } else {
                            self.continue_wanted = true;
                        }
                    }
                    return;
                }
                Err(e) => self.refuse(ctx, e, eof),
            }
        }
    }

    /// Streaming: fires one part, with its read credit.
    fn fire_part(&mut self, ctx: &mut InboundContext<'_, M>, part: HttpRequestPart) {
        let part = match part {
            HttpPart::Head(req) => {
                let rc = ResponseContext::of(&req);
                self.pending.push_back(rc);
                self.body_open = true;
                self.body_keep_alive = rc.keep_alive;
                self.body_answered = false;
                // Answered (or not) in `channel_read_complete`, once the
                // application has seen the head.
                self.continue_owed = self.decoder.take_continue();
                ctx.fire_read(M::from_item(Item::Part(HttpPart::Head(req))));
                return;
            }
            HttpPart::Content(c) => {
                let (data, _) = c.into_parts();
                let credit = self.credit(ctx, data.len());
                HttpPart::Content(HttpContent::with_credit(data, credit))
            }
            HttpPart::Last(l) => {
                let (data, trailers, _) = l.into_parts();
                let credit = self.credit(ctx, data.len());
                self.body_open = false;
                self.continue_owed = false;
                if !self.body_keep_alive {
                    // Nothing after this request is answered.
                    self.stop_reading();
                }
                HttpPart::Last(LastHttpContent::with_credit(data, trailers, credit))
            }
        };
        ctx.fire_read(M::from_item(Item::Part(part)));
    }

    fn credit(&mut self, ctx: &mut Context<'_>, bytes: usize) -> ReadCredit {
        let size = self.read_window;
        self.window
            .get_or_insert_with(|| ReadWindow::new(size, ctx.channel().clone()))
            .deliver(bytes as u64)
    }

    /// A request the decoder refused: answered with its status in its turn.
    fn refuse(&mut self, ctx: &mut Context<'_>, e: HttpError, eof: bool) {
        // Input may still be arriving for it (a body refused or cut short): close
        // lingering, so that the client reads the answer rather than a reset.
        let linger = !eof && (self.body_open || matches!(e, HttpError::BodyTooLarge { .. }));
        let answered = self.body_open && self.body_answered;
        if self.body_open && !self.body_answered {
            // The streamed request is answered by the error instead.
            self.pending.pop_back();
        }
        self.body_open = false;
        self.continue_owed = false;
        self.stop_reading();
        if answered {
            // Its response went out already: nothing to answer, just close (once
            // that response's streamed body, if any, has been written).
            match &mut self.out_stream {
                Some(active) => active.close = true,
                None => {
                    self.closing = true;
                    self.close_after_flush(ctx, linger);
                }
            }
            ctx.fire_exception(e);
        } else if self.pending.is_empty() && self.out_stream.is_none() {
            self.answer_error(ctx, e, linger);
        } else {
            self.pending_error = Some((e, linger));
        }
    }

    pub(super) fn stop_reading(&mut self) {
        self.reading = false;
        self.continue_wanted = false;
        self.cumulation.clear();
    }

    /// Writes a response the codec makes itself (an error answer) before closing;
    /// nothing is written if even that cannot be encoded.
    pub(super) fn write_last_response(
        &mut self,
        ctx: &mut Context<'_>,
        resp: HttpResponse,
        rc: &ResponseContext,
    ) {
        if self
            .encoder
            .encode_response(resp, rc, &mut self.out)
            .is_ok()
        {
            for part in self.out.take_parts() {
                ctx.write_void(part);
            }
        }
    }

    /// Answers a bad request with its status, closes after the flush (lingering if
    /// asked), reports it.
    pub(super) fn answer_error(&mut self, ctx: &mut Context<'_>, error: HttpError, linger: bool) {
        let status = error.status();
        let resp = HttpResponse::text(status, format!("{status} {error}\n")).close();
        let rc = ResponseContext {
            head: false,
            version: Version::Http11,
            keep_alive: false,
        };
        self.write_last_response(ctx, resp, &rc);
        self.closing = true;
        ctx.flush();
        self.close_after_flush(ctx, linger);
        ctx.fire_exception(error);
    }

    /// Closes once what was written is flushed: at once, or lingering (output shut
    /// down, input read and discarded until it ends or the linger time passes).
    pub(super) fn close_after_flush(&mut self, ctx: &mut Context<'_>, linger: bool) {
        if !linger {
            ctx.close();
            return;
        }
        self.lingering = true;
        self.stop_reading();
        ctx.flush();
        ctx.shutdown_output();
        // Reading must go on, whatever the read window said.
        if self.window.as_ref().is_some_and(|w| w.unpause()) || !ctx.is_auto_read() {
            ctx.channel().set_auto_read(true);
        }
        ctx.set_timer_after(LINGER_TIMER, self.linger);
    }
}

pub(super) fn send_continue(ctx: &mut Context<'_>) {
    ctx.write_void(OutboundBuf::Bytes(Bytes::from_static(CONTINUE)));
}

impl<M: ServerMessage> ChannelHandler for HttpServerCodec<M> {
    /// Passes the bytes received but not decoded on to the next handler (one
    /// `Bytes` per segment, not copied).
    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        for seg in self.cumulation.take_all().into_segments() {
            ctx.fire_message(seg);
        }
    }

    fn timer_fired(&mut self, ctx: &mut Context<'_>, key: u64) {
        if key == LINGER_TIMER && self.lingering {
            tracing::debug!("lingering close: the client did not close in time");
            ctx.close();
        }
    }
}

impl<M: ServerMessage> InboundHandler for HttpServerCodec<M> {
    type Read = Bytes;
    type Fire = M;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, M>, msg: Bytes) {
        if !self.reading {
            // Lingering or closing: what still arrives is dropped.
            return;
        }
        self.cumulation.push(msg);
        self.decode_all(ctx, false);
        // A partial request left: copy it out of the read if small.
        self.cumulation.settle();
    }

    /// Streaming: a head that asked for `100 Continue` has been through the
    /// application (its writes made in `channel_read` have reached the codec): if
    /// it did not answer the request, the body is going to be read, so the client
    /// is told to send it.
    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, M>) {
        if self.continue_owed && self.body_open && !self.body_answered && !self.closing {
            if self.pending.len() == 1 && self.out_stream.is_none() {
                self.continue_owed = false;
                send_continue(ctx);
            } else {
                self.continue_wanted = true;
            }
        }
        ctx.fire_read_complete();
    }

    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, M>) {
        if ctx.is_writable() && self.out_stream.is_some() {
            // A flush from the tail reaches `flush`, which writes on.
            ctx.channel().flush();
        }
        ctx.fire_writability_changed();
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, M>) {
        if let Some(active) = self.out_stream.take() {
            ctx.fail_promise(active.promise, ChannelError::Closed);
        }
        self.fail_queued(ctx);
        ctx.fire_inactive();
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, M>) {
        if self.lingering {
            ctx.close();
        } else {
            self.decode_all(ctx, true);
        }
        ctx.fire_input_closed();
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, M>, event: UserEvent) {
        if event.is::<IdleCheck>() {
            if self.pending.is_empty()
                && self.cumulation.is_empty()
                && !self.body_open
                && self.out_stream.is_none()
                && !self.closing
            {
                // An idle keep-alive connection: nothing is owed, nothing started.
                self.closing = true;
                self.stop_reading();
                ctx.close();
            }
            return;
        }
        if let Some(shutdown) = event.downcast_ref::<ShutdownRequested>() {
            shutdown.take_over();
            self.draining = true;
            // Checked once the bytes already received by the kernel have been read
            // (the check waits behind that read in the channel's queue), so a
            // request in flight is answered with `Connection: close`, not reset.
            ctx.channel().fire_user_event(IdleCheck);
        }
        ctx.fire_user_event(event);
    }
}
