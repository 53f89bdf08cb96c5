//! Prints the zero-copy capability probe: without a socket, for a loopback TCP
//! connection, for each interface named on the command line (by name), and for a
//! UDP socket "connected" to each `--udp-to IP:PORT` (connecting a UDP socket picks
//! the route and local address but sends nothing).
//!
//! ```text
//! cargo run -p seine-transport --example probe -- [IFNAME...] [--udp-to IP:PORT]...
//! ```
//!
//! To see a veth interface (as root; sends no packets):
//!
//! ```text
//! ip netns add seine-probe
//! ip link add veth-seine0 type veth peer name veth-seine1
//! ip link set veth-seine1 netns seine-probe
//! ip addr add 10.203.0.1/24 dev veth-seine0 && ip link set veth-seine0 up
//! ip -n seine-probe addr add 10.203.0.2/24 dev veth-seine1
//! ip -n seine-probe link set veth-seine1 up
//! cargo run -p seine-transport --example probe -- veth-seine0 --udp-to 10.203.0.2:9
//! ip link del veth-seine0 && ip netns del seine-probe
//! ```

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;

use seine_transport::probe::{interface_features, probe};

/// Prints the zero-copy capability probe: without a socket, for a loopback TCP
/// connection, for each interface named, and for a UDP socket connected to each
/// --udp-to address (nothing is sent).
#[derive(clap::Parser)]
#[command(name = "probe", version)]
struct Args {
    /// Network interfaces to report (scatter-gather and checksum offload).
    #[arg(value_name = "IFNAME")]
    interfaces: Vec<String>,

    /// Probe a UDP socket connected to this address (may be repeated).
    #[arg(long, value_name = "IP:PORT")]
    udp_to: Vec<String>,
}

fn main() -> std::io::Result<()> {
    let args: Args = clap::Parser::parse();
    println!("no socket:          {}", probe(None));

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let stream = TcpStream::connect(listener.local_addr()?)?;
    println!("tcp 127.0.0.1:      {}", probe(Some(stream.as_fd())));

    for arg in &args.interfaces {
        match interface_features(arg) {
            Ok((sg, csum)) => println!(
                "interface {arg}: scatter-gather={} tx-checksum={}",
                if sg { "on" } else { "off" },
                if csum { "on" } else { "off" }
            ),
            Err(e) => println!("interface {arg}: {e}"),
        }
    }
    for to in &args.udp_to {
        let udp = UdpSocket::bind("0.0.0.0:0")?;
        udp.connect(to)?; // no packet is sent
        println!(
            "udp to {to} (from {}): {}",
            udp.local_addr()?,
            probe(Some(udp.as_fd()))
        );
    }
    Ok(())
}
