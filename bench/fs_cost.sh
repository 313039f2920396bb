#!/usr/bin/env bash
# The fault file system's cost, measured: etcd's write throughput with its data on a plain
# directory, on ferret's fault file system, and on any other FUSE file system you give, at the
# same client load (bench/etcd-fs-cost.yaml), with the file system process's CPU seconds.
#
#   bench/fs_cost.sh plain
#   bench/fs_cost.sh faultfs               # ferret faultfs mount, fsyncs passed through
#   bench/fs_cost.sh faultfs-instant       # ferret faultfs mount, fsyncs answered at once
#   bench/fs_cost.sh other 'CMD'           # CMD mounts on $MNT over $BACKING and stays in
#                                          # the foreground (e.g. LazyFS: see BENCHMARKS.md)
# Run from the repository root, as root, after cargo build --release.
set -euo pipefail
kind=$1
work=$(mktemp -d /var/tmp/fs-cost.XXXXXX)
MNT=$work/mnt BACKING=$work/backing
mkdir -p "$MNT" "$BACKING"
export MNT BACKING
fs_pid=""
cleanup() {
  if [ -n "$fs_pid" ]; then kill "$fs_pid" 2>/dev/null || true; wait "$fs_pid" 2>/dev/null || true; fi
  umount -l "$MNT" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
case $kind in
  plain) ;;
  faultfs|faultfs-instant)
    extra=""; [ "$kind" = faultfs ] && extra=--sync-through
    ./target/release/ferret faultfs mount "$BACKING" "$MNT" --control "$work/fs.sock" --metadata journaled $extra &
    fs_pid=$! ;;
  other)
    sh -c "exec $2" &
    fs_pid=$! ;;
  *) echo "unknown kind $kind" >&2; exit 2 ;;
esac
if [ -n "$fs_pid" ]; then
  for _ in $(seq 100); do grep -q " $MNT " /proc/mounts && break; sleep 0.1; done
  grep -q " $MNT " /proc/mounts || { echo "nothing mounted on $MNT" >&2; exit 1; }
fi
cpu() { [ -n "$fs_pid" ] && awk '{print $14 + $15}' "/proc/$fs_pid/stat" || echo 0; }
sed "s|FS_ROOT|$MNT|g" bench/etcd-fs-cost.yaml > "$work/config.yaml"
before=$(cpu); t0=$(date +%s.%N)
out=$(./target/release/ferret run "$work/config.yaml" --store "$work/store" 2>&1)
after=$(cpu); t1=$(date +%s.%N)
line=$(grep "workload done" <<<"$out")
ops=$(sed -E 's/.*\(([0-9]+) ops\/s\).*/\1/' <<<"$line")
ticks=$(getconf CLK_TCK)
fs_cpu=$(awk -v a="$before" -v b="$after" -v t="$ticks" 'BEGIN { printf "%.1f", (b - a) / t }')
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
echo "$kind: $ops ops/s; file system CPU $fs_cpu s over the ${wall} s run ($(grep -E '^(VALID|INVALID)' <<<"$out" | cut -c1-40))"
