#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]
//! seine-buffer: user-level zero-copy buffers for seine.
//!
//! Framing (cutting a byte stream into messages) should never copy payload bytes.
//! This crate gives seine's codecs and transports the pieces to do that:
//!
//! * [`Bytes`] / [`BytesMut`] from the `bytes` crate are the leaf buffers
//!   (reference-counted, sliceable in O(1)); [`wrap_vec`], [`wrap_static`],
//!   [`wrap_mmap`] and [`map_file`] wrap memory that already exists.
//! * [`CompositeBuf`] joins many `Bytes` into one logical buffer without copying,
//!   implements [`Buf`] (with `chunks_vectored` for `writev`), and adds absolute
//!   reads ([`CompositeBuf::get_uint_at`]), search across segment borders
//!   ([`CompositeBuf::find_slice`]) and memory-sharing [`CompositeBuf::split_to`] /
//!   [`CompositeBuf::slice`]. It copies only when asked, and each method that does
//!   says so: [`CompositeBuf::consolidate`], [`CompositeBuf::to_bytes`] and
//!   [`CompositeBuf::into_bytes`] of several segments, [`CompositeBuf::to_vec`]
//!   (always), and a `copy_to_bytes` whose range spans segments.
//! * [`Cumulation`] is what a decoder accumulates between reads, with Netty's merge
//!   and compose strategies and an adaptive default ([`CumulationStrategy`]).
//! * [`FileRegion`] is a range of a file sent as a message (with `sendfile` by the
//!   transport), readable in chunks with `pread` ([`FileRegion::pread_chunks`]) or,
//!   for sealed files, as views of a mapping ([`FileRegion::mapped_chunks`]).
//!
//! Every function that touches bytes says whether it copies and what it costs.
//! The crate has one `unsafe` block, behind the opt-in
//! [`FileRegion::mapped_chunks_unchecked`] (mapping an ordinary file: the caller
//! promises it will not shrink or change); everything else is safe code.
//!
//! # Examples
//!
//! ```
//! use seine_buffer::{ByteOrder, Bytes, Cumulation};
//!
//! // Two reads; a frame = 2-byte big-endian length + payload.
//! let mut cumulation = Cumulation::default();
//! cumulation.push(Bytes::from_static(b"\x00\x05hel"));
//! cumulation.push(Bytes::from_static(b"lo\x00\x01!"));
//!
//! let buf = cumulation.buf();
//! let len = buf.get_uint_at(0, 2, ByteOrder::BigEndian).unwrap() as usize;
//! let frame = buf.split_to(2 + len); // shares memory with the cumulation
//! assert_eq!(frame.slice(2..), b"hello"[..]);
//! assert_eq!(*buf, b"\x00\x01!"[..]);
//! // The adaptive default copied these two small reads into one buffer (10 bytes);
//! // reads of 1 KiB or more would have been kept as segments, uncopied.
//! assert_eq!(cumulation.copied_bytes(), 10);
//! ```

#![deny(unsafe_code)]

mod byte_order;
mod composite;
mod cumulation;
mod error;
mod file_region;
mod wrap;

pub use bytes::{Buf, BufMut, Bytes, BytesMut};

pub use byte_order::ByteOrder;
pub use composite::{CompositeBuf, Segments};
pub use cumulation::{Cumulation, CumulationStrategy, DEFAULT_MERGE_THRESHOLD};
pub use error::BufferError;
pub use file_region::{FileRegion, MappedChunks, PreadChunks, Progress};
pub use wrap::{map_file, wrap_mmap, wrap_static, wrap_vec};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<CompositeBuf>();
        assert_send_sync::<Cumulation>();
        assert_send_sync::<FileRegion>();
        assert_send_sync::<Progress>();
        assert_send_sync::<PreadChunks>();
        assert_send_sync::<MappedChunks>();
        assert_send_sync::<BufferError>();
    }
}
