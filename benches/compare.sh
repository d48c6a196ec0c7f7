#!/usr/bin/env bash
# Side by side, in one run on one machine: headroom, wrk and oha against nginx on 127.0.0.1.
#   bash benches/compare.sh            # about 3 minutes
#   LONG=1 bash benches/compare.sh     # adds resident memory after 1 and 10 minutes at 1k RPS
#   INSTALL_OHA=1 bash benches/compare.sh   # builds oha from crates.io first when missing
#   PARTS=journeys bash benches/compare.sh  # only the journey engine beside the request-mix engine
# nginx and wrk come from Debian (installed here when missing); oha is used where installed.
# Figures are ratios measured in this run: the machines are shared and noisy, so compare only
# within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18089}
DUR=${DUR:-10}
CONNS=${CONNS:-50}
URL="http://127.0.0.1:$PORT/"
have() { command -v "$1" >/dev/null 2>&1; }

if ! have nginx || ! have wrk; then
  echo "installing nginx and wrk from Debian..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
if [ "${INSTALL_OHA:-0}" = 1 ] && ! have oha; then
  cargo install oha --locked -q
fi
cargo build --release -q
HR=target/release/headroom

work=$(mktemp -d)
cleanup() { [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 127.0.0.1:$PORT; location / { return 200 "ok\n"; } }
}
EOF
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5

# CPU seconds (user + system) of a command, its output kept in a file.
cpu_of() {
  local out=$1; shift
  # This (sub)shell waits for the command, so its children's CPU lands in its own counters.
  local me=$BASHPID t0 t1
  t0=$(awk '{print $14+$15+$16+$17}' "/proc/$me/stat")
  "$@" > "$out" 2>&1
  t1=$(awk '{print $14+$15+$16+$17}' "/proc/$me/stat")
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 100 }'
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

if [ "${PARTS:-all}" = all ]; then
echo "== maximum throughput: $CONNS connections for ${DUR}s against nginx (1 worker) =="
printf "%-10s %12s %16s\n" tool "requests/s" "CPU ms/1k req"
hr_cpu=$(cpu_of "$work/hr-max.txt" "$HR" run --target "$URL" --users "$CONNS" --max-in-flight "$CONNS" --duration "${DUR}s" --out "$work/hr-max")
hr_rps=$(json "$work/hr-max/results.json" "d['steps'][0]['achieved_rps']")
hr_n=$(json "$work/hr-max/results.json" "d['steps'][0]['requests']")
printf "%-10s %12.0f %16.3f\n" headroom "$hr_rps" "$(awk -v c="$hr_cpu" -v n="$hr_n" 'BEGIN{print 1e6*c/n}')"
wrk_cpu=$(cpu_of "$work/wrk.txt" wrk -t2 -c"$CONNS" -d"${DUR}s" "$URL")
wrk_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
printf "%-10s %12.0f %16.3f\n" wrk "$wrk_rps" "$(awk -v c="$wrk_cpu" -v r="$wrk_rps" -v d="$DUR" 'BEGIN{print 1e6*c/(r*d)}')"
oha_rps=""
if have oha; then
  oha_cpu=$(cpu_of "$work/oha.json" oha -z "${DUR}s" -c "$CONNS" --no-tui --output-format json "$URL")
  oha_rps=$(json "$work/oha.json" "d['summary']['requestsPerSec']")
  printf "%-10s %12.0f %16.3f\n" oha "$oha_rps" "$(awk -v c="$oha_cpu" -v r="$oha_rps" -v d="$DUR" 'BEGIN{print 1e6*c/(r*d)}')"
else
  echo "oha        not installed (INSTALL_OHA=1 builds it)"
fi
echo "headroom / wrk: $(awk -v a="$hr_rps" -v b="$wrk_rps" 'BEGIN{printf "%.2f", a/b}')"
[ -n "$oha_rps" ] && echo "headroom / oha: $(awk -v a="$hr_rps" -v b="$oha_rps" 'BEGIN{printf "%.2f", a/b}')"

echo
echo "== rate accuracy: open model, ${DUR}s per rate =="
printf "%-8s %12s %14s %16s %14s\n" target achieved "achieved/target" "schedule lag p99" "late starts"
for rate in 1000 10000 50000; do
  "$HR" run --target "$URL" --rate "$rate" --max-in-flight "$CONNS" --duration "${DUR}s" --out "$work/hr-$rate" > /dev/null 2>&1 || true
  r=$work/hr-$rate/results.json
  printf "%-8s %12.0f %14.4f %14s µs %14s\n" "$rate" "$(json "$r" "d['steps'][0]['achieved_rps']")" \
    "$(json "$r" "d['steps'][0]['achieved_rps'] / $rate")" "$(json "$r" "d['steps'][0]['schedule_lag_us']['p99']")" \
    "$(json "$r" "d['steps'][0]['late_starts']")"
done

fi

# The journey engine (goose) beside the request-mix engine (hyper), on the same three paths:
# a journey of three steps, the first extracting a value the second sends as a header, against
# the same three requests as a weighted mix. Both closed, CONNS users back to back.
steps_toml() {
  cat <<EOF
[[journeys]]
name = "j"
[[journeys.steps]]
name = "a"
path = "/a"
extract = { v = { regex = "(ok)" } }
[[journeys.steps]]
name = "b"
path = "/b"
headers = { X-Seen = "\${v}" }
[[journeys.steps]]
name = "c"
path = "/c"
EOF
}
mix_toml() { printf '[[requests]]\nname = "%s"\npath = "/%s"\n' a a b b c c; }
profile_toml() {
  printf '[safety]\nmax_in_flight = %s\n[profile]\n' "$CONNS"
  if [ "$1" = closed ]; then printf 'kind = "closed"\nusers = [%s]\nduration = "%ss"\n' "$CONNS" "$DUR"
  else printf 'kind = "load"\nrate = "%s"\nduration = "%ss"\n' "$1" "$DUR"; fi
}
echo
echo "== journeys: a 3-step journey on goose against the same 3 requests as a mix, $CONNS users, ${DUR}s =="
{ steps_toml; profile_toml closed; } > "$work/journey.toml"
{ mix_toml; profile_toml closed; } > "$work/mix.toml"
printf "%-12s %12s %12s %16s %10s\n" engine "requests/s" "journeys/s" "CPU ms/1k req" "p99"
for engine in journey mix; do
  cpu=$(cpu_of "$work/$engine.txt" "$HR" run "$work/$engine.toml" --target "$URL" --out "$work/hr-$engine")
  r=$work/hr-$engine/results.json
  rps=$(json "$r" "d['steps'][0]['achieved_rps']")
  n=$(json "$r" "d['steps'][0]['requests']")
  jps=$(json "$r" "round(d['steps'][0]['journeys']['journeys'][0]['completed_per_s']) if 'journeys' in d['steps'][0] else '-'")
  printf "%-12s %12.0f %12s %16.3f %7s µs\n" "$engine" "$rps" "$jps" "$(awk -v c="$cpu" -v n="$n" 'BEGIN{print 1e6*c/n}')" \
    "$(json "$r" "d['steps'][0]['latency_us']['p99']")"
  eval "${engine}_rps=$rps; ${engine}_cpu=$cpu; ${engine}_n=$n"
done
echo "journey / mix requests/s: $(awk -v a="$journey_rps" -v b="$mix_rps" 'BEGIN{printf "%.2f", a/b}')"
echo "journey / mix CPU per request: $(awk -v a="$journey_cpu" -v an="$journey_n" -v b="$mix_cpu" -v bn="$mix_n" 'BEGIN{printf "%.2f", (a/an)/(b/bn)}')"
echo
echo "== journey rate accuracy: open model, ${DUR}s per rate (3 requests per journey) =="
printf "%-8s %14s %16s %16s %14s\n" "j/s" "started/s" "started/target" "schedule lag p99" "late starts"
for rate in 100 1000; do
  { steps_toml; profile_toml "$rate"; } > "$work/journey-$rate.toml"
  "$HR" run "$work/journey-$rate.toml" --target "$URL" --out "$work/hr-j$rate" > /dev/null 2>&1 || true
  r=$work/hr-j$rate/results.json
  printf "%-8s %14.1f %16.4f %13s µs %14s\n" "$rate" "$(json "$r" "d['steps'][0]['journeys']['started_per_s']")" \
    "$(json "$r" "d['steps'][0]['journeys']['started_per_s'] / $rate")" \
    "$(json "$r" "d['steps'][0]['schedule_lag_us']['p99']")" "$(json "$r" "d['steps'][0]['late_starts']")"
done

if [ "${LONG:-0}" = 1 ]; then
  echo
  echo "== resident memory at 1k RPS =="
  "$HR" run --target "$URL" --rate 1000 --duration 610s --out "$work/hr-long" > /dev/null 2>&1 &
  pid=$!
  sleep 60; rss1=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  sleep 540; rss10=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  wait "$pid" || true
  echo "after 1 min: $((rss1 / 1024)) MiB; after 10 min: $((rss10 / 1024)) MiB; growth $(((rss10 - rss1) / 1024)) MiB"
fi
