//! The PROXY protocol (HAProxy's, versions 1 and 2): how a load balancer tells
//! the server behind it who the client is.
//!
//! A balancer that relays TCP connections (HAProxy with `send-proxy` or
//! `send-proxy-v2`, nginx's `proxy_protocol on`, AWS NLB, ...) sends one header
//! before the client's bytes. [`HAProxyMessageDecoder`] (Netty's name) reads it
//! at the head of the pipeline, makes the client's address available to every
//! handler as an [`HAProxyMessage`] channel attribute and a user event, and leaves
//! the pipeline. [`ProxyHeaderParser`] is the same decoding without a pipeline.
//!
//! | seine | Netty |
//! |---|---|
//! | [`HAProxyMessageDecoder`] | `HAProxyMessageDecoder` |
//! | [`HAProxyMessage`] | `HAProxyMessage` |
//! | [`ProxyCommand`], [`ProxyVersion`], [`ProxiedProtocol`] | `HAProxyCommand`, `HAProxyProtocolVersion`, `HAProxyProxiedProtocol` |
//! | [`Tlv`], [`SslTlv`], [`TlvType`] | `HAProxyTLV`, `HAProxySSLTLV`, `HAProxyTLV.Type` |
//! | [`HAProxyMessage::encode`] | `HAProxyMessageEncoder` |
//!
//! Only accept the header from balancers you trust: a client that can reach the
//! server directly can claim any address with it. Errors are
//! [`CodecError::InvalidProxyHeader`],
//! [`ProxyHeaderTooLong`](crate::CodecError::ProxyHeaderTooLong) and
//! [`ProxyHeaderTimedOut`](crate::CodecError::ProxyHeaderTimedOut).

mod decoder;
mod encode;
mod message;
mod parser;
mod tlv;
mod v1;
mod v2;

pub use decoder::HAProxyMessageDecoder;
pub use message::{HAProxyMessage, ProxiedAddrs, ProxiedProtocol, ProxyCommand, ProxyVersion};
pub use parser::{ProxyHeaderParser, V2_MAX_LENGTH, V2_MIN_LENGTH};
pub use tlv::{SslTlv, Tlv, TlvType};
pub use v1::V1_MAX_LENGTH;
pub use v2::{V2_HEADER_LENGTH, V2_SIGNATURE};

use crate::CodecError;

fn invalid(reason: String) -> CodecError {
    CodecError::InvalidProxyHeader { reason }
}
