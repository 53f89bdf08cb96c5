//! LoggingHandler: one event per pipeline event, hex dumps at TRACE only.

use std::sync::{Arc, Mutex};

use seine_buffer::Bytes;
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{Handler, OutboundBuf};
use seine_handler::LoggingHandler;
use tracing::Level;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged(level: Level) -> String {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let mut ch =
            EmbeddedChannel::with_handlers([("log", Handler::duplex(LoggingHandler::new(level)))]);
        ch.write_inbound(Bytes::from_static(b"hello, pipeline!"))
            .unwrap();
        ch.write_outbound(OutboundBuf::from(&b"bye"[..]));
        ch.close();
    });
    String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn every_event_is_logged_at_the_chosen_level() {
    let text = logged(Level::DEBUG);
    for event in [
        "ACTIVE",
        "READ Bytes(16B)",
        "READ COMPLETE",
        "WRITE Bytes(3B)",
        "FLUSH",
        "CLOSE",
        "INACTIVE",
    ] {
        assert!(text.contains(event), "{event} missing in:\n{text}");
    }
    assert!(text.contains("DEBUG"));
    assert!(!text.contains("68 65 6c 6c 6f"), "no hex dump below TRACE");
}

#[test]
fn trace_adds_a_hex_dump() {
    let text = logged(Level::TRACE);
    assert!(text.contains("00000000  68 65 6c 6c 6f 2c 20 70"), "{text}");
    assert!(text.contains("|hello, pipeline!|"), "{text}");
}
