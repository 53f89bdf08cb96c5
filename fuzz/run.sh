#!/usr/bin/env bash
# Runs every cargo-fuzz target (seine-codec's decoders, the dns_server example's
# input path) for a bounded time each.
#
#   fuzz/run.sh            # 30 s per target
#   fuzz/run.sh 300        # 5 min per target
#   fuzz/run.sh 30 line    # only the `line` target
#
# Needs `cargo install cargo-fuzz --locked`. Runs on stable Rust without a
# sanitizer (`-s none`): the targets' code contains no unsafe code, so libFuzzer's
# coverage guidance and the targets' assertions are what matters. Not part of
# `cargo test`.
set -euo pipefail
seconds="${1:-30}"
shift || true
cd "$(dirname "$0")"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
for t in "${targets[@]}"; do
    echo "== fuzzing $t for ${seconds}s"
    mkdir -p "corpus/$t"
    cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$seconds" -max_len=4096
done
