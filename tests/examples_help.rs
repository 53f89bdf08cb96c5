//! Every example answers `--help` (exit 0, a `Usage:` line, a description for
//! every flag) and `--version` (exit 0). The examples are found by listing
//! `examples/*.rs`, so an example added later is checked without editing this.

mod examples_support;

use std::path::Path;
use std::process::Command;

use examples_support::example_bin;

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_example_answers_help_and_version() {
    let names = examples();
    assert!(names.len() >= 4, "examples found: {names:?}");
    for name in &names {
        let bin = example_bin(name);
        let out = Command::new(&bin).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name} --help: {:?}, stderr {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            help.lines().any(|l| l.starts_with("Usage: ")),
            "{name} --help has no Usage: line:\n{help}"
        );
        // Every flag has a description after its name.
        for line in help.lines().filter(|l| l.trim_start().starts_with("--")) {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert!(
                words.len() >= 3,
                "{name}: flag without a description: {line:?}"
            );
        }

        let out = Command::new(&bin).arg("--version").output().unwrap();
        assert!(out.status.success(), "{name} --version: {:?}", out.status);
        let version = String::from_utf8_lossy(&out.stdout);
        assert!(
            version.starts_with(&format!("{name} ")),
            "{name} --version printed {version:?}"
        );
    }
}

#[test]
fn a_bad_flag_is_refused_with_usage() {
    let out = Command::new(example_bin("echo"))
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Usage: echo"), "{err}");
}

#[test]
fn the_flags_keep_their_names_and_units() {
    let help = |name: &str| {
        let out = Command::new(example_bin(name))
            .arg("--help")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    for name in ["echo", "http_file_server", "proxy", "resp_server"] {
        let h = help(name);
        assert!(h.contains("--addr <HOST:PORT>"), "{name}");
        assert!(h.contains("--threads <N>"), "{name}");
    }
    let h = help("http_file_server");
    for flag in [
        "--root <DIR>",
        "--header-timeout <SECS>",
        "--idle-timeout <SECS>",
        "--allow-put",
        "--max-body <BYTES>",
        "--fs-off-loop",
    ] {
        assert!(h.contains(flag), "http_file_server lacks {flag}");
    }
    let h = help("proxy");
    for flag in ["--upstream <HOST:PORT>", "--idle-timeout <SECS>"] {
        assert!(h.contains(flag), "proxy lacks {flag}");
    }
    let h = help("http_get");
    for flag in [
        "<URL>",
        "--output <FILE>",
        "--no-resume",
        "--max-redirects <N>",
        "--idle-timeout <SECS>",
        "--ca-file <FILE>",
    ] {
        assert!(h.contains(flag), "http_get lacks {flag}");
    }
}

#[test]
fn a_flag_given_twice_takes_the_last_value() {
    // As the hand-written parsers did: a script may append an override. The
    // first --addr cannot be bound; the server listens on the second.
    let srv = examples_support::ExampleServer::start(
        "echo",
        &[
            "--addr",
            "256.0.0.1:1",
            "--addr",
            "127.0.0.1:0",
            "--threads",
            "1",
        ],
    );
    assert!(srv.addr.ip().is_loopback());
}
