//! The write side of [`TlsHandler`]: encrypting queued writes in order, a
//! `FileRegion` chunk by chunk while the channel is writable, and `close_notify`
//! once everything before a close is out.
//!
//! The file part is a small chunked-input loop (pread 16 KiB, encrypt, write,
//! stop at the high water mark, resume on writability): what a shared
//! `ChunkedInput` in seine-handler could take over.

use std::cell::RefCell;
use std::io::{IoSlice, Write};

use rustls::Connection;
use seine_buffer::{BufferError, Bytes};
use seine_channel::{Context, OutboundBuf};
use smallvec::SmallVec;

use super::{Counters, PendingClose, RECORD_PLAINTEXT, TlsHandler};
use crate::error::TlsError;

/// The most plaintext of in-memory writes encrypted and written as one buffer.
const RUN_PLAINTEXT: usize = 4 * RECORD_PLAINTEXT;

impl TlsHandler {
    /// Takes the records rustls has ready, as one buffer (a copy out of rustls).
    pub(super) fn take_records(&mut self) -> Option<Bytes> {
        self.conn.as_mut().and_then(|c| take_records(c, 0))
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
        while !self.queue.is_empty() && self.conn.is_some() {
            match self.write_run(ctx) {
                Run::Wrote => wrote = true,
                Run::Unwritable => return wrote,
                Run::Failed => return true,
            }
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

    /// Encrypts the run at the front of the queue and writes its records. A
    /// run is the in-memory writes there (up to [`RUN_PLAINTEXT`]) and, when a
    /// file follows and the channel is writable, the file's next bytes, as many
    /// as fill the run's last record: a response's head and a small file body
    /// share one record, and a large file goes on in full records.
    fn write_run(&mut self, ctx: &mut Context<'_>) -> Run {
        let (mut run, mut plaintext) = (0, 0);
        for (msg, _) in &self.queue {
            if msg.is_file() || (run > 0 && plaintext >= RUN_PLAINTEXT) {
                break;
            }
            run += 1;
            plaintext += msg.len();
        }
        // The file after the memory: its next bytes are read if it may be written.
        let wants_file = match self.queue.get(run) {
            Some((OutboundBuf::File(region), _)) if region.remaining() > 0 => {
                if !ctx.is_writable() && run == 0 {
                    return Run::Unwritable;
                }
                ctx.is_writable()
            }
            _ => false,
        };
        let encrypted =
            with_file_chunk(|scratch| self.encrypt_run(run, plaintext, wants_file, scratch));
        let (len, file_done) = match encrypted {
            Ok(done) => done,
            Err(e) => {
                let (_, promise) = self.queue.remove(run).expect("the file");
                self.queue.clear();
                self.failed = true;
                let reason = e.to_string();
                ctx.fail_promise(promise, TlsError::FileRegionUnreadable { reason });
                ctx.close_now();
                return Run::Failed;
            }
        };
        let Some(conn) = self.conn.as_mut() else {
            return Run::Unwritable;
        };
        let records = take_records(conn, len);
        let mut promises = self
            .queue
            .drain(..run + usize::from(file_done))
            .map(|(_, p)| p);
        match records {
            // A newer ticket than every promise of the run: they resolve when
            // the records are written (writes complete in order).
            Some(b) if promises.any(|p| !p.is_void()) => drop(ctx.write_message(b)),
            Some(b) => ctx.write_void(b),
            None => promises.for_each(|p| ctx.complete_promise(p)),
        }
        Run::Wrote
    }

    /// Encrypts the first `run` queued writes (`plaintext` bytes) and, with
    /// `wants_file`, the next bytes of the file after them (read into
    /// `scratch`, as many as fill the last record). Returns the bytes encrypted
    /// and whether the file is done (then it belongs to the run).
    fn encrypt_run(
        &mut self,
        run: usize,
        plaintext: usize,
        wants_file: bool,
        scratch: &mut Vec<u8>,
    ) -> Result<(usize, bool), BufferError> {
        let mut chunk = 0;
        let mut file_done = false;
        if let Some((OutboundBuf::File(region), _)) = self.queue.get_mut(run) {
            if region.remaining() == 0 {
                file_done = true;
            } else if wants_file {
                let room = RECORD_PLAINTEXT - plaintext % RECORD_PLAINTEXT;
                if scratch.len() < room {
                    scratch.resize(RECORD_PLAINTEXT, 0);
                }
                chunk = region.read_chunk_into(&mut scratch[..room])?;
                region.advance(chunk as u64);
                // Nothing read: the file is shorter than the region said.
                file_done = chunk == 0 || region.remaining() == 0;
            }
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok((0, file_done));
        };
        let mut slices: SmallVec<[IoSlice<'_>; 8]> = SmallVec::new();
        for (msg, _) in self.queue.iter().take(run) {
            match msg {
                OutboundBuf::Bytes(b) => slices.push(IoSlice::new(b)),
                OutboundBuf::Composite(c) => slices.extend(c.segments().map(|s| IoSlice::new(s))),
                OutboundBuf::File(_) => unreachable!("a run's memory has no file"),
            }
        }
        slices.push(IoSlice::new(&scratch[..chunk]));
        slices.retain(|s| !s.is_empty());
        let len = plaintext + chunk;
        encrypt(conn, self.counters.as_ref(), &slices, len);
        Ok((len, file_done))
    }

    /// close_notify after what waits, then the close.
    pub(super) fn graceful_close(&mut self, ctx: &mut Context<'_>) {
        if !self.queue.is_empty() {
            // The close waits for what is queued, unflushed writes included.
            self.close = PendingClose::Close;
            self.pump(ctx);
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

/// Takes the records `conn` has ready, as one buffer (a copy out of rustls),
/// sized for `plaintext` bytes of application data.
fn take_records(conn: &mut Connection, plaintext: usize) -> Option<Bytes> {
    if !conn.wants_write() {
        return None;
    }
    // Header and tag per record (22 bytes in TLS 1.3, 29 in 1.2 with GCM),
    // so that the usual case is one allocation.
    let records = plaintext / RECORD_PLAINTEXT + 1;
    let mut out = Vec::with_capacity(plaintext + records * 32);
    while conn.wants_write() {
        // Writing into a Vec cannot fail.
        if conn.write_tls(&mut out).is_err() {
            break;
        }
    }
    Some(Bytes::from(out))
}

/// Encrypts `slices` (`len` bytes in all) as one run of records (rustls
/// copies the plaintext into them).
fn encrypt(conn: &mut Connection, counters: Option<&Counters>, slices: &[IoSlice<'_>], len: usize) {
    if slices.is_empty() {
        return;
    }
    // With no buffer limit, rustls takes everything.
    let _ = conn.writer().write_vectored(slices);
    if let Some(c) = counters {
        c.user.add(len as u64);
    }
}

thread_local! {
    /// A record's worth of file plaintext, shared by the loop's TLS handlers:
    /// rustls copies it into the record at once, so one buffer per thread
    /// serves every file chunk (no allocation, no zeroing per chunk).
    static FILE_CHUNK: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with the thread's file-chunk buffer (a fresh one if it is in use).
fn with_file_chunk<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    FILE_CHUNK.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut Vec::new()),
    })
}

/// What [`TlsHandler::write_run`] did.
enum Run {
    /// Encrypted and wrote a run (or resolved writes with nothing to encrypt).
    Wrote,
    /// A file waits at the front for writability.
    Unwritable,
    /// A file could not be read: the channel is closing.
    Failed,
}
