//! TLS over loopback TCP: ServerBootstrap and Bootstrap, a FileRegion through
//! TLS, and real clients (`#[ignore]`: openssl s_client and Python's ssl, which
//! `.ci/run` installs).

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seine_buffer::{Bytes, FileRegion};
use seine_channel::prelude::*;
use seine_tls::{HandshakeComplete, TlsHandler, TlsServerConfig};
use seine_transport::{Bootstrap, EventLoopGroup, Server, ServerBootstrap};
use support::Certs;

/// Answers every read with the same bytes, or with `file` when one is given.
struct Reply(Option<Arc<std::fs::File>>);
impl ChannelHandler for Reply {}
impl InboundHandler for Reply {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        match &self.0 {
            None => ctx.write_void(OutboundBuf::from(msg)),
            Some(f) => {
                let len = f.metadata().unwrap().len();
                let region = FileRegion::new(f.clone(), 0, len).unwrap();
                ctx.write_void(OutboundBuf::from(region));
                ctx.close(); // after the file: close_notify, then FIN
            }
        }
    }
}

fn server(
    group: &EventLoopGroup,
    config: TlsServerConfig,
    file: Option<Arc<std::fs::File>>,
) -> Server {
    ServerBootstrap::new()
        .group(group)
        .child_handler(move |p| {
            p.add_last("tls", TlsHandler::server(&config).into())?;
            p.add_last("reply", Handler::inbound(Reply(file.clone())))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap()
}

/// What a client saw: plaintext, the handshake event, end of input.
type Seen = Arc<Mutex<(Vec<u8>, Option<HandshakeComplete>, bool)>>;

struct Collect(Seen);
impl ChannelHandler for Collect {}
impl InboundHandler for Collect {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        self.0.lock().unwrap().0.extend_from_slice(&msg);
    }
    fn user_event(&mut self, _ctx: &mut InboundContext<'_, Bytes>, event: UserEvent) {
        if let Some(hs) = event.downcast_ref::<HandshakeComplete>() {
            self.0.lock().unwrap().1 = Some(hs.clone());
        }
    }
    fn input_closed(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        self.0.lock().unwrap().2 = true;
        ctx.fire_input_closed();
    }
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test]
async fn echo_over_tcp_with_bootstrap() {
    let certs = Certs::new();
    let group = EventLoopGroup::new(1).unwrap();
    let srv = server(&group, certs.server(), None);
    let state = Arc::new(Mutex::new((Vec::new(), None, false)));
    let (client_cfg, st) = (certs.client(), state.clone());
    let ch = Bootstrap::new(&group)
        .handler(move |p| {
            p.add_last(
                "tls",
                TlsHandler::client(&client_cfg, "localhost").unwrap().into(),
            )?;
            p.add_last("collect", Handler::inbound(Collect(st.clone())))?;
            Ok(())
        })
        .connect(srv.local_addr().unwrap())
        .await
        .unwrap();
    let want: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    ch.write_and_flush(OutboundBuf::from(want.clone()));
    eventually("all echoed", || state.lock().unwrap().0.len() == want.len()).await;
    let s = state.lock().unwrap();
    assert!(s.0 == want);
    let hs = s.1.clone().expect("handshake event");
    assert_eq!(hs.alpn_protocol.as_deref(), Some(&b"http/1.1"[..]));
}

#[tokio::test]
async fn a_file_region_crosses_tls_and_ends_with_close_notify() {
    let certs = Certs::new();
    let mut file = tempfile::tempfile().unwrap();
    let content: Vec<u8> = (0..8u32 * 1024 * 1024).map(|i| (i % 241) as u8).collect();
    file.write_all(&content).unwrap();
    let group = EventLoopGroup::new(1).unwrap();
    let srv = server(&group, certs.server(), Some(Arc::new(file)));
    let state = Arc::new(Mutex::new((Vec::new(), None, false)));
    let (client_cfg, st) = (certs.client(), state.clone());
    let ch = Bootstrap::new(&group)
        .handler(move |p| {
            p.add_last(
                "tls",
                TlsHandler::client(&client_cfg, "localhost").unwrap().into(),
            )?;
            p.add_last("collect", Handler::inbound(Collect(st.clone())))?;
            Ok(())
        })
        .connect(srv.local_addr().unwrap())
        .await
        .unwrap();
    ch.write_and_flush(OutboundBuf::from("GET\n"));
    eventually("the file and close_notify", || state.lock().unwrap().2).await;
    let s = state.lock().unwrap();
    assert_eq!(s.0.len(), content.len());
    assert!(s.0 == content);
}

fn tool(name: &str) -> bool {
    std::process::Command::new(name)
        .arg("--version")
        .output()
        .is_ok()
        || std::process::Command::new(name)
            .arg("version")
            .output()
            .is_ok()
}

#[test]
#[ignore = "needs openssl (apt: openssl)"]
fn openssl_s_client_alpn_and_close_notify() {
    assert!(tool("openssl"), "openssl is not installed");
    let certs = Certs::new();
    let group = EventLoopGroup::new(1).unwrap();
    let srv = server(&group, certs.server(), None);
    let port = srv.local_addr().unwrap().port();
    let mut child = std::process::Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
        ])
        .args([
            "-alpn",
            "http/1.1",
            "-CAfile",
            certs.ca.to_str().unwrap(),
            "-verify_return_error",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // s_client sends close_notify when its input ends (without -ign_eof it
    // quits at EOF after the echo had time to arrive).
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello over tls\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ALPN protocol: http/1.1"), "{stdout}");
    assert!(stdout.contains("Verify return code: 0 (ok)"), "{stdout}");
}

#[test]
#[ignore = "needs python3 (apt: python3)"]
fn python_ssl_client_echo_and_unwrap() {
    assert!(tool("python3"), "python3 is not installed");
    let certs = Certs::new();
    let group = EventLoopGroup::new(1).unwrap();
    let srv = server(&group, certs.server(), None);
    let port = srv.local_addr().unwrap().port();
    let script = format!(
        r#"
import socket, ssl
ctx = ssl.create_default_context(cafile={ca:?})
ctx.set_alpn_protocols(["http/1.1"])
with socket.create_connection(("127.0.0.1", {port}), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        assert s.selected_alpn_protocol() == "http/1.1", s.selected_alpn_protocol()
        s.sendall(b"x" * 100000)
        got = b""
        while len(got) < 100000:
            got += s.recv(65536)
        assert got == b"x" * 100000
        s.unwrap()  # sends close_notify and waits for the server's
print("ok")
"#,
        ca = certs.ca.to_str().unwrap()
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
