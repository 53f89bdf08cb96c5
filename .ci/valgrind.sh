#!/usr/bin/env bash
# Runs test binaries that exercise `unsafe` code under valgrind memcheck (no Miri on
# stable): any invalid read/write or use of uninitialised memory fails.
# Arguments: CRATE (all its test binaries) or CRATE:TARGET, where TARGET is `lib`
# (its unit tests) or the name of one of its integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(seine-channel seine-buffer)
for spec in "${specs[@]}"; do
  crate=${spec%%:*}
  sel=()
  if [ "$spec" != "$crate" ]; then
    target=${spec#*:}
    if [ "$target" = lib ]; then sel=(--lib); else sel=(--test "$target"); fi
  fi
  mapfile -t bins < <(cargo test -p "$crate" "${sel[@]}" --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m.get("profile", {}).get("test"):
        print(m["executable"])')
  [ ${#bins[@]} -gt 0 ] || { echo "valgrind: no test binary for $spec" >&2; exit 1; }
  for bin in "${bins[@]}"; do
    echo "valgrind: $bin"
    valgrind --quiet --error-exitcode=99 --leak-check=no --track-origins=no \
      "$bin" --test-threads=1 -q
  done
done
