//! Prometheus metrics for the examples: the server's totals
//! ([`ServerCollector`]), errors by kind, served as `GET /metrics` on a separate
//! address by a small handler on seine's own HTTP codec (`--metrics-addr`).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use seine::channel::prelude::*;
use seine::codec::CodecError;
use seine::codec::http::{HttpError, HttpRequest, HttpResponse, HttpServerCodec};
use seine::transport::{EventLoopGroup, Server, ServerBootstrap, TransportError};

/// The `kind` label of `seine_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub kind: &'static str,
}

/// Errors seen by connections, by kind: `reset` (the peer went away), `timeout`,
/// `proxy_protocol`, `http` (bad requests), `codec`, `io`, `other`.
pub type ErrorCounts = Family<ErrorLabels, Counter>;

/// The kind an error is counted as.
pub fn kind_of(error: &Error) -> &'static str {
    if error.is_connection_reset() {
        return "reset";
    }
    if error.downcast_ref::<HttpError>().is_some() {
        return "http";
    }
    if let Some(c) = error.downcast_ref::<CodecError>() {
        return match c {
            CodecError::InvalidProxyHeader { .. }
            | CodecError::ProxyHeaderTooLong { .. }
            | CodecError::ProxyHeaderTimedOut { .. } => "proxy_protocol",
            _ => "codec",
        };
    }
    if let Some(t) = error.downcast_ref::<TransportError>() {
        return match t {
            TransportError::Io { source, .. } if source.kind() == std::io::ErrorKind::TimedOut => {
                "timeout"
            }
            _ => "io",
        };
    }
    "other"
}

/// Counts every exception that reaches it, then passes it on. Put it last.
pub struct CountErrors<T> {
    counts: ErrorCounts,
    _t: std::marker::PhantomData<fn(T)>,
}

impl<T: 'static> CountErrors<T> {
    pub fn new(counts: ErrorCounts) -> Self {
        CountErrors {
            counts,
            _t: std::marker::PhantomData,
        }
    }
}

impl<T: 'static> ChannelHandler for CountErrors<T> {}

impl<T: 'static> InboundHandler for CountErrors<T> {
    type Read = T;
    type Fire = T;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, T>, msg: T) {
        ctx.fire_read(msg);
    }
    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, T>, error: Error) {
        self.counts
            .get_or_create(&ErrorLabels {
                kind: kind_of(&error),
            })
            .inc();
        ctx.fire_exception(error);
    }
}

/// A registry with `server`'s totals and `errors`.
pub fn registry(server: &Server, errors: &ErrorCounts) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(server.prometheus_collector()));
    registry.register(
        "seine_errors",
        "Errors seen by connections, by kind",
        errors.clone(),
    );
    registry
}

/// Answers `GET /metrics` with the registry in the text format.
struct MetricsEndpoint {
    registry: Arc<Registry>,
}

impl ChannelHandler for MetricsEndpoint {}

impl InboundHandler for MetricsEndpoint {
    type Read = HttpRequest;
    type Fire = HttpRequest;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        let resp = if req.path() != "/metrics" {
            HttpResponse::text(404, "404 try /metrics\n")
        } else {
            let mut text = String::new();
            match prometheus_client::encoding::text::encode(&mut text, &self.registry) {
                Ok(()) => HttpResponse::ok(text).with_header(
                    "content-type",
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
                Err(_) => HttpResponse::text(500, "500 metrics could not be encoded\n"),
            }
        };
        ctx.write_void(resp);
    }
}

/// Serves `registry` on `addr` (on `group`'s loops).
pub fn serve(
    group: &EventLoopGroup,
    addr: &str,
    registry: Registry,
) -> Result<Server, TransportError> {
    let registry = Arc::new(registry);
    ServerBootstrap::new()
        .group(group)
        .child_handler(move |p| {
            p.add_last("http", HttpServerCodec::new().into())?;
            p.add_last(
                "metrics",
                Handler::inbound(MetricsEndpoint {
                    registry: registry.clone(),
                }),
            )?;
            Ok(())
        })
        .bind(addr)
}
