//! The zero-copy capability probe runs once when a server binds and is exposed on
//! the `Server` handle.

use seine_transport::ServerBootstrap;

#[test]
fn a_server_reports_what_zero_copy_its_interface_offers() {
    let server = ServerBootstrap::new()
        .child_handler(|_p| Ok(()))
        .bind("127.0.0.1:0")
        .unwrap();
    let caps = server.zero_copy();
    assert!(
        caps.sendfile,
        "sendfile works on every Linux kernel: {caps}"
    );
    assert_eq!(caps.interface.as_deref(), Some("lo"), "{caps}");
    // The one-line form is what the server logged.
    assert!(caps.to_string().contains("sendfile=yes"), "{caps}");
    server.shutdown_gracefully_blocking(std::time::Duration::from_secs(5));
}
