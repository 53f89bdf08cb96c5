//! `loadgen --help` exits 0 with a `Usage:` line and lists every flag it has
//! always taken, with the same names and units.

use std::process::Command;

#[test]
fn help_lists_every_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Usage: loadgen"), "{help}");
    for flag in [
        "--addr <HOST:PORT>",
        "--conns <N>",
        "--size <BYTES>",
        "--inflight <N>",
        "--warmup <SECS>",
        "--duration <SECS>",
        "--threads <N>",
        "--frames <N>",
        "--timeout <SECS>",
        "--writev-min <BYTES>",
        "--server-pid <P[,P]>",
        "--json",
    ] {
        assert!(help.contains(flag), "loadgen --help lacks {flag}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--conns", "8"][..],                        // --addr missing
        &["--addr", "127.0.0.1:1", "--size", "x"],    // not a size
        &["--addr", "127.0.0.1:1", "--warmup", "-1"], // negative seconds
        &["--addr", "127.0.0.1:1", "--bogus", "1"],   // unknown flag
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
