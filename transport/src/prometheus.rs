//! A server's totals as Prometheus metrics, through the `prometheus-client`
//! crate (feature `prometheus`).

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::bootstrap::Server;
use crate::channel_set::ChannelSet;

/// Reads a server's [`ServerMetrics`](crate::ServerMetrics) at each scrape and
/// writes them as Prometheus metrics (names prefixed `seine_`; counters get
/// `_total` from the encoder):
///
/// | metric | type | what |
/// |---|---|---|
/// | `seine_connections_open` | gauge | connections open now |
/// | `seine_connections_accepted` | counter | connections accepted |
/// | `seine_connections_closed` | counter | accepted connections that closed |
/// | `seine_connections_rejected` | counter | closed at accept (`max_connections`) |
/// | `seine_connections_forced` | counter | closed unfinished at a shutdown deadline |
/// | `seine_bytes_read` | counter | bytes received |
/// | `seine_bytes_written{method="copy"\|"sendfile"}` | counter | bytes sent, by how |
/// | `seine_read_syscalls`, `seine_write_syscalls` | counter | system calls that moved them |
///
/// A scrape locks each loop's channel list briefly (see `ServerMetrics`).
///
/// ```
/// use prometheus_client::registry::Registry;
/// use seine_transport::ServerBootstrap;
/// let server = ServerBootstrap::new().bind("127.0.0.1:0").unwrap();
/// let mut registry = Registry::default();
/// registry.register_collector(Box::new(server.prometheus_collector()));
/// let mut text = String::new();
/// prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
/// assert!(text.contains("seine_connections_accepted_total 0"));
/// server.shutdown_gracefully_blocking(std::time::Duration::from_secs(1));
/// ```
#[derive(Clone)]
pub struct ServerCollector {
    set: Arc<ChannelSet>,
}

impl std::fmt::Debug for ServerCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerCollector")
    }
}

impl Server {
    /// A `prometheus-client` collector of this server's totals; register it in a
    /// `Registry`. It keeps the totals readable after the server shuts down.
    pub fn prometheus_collector(&self) -> ServerCollector {
        ServerCollector {
            set: self.channel_set().clone(),
        }
    }
}

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let c = ConstCounter::new(value);
    c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)
}

impl Collector for ServerCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let m = self.set.metrics();
        let open = ConstGauge::new(i64::try_from(m.connections_open).unwrap_or(i64::MAX));
        open.encode(encoder.encode_descriptor(
            "seine_connections_open",
            "Connections open now",
            None,
            open.metric_type(),
        )?)?;
        counter(
            &mut encoder,
            "seine_connections_accepted",
            "Connections accepted",
            m.connections_accepted,
        )?;
        counter(
            &mut encoder,
            "seine_connections_closed",
            "Accepted connections that have closed",
            m.connections_accepted.saturating_sub(m.connections_open),
        )?;
        counter(
            &mut encoder,
            "seine_connections_rejected",
            "Connections closed at accept because max_connections was reached",
            m.connections_rejected,
        )?;
        counter(
            &mut encoder,
            "seine_connections_forced",
            "Connections closed unfinished at a graceful shutdown's deadline",
            m.connections_forced,
        )?;
        counter(
            &mut encoder,
            "seine_bytes_read",
            "Bytes received",
            m.io.bytes_read,
        )?;
        let probe = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "seine_bytes_written",
            "Bytes sent, by copy (write/writev) or by sendfile",
            None,
            probe.metric_type(),
        )?;
        ConstCounter::new(m.io.bytes_written_copy)
            .encode(family.encode_family(&[("method", "copy")])?)?;
        ConstCounter::new(m.io.bytes_written_sendfile)
            .encode(family.encode_family(&[("method", "sendfile")])?)?;
        counter(
            &mut encoder,
            "seine_read_syscalls",
            "Read system calls",
            m.io.read_syscalls,
        )?;
        counter(
            &mut encoder,
            "seine_write_syscalls",
            "Write system calls (write, writev, sendfile)",
            m.io.write_syscalls,
        )
    }
}
