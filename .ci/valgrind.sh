#!/usr/bin/env bash
# Runs the test binaries of the crates that contain `unsafe` under valgrind memcheck
# (no Miri on stable): any invalid read/write or use of uninitialised memory fails.
set -euo pipefail
cd "$(dirname "$0")/.."
crates=("$@")
[ ${#crates[@]} -gt 0 ] || crates=(seine-channel seine-transport)
for crate in "${crates[@]}"; do
  mapfile -t bins < <(cargo test -p "$crate" --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m.get("profile", {}).get("test"):
        print(m["executable"])')
  for bin in "${bins[@]}"; do
    echo "valgrind: $bin"
    valgrind --quiet --error-exitcode=99 --leak-check=no --track-origins=no \
      "$bin" --test-threads=1 -q
  done
done
