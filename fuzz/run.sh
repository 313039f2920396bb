#!/usr/bin/env bash
# Fuzz every reader, the whole check, and damaged histories (corrupt_history) for SECONDS each
# (default 150), two at a time. Needs `cargo install cargo-fuzz`;
# RUSTC_BOOTSTRAP lets the stable toolchain build with the sanitizer flags cargo fuzz uses.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-150}
export RUSTC_BOOTSTRAP=1
for t in read_edn read_jsonl read_porcupine_etcd check_edn corrupt_history; do
  mkdir -p corpus/$t
  cp -n seeds/*/* corpus/$t/ 2>/dev/null || true
done
run() { cargo fuzz run -O "$1" corpus/"$1" -- -max_total_time="$secs" -max_len=4096 -timeout=10 > "fuzz-$1.log" 2>&1; }
run read_edn & run read_jsonl & wait
run read_porcupine_etcd & run check_edn & wait
run corrupt_history & wait
grep -h "Done\|ERROR\|panicked" fuzz-*.log || true
