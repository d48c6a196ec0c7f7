#!/usr/bin/env bash
# How far apart shards start: four shard processes of one plan on this machine, started at one
# instant with --start-at, merged; per round the merged result's start spread (latest minus
# earliest start) and worst skew (a shard's start against the instant), then their medians.
#   bash benches/shard-skew.sh              # ROUNDS=5 rounds of 4 shards at 800 RPS for 3 s
#   SHARDS=8 RATE=2000 bash benches/shard-skew.sh
# The skew is each shard's start against its own machine's clock: on many machines, add how far
# their clocks disagree (chrony or NTP report it).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18188}
ROUNDS=${ROUNDS:-5}
SHARDS=${SHARDS:-4}
RATE=${RATE:-800}
DUR=${DUR:-3s}
cargo build --release -q
HR=target/release/headroom
work=$(mktemp -d)
sim=
cleanup() { [ -n "$sim" ] && kill "$sim" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$HR" serve-sim --addr "127.0.0.1:$PORT" --workers 64 --service-time 2ms --duration 600s >"$work/sim.log" &
sim=$!
for _ in $(seq 50); do grep -q http "$work/sim.log" 2>/dev/null && break; sleep 0.1; done

spreads=() skews=()
for round in $(seq "$ROUNDS"); do
  dir="$work/round$round"
  start=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)
  pids=()
  for i in $(seq 0 $((SHARDS - 1))); do
    mkdir -p "$dir/shard$i"
    "$HR" run --target "http://127.0.0.1:$PORT/" --rate "$RATE" --duration "$DUR" \
      --shard "$i/$SHARDS" --start-at "$start" --out "$dir/shard$i" >/dev/null 2>"$dir/err$i.log" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  "$HR" merge "$dir"/shard*/ --out "$dir/merged" >/dev/null 2>"$dir/merge.err" || true
  read -r spread skew requests < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["merged"]["start_spread_ms"], r["merged"]["max_skew_ms"], sum(s["requests"] for s in r["steps"]))
' "$dir/merged/results.json")
  printf 'round %d: start spread %.2f ms, worst skew %.2f ms, %d requests\n' "$round" "$spread" "$skew" "$requests"
  spreads+=("$spread") skews+=("$skew")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf 'median of %d rounds, %d shards: start spread %.2f ms, worst skew %.2f ms\n' \
  "$ROUNDS" "$SHARDS" "$(median "${spreads[@]}")" "$(median "${skews[@]}")"
