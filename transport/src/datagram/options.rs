//! [`DatagramOptions`]: how a datagram channel's socket and batches are set up.

use seine_channel::ChannelConfig;

/// Options of a datagram (UDP) channel.
///
/// ```
/// use seine_transport::DatagramOptions;
/// let opts = DatagramOptions { batch: 64, ..DatagramOptions::default() };
/// assert_eq!(opts.config.high_water_mark, 1024, "datagrams, not bytes");
/// assert!(opts.gso);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatagramOptions {
    /// The pipeline's options. The water marks count queued datagrams (default:
    /// low 512, high 1024). `close_on_exception` is off by default: one socket
    /// serves every peer, so one bad datagram must not close it.
    pub config: ChannelConfig,
    /// `SO_REUSEADDR` (default on).
    pub reuse_addr: bool,
    /// `SO_REUSEPORT` (default on): a bound endpoint on a group of several loops
    /// opens one socket per loop on the same address and the kernel spreads
    /// datagrams over them by sender.
    pub reuse_port: bool,
    /// `SO_RCVBUF` in bytes (default: the kernel's).
    pub recv_buffer_size: Option<usize>,
    /// `SO_SNDBUF` in bytes (default: the kernel's).
    pub send_buffer_size: Option<usize>,
    /// The largest datagram received whole (default 2048 bytes, Netty's
    /// datagram default). A longer one is cut by the kernel; it is dropped and
    /// counted in [`DatagramMetrics::dropped_truncated`](crate::DatagramMetrics).
    /// Receive buffers are `batch * max_datagram_size` bytes, taken from a pool.
    pub max_datagram_size: usize,
    /// Datagrams per `recvmmsg` and at most messages per `sendmmsg` (default 32).
    pub batch: usize,
    /// `recvmmsg` calls per wake-up before `channel_read_complete` and a yield to
    /// the loop's other channels (default 4).
    pub max_reads_per_wakeup: usize,
    /// `sendmmsg` calls per flush before yielding (default 16).
    pub write_spin: usize,
    /// Send runs of equal-size datagrams to one peer as one UDP GSO message
    /// (`UDP_SEGMENT`) where the kernel offers it (default on).
    pub gso: bool,
    /// Ask the kernel to coalesce received datagrams (`UDP_GRO`) where it offers
    /// it (default off). Each receive slot then grows to 64 KiB, so a batch's
    /// buffer is `batch * 64 KiB`: worth it for bulk flows, not for small queries.
    pub gro: bool,
    /// `SO_BROADCAST` (default off).
    pub broadcast: bool,
    /// `IP_MULTICAST_LOOP` / `IPV6_MULTICAST_LOOP` (default: the kernel's, on).
    pub multicast_loop: Option<bool>,
    /// `IP_MULTICAST_TTL` / `IPV6_MULTICAST_HOPS` (default: the kernel's, 1).
    pub multicast_ttl: Option<u32>,
    /// `IPV6_V6ONLY` for IPv6 sockets (default: the kernel's; Linux accepts IPv4
    /// too on `[::]`, senders then appear as IPv4-mapped addresses).
    pub only_v6: Option<bool>,
    /// Never fragment what this socket sends (default off: the kernel's path MTU
    /// discovery, which fragments a datagram over the path MTU). On, datagrams
    /// leave with the DF bit and the kernel neither fragments them nor shrinks
    /// them to a path MTU learnt from (spoofable) ICMP (`IP_MTU_DISCOVER` /
    /// `IPV6_MTU_DISCOVER` = `IP_PMTUDISC_PROBE`); one over the interface MTU
    /// fails alone with `EMSGSIZE`, counted in
    /// [`DatagramMetrics::dropped_send_failed`](crate::DatagramMetrics). What a DNS
    /// server wants (answers sized to avoid fragmentation, RFC 8900); IPv4 sends
    /// then also skip the kernel's shared IP ID generator.
    pub dont_fragment: bool,
}

impl Default for DatagramOptions {
    fn default() -> Self {
        DatagramOptions {
            config: ChannelConfig {
                low_water_mark: 512,
                high_water_mark: 1024,
                close_on_exception: false,
                ..ChannelConfig::default()
            },
            reuse_addr: true,
            reuse_port: true,
            recv_buffer_size: None,
            send_buffer_size: None,
            max_datagram_size: 2048,
            batch: 32,
            max_reads_per_wakeup: 4,
            write_spin: 16,
            gso: true,
            gro: false,
            broadcast: false,
            multicast_loop: None,
            multicast_ttl: None,
            only_v6: None,
            dont_fragment: false,
        }
    }
}

impl DatagramOptions {
    /// The receive slot size: 64 KiB with GRO on, else `max_datagram_size`.
    pub(crate) fn slot(&self, gro_on: bool) -> usize {
        if gro_on {
            65_535
        } else {
            self.max_datagram_size.clamp(1, 65_535)
        }
    }
}
