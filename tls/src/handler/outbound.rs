//! The write side of [`TlsHandler`]: encrypting queued writes in order, a
//! `FileRegion` chunk by chunk while the channel is writable, and `close_notify`
//! once everything before a close is out.
//!
//! The file part is a small chunked-input loop (pread 16 KiB, encrypt, write,
//! stop at the high water mark, resume on writability): what a shared
//! `ChunkedInput` in seine-handler could take over.

use std::io::Write;

use bytes::Buf;
use rustls::Connection;
use seine_buffer::Bytes;
use seine_channel::{Context, OutboundBuf};

use super::{Counters, PendingClose, RECORD_PLAINTEXT, TlsHandler};
use crate::error::TlsError;

impl TlsHandler {
    /// Takes the records rustls has ready, as one buffer (a copy out of rustls).
    pub(super) fn take_records(&mut self) -> Option<Bytes> {
        self.conn.as_mut().and_then(take_records)
    }

    /// Writes the records ready with no completion; whether there were any.
    pub(super) fn emit_void(&mut self, ctx: &mut Context<'_>) -> bool {
        match self.take_records() {
            Some(b) => {
                ctx.write_void(b);
                true
            }
            None => false,
        }
    }

    /// Encrypts `data` into records (rustls copies it into the records).
    pub(super) fn encrypt(&mut self, data: &[u8]) {
        if let Some(conn) = self.conn.as_mut() {
            encrypt(conn, self.counters.as_ref(), data);
        }
    }

    /// Encrypts a buffer in memory, segment by segment.
    pub(super) fn encrypt_buf(&mut self, msg: OutboundBuf) {
        match msg {
            OutboundBuf::Bytes(b) => self.encrypt(&b),
            OutboundBuf::Composite(mut c) => {
                while c.has_remaining() {
                    let n = c.chunk().len();
                    self.encrypt(c.chunk());
                    c.advance(n);
                }
            }
            OutboundBuf::File(_) => unreachable!("files are encrypted chunk by chunk"),
        }
    }

    /// Encrypts queued writes in order while the channel is writable (files chunk
    /// by chunk); finishes a pending close once the queue is empty. Returns
    /// whether it wrote anything.
    pub(super) fn pump(&mut self, ctx: &mut Context<'_>) -> bool {
        if self.handshaking || self.failed {
            return false;
        }
        let mut wrote = false;
        if self.kernel {
            // Queued before the hand-off: plaintext now, files to sendfile.
            while let Some((msg, promise)) = self.queue.pop_front() {
                self.write_through(ctx, msg, promise);
                wrote = true;
            }
        }
        while let Some((msg, _)) = self.queue.front_mut() {
            let Some(conn) = self.conn.as_mut() else {
                break;
            };
            if let OutboundBuf::File(region) = msg {
                while region.remaining() > 0 {
                    if !ctx.is_writable() {
                        return wrote;
                    }
                    let chunk = match region.read_chunk(RECORD_PLAINTEXT) {
                        Ok(c) if !c.is_empty() => c,
                        Ok(_) => break,
                        Err(e) => {
                            let (_, promise) = self.queue.pop_front().expect("front");
                            self.queue.clear();
                            self.failed = true;
                            let err = TlsError::FileRegionUnreadable {
                                reason: e.to_string(),
                            };
                            ctx.fail_promise(promise, err);
                            ctx.close_now();
                            return true;
                        }
                    };
                    region.advance(chunk.len() as u64);
                    encrypt(conn, self.counters.as_ref(), &chunk);
                    if region.remaining() > 0
                        && let Some(b) = take_records(conn)
                    {
                        ctx.write_void(b);
                        wrote = true;
                    }
                }
            }
            let (msg, promise) = self.queue.pop_front().expect("front");
            if !msg.is_file() {
                self.encrypt_buf(msg);
            }
            match self.take_records() {
                // The promise's ticket is older than this write's: it resolves
                // when this one does (writes complete in order).
                Some(b) if !promise.is_void() => drop(ctx.write_message(b)),
                Some(b) => ctx.write_void(b),
                None => ctx.complete_promise(promise),
            }
            wrote = true;
        }
        match self.close {
            PendingClose::None => {}
            PendingClose::Close => {
                self.close = PendingClose::None;
                self.send_close_notify(ctx);
                ctx.close();
            }
            PendingClose::Shutdown => {
                self.close = PendingClose::None;
                self.send_close_notify(ctx);
                ctx.shutdown_output();
            }
        }
        wrote
    }

    /// close_notify after what waits, then the close.
    pub(super) fn graceful_close(&mut self, ctx: &mut Context<'_>) {
        if !self.queue.is_empty() {
            self.close = PendingClose::Close;
            return;
        }
        self.send_close_notify(ctx);
        ctx.close();
    }

    pub(super) fn send_close_notify(&mut self, ctx: &mut Context<'_>) {
        if self.sent_close_notify || self.handshaking || self.failed {
            return;
        }
        self.sent_close_notify = true;
        match self.conn.as_mut() {
            Some(conn) => {
                conn.send_close_notify();
                self.emit_void(ctx);
            }
            // The kernel runs the record layer: the transport sends close_notify
            // when the output shuts down (after what was written).
            None => ctx.shutdown_output(),
        }
    }
}

/// Takes the records `conn` has ready, as one buffer (a copy out of rustls).
fn take_records(conn: &mut Connection) -> Option<Bytes> {
    if !conn.wants_write() {
        return None;
    }
    let mut out = Vec::new();
    while conn.wants_write() {
        // Writing into a Vec cannot fail.
        if conn.write_tls(&mut out).is_err() {
            break;
        }
    }
    Some(Bytes::from(out))
}

/// Encrypts `data` into records (rustls copies it into the records).
fn encrypt(conn: &mut Connection, counters: Option<&Counters>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    // With no buffer limit, rustls takes everything.
    let _ = conn.writer().write_all(data);
    if let Some(c) = counters {
        c.user.add(data.len() as u64);
    }
}
