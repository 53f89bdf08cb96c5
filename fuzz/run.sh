#!/usr/bin/env bash
# Fuzzes every target under fuzz/fuzz_targets/ (seine-codec's decoders, the
# dns_server example's input path) for a bounded time each.
#
#   fuzz/run.sh                  # 30 s per target
#   fuzz/run.sh 300              # 5 min per target
#   fuzz/run.sh 30 line          # only the `line` target
#   fuzz/run.sh --stable 30      # force the stable driver (what CI runs)
#
# With cargo-fuzz installed (`cargo install cargo-fuzz --locked`), each target
# runs under libFuzzer (`cargo fuzz run -s none`: coverage-guided, no sanitizer;
# the decoders contain no unsafe code). Without it, or with --stable, the stable
# driver (src/bin/stable_fuzz.rs) replays the corpus and mutates inputs: stable
# Rust only, no C++ toolchain. Either way a crash stops the script with the
# input saved under fuzz/artifacts/TARGET/; turn it into a regression test next
# to the decoder's tests. Not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")"
driver=libfuzzer
if [ "${1:-}" = "--stable" ]; then
    driver=stable
    shift
fi
seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz_targets/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi
if [ "$driver" = libfuzzer ] && ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz not installed: using the stable driver"
    driver=stable
fi
if [ "$driver" = stable ]; then
    cargo build --release --no-default-features --bin stable_fuzz
fi
for t in "${targets[@]}"; do
    echo "== fuzzing $t for ${seconds}s ($driver)"
    mkdir -p "corpus/$t" "artifacts/$t"
    if [ "$driver" = stable ]; then
        ./target/release/stable_fuzz "$seconds" "$t" "corpus/$t" "artifacts/$t"
    else
        cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$seconds" -max_len=4096
    fi
done
