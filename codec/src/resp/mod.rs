//! RESP, the Redis serialization protocol (version 2), for servers and clients.
//!
//! * [`RespCommandDecoder`] reads client commands (arrays of bulk strings and inline
//!   commands) into [`RespCommand`]s whose arguments are views of the received
//!   bytes; [`RespValueDecoder`] reads any RESP2 value (replies, nested arrays).
//! * [`RespEncoder`] writes [`RespValue`]s without copying large bulk strings.
//! * [`RespCodec`] is both, as one duplex handler for a server pipeline.
//!
//! Wire format, for reference (every line ends with CRLF):
//!
//! ```text
//! +OK                simple string        -ERR message      error
//! :42                integer              $5 / hello        bulk string (length, then payload)
//! $-1                null bulk string     *-1               null array
//! *2 / $3 / GET / $1 / k                  an array of two bulk strings: a command
//! PING               an inline command (any line not starting with '*')
//! ```
//!
//! Limits (bulk length, array length, inline line length) are checked when a header
//! is read, before anything is allocated for what it announces.

mod codec;
mod decoder;
mod encoder;
mod scan_input;
mod value;
mod value_decoder;

pub(crate) use codec::write_parts;
pub use codec::{RespCodec, RespCodecBuilder};
pub use decoder::{
    DEFAULT_MAX_ARRAY_LENGTH, DEFAULT_MAX_BULK_LENGTH, DEFAULT_MAX_INLINE_LENGTH,
    RespCommandDecoder, RespCommandDecoderBuilder,
};
pub use encoder::RespEncoder;
pub use value::{RespCommand, RespValue};
pub use value_decoder::{DEFAULT_MAX_DEPTH, RespValueDecoder, RespValueDecoderBuilder};
