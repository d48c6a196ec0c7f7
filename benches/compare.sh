#!/usr/bin/env bash
# Side by side, in one run on one machine: headroom, wrk and oha against nginx on 127.0.0.1.
#   bash benches/compare.sh            # about 25 minutes (ROUNDS=5 interleaved rounds, DUR=10 s each)
#   LONG=1 bash benches/compare.sh     # adds resident memory after 1 and 10 minutes at 2k RPS
#   INSTALL_OHA=1 bash benches/compare.sh   # builds oha from crates.io first when missing
#   PARTS=journeys bash benches/compare.sh  # only the journey engine beside the request-mix engine
#   PARTS=http2 bash benches/compare.sh     # only HTTP/2 over TLS beside h2load and oha --http2
#   PARTS=long bash benches/compare.sh      # only the 10-minute resident memory at 2k RPS
#   PARTS=rate bash benches/compare.sh      # only rate accuracy and schedule lag at 1k, 10k, 50k, 80k RPS
# nginx, wrk, h2load, openssl and GNU time come from Debian (installed here when missing); oha is used
# where installed.
# Figures are ratios measured in this run: the machines are shared and noisy, so compare only
# within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18089}
DUR=${DUR:-10}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-5}
URL="http://127.0.0.1:$PORT/"
have() { command -v "$1" >/dev/null 2>&1; }

if ! have nginx || ! have wrk || ! have h2load || ! have openssl || [ ! -x /usr/bin/time ]; then
  echo "installing nginx, wrk, h2load, openssl and time from Debian..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk nghttp2-client openssl time >/dev/null
fi
if [ "${INSTALL_OHA:-0}" = 1 ] && ! have oha; then
  cargo install oha --locked -q
fi
cargo build --release -q
# HR=path/to/headroom compares another build of headroom against the same peers.
HR=${HR:-target/release/headroom}

work=$(mktemp -d)
cleanup() { [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/logs"
H2PORT=${H2PORT:-18443}
# A CA and the HTTP/2 server's certificate from it, made here; headroom trusts the CA with --cacert.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
  -extfile "$work/server.ext" -out "$work/cert.pem" 2>/dev/null
cat > "$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$PORT; location / { return 200 "ok\n"; } }
  server {
    listen 127.0.0.1:$H2PORT ssl http2;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    location / { return 200 "ok\n"; }
  }
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

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if [ "${PARTS:-all}" = all ] || [ "${PARTS:-all}" = http2 ]; then
# HTTP/2 over TLS: the same connections and streams for every tool, interleaved rounds (the
# order rotating), medians of the per-round figures and of the per-round ratios.
H2C=${H2C:-4}
H2S=${H2S:-25}
H2URL="https://localhost:$H2PORT/"
inflight=$((H2C * H2S))
echo "== HTTP/2 over TLS: $H2C connections x $H2S streams for ${DUR}s against nginx (1 worker), $ROUNDS interleaved rounds =="
tools="headroom h2load"
have oha && tools="$tools oha"
h2_run() {
  local tool=$1 r=$2 cpu rps n
  case $tool in
    headroom)
      cpu=$(cpu_of "$work/h2-hr-$r.txt" "$HR" run --target "$H2URL" --http2 --cacert "$work/ca.pem" \
        --users "$inflight" --max-in-flight "$inflight" --streams "$H2S" --duration "${DUR}s" --out "$work/h2-hr-$r")
      [ "$(json "$work/h2-hr-$r/results.json" "d['protocol']")" = HTTP/2 ] || { echo "headroom did not speak HTTP/2" >&2; exit 1; }
      rps=$(json "$work/h2-hr-$r/results.json" "d['steps'][0]['achieved_rps']")
      n=$(json "$work/h2-hr-$r/results.json" "d['steps'][0]['requests']") ;;
    h2load)
      cpu=$(cpu_of "$work/h2-h2load-$r.txt" h2load -c "$H2C" -m "$H2S" -D "$DUR" "$H2URL")
      rps=$(awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($i == "req/s,") print $(i - 1) }' "$work/h2-h2load-$r.txt")
      grep -q "Application protocol: h2" "$work/h2-h2load-$r.txt" || { echo "h2load did not speak HTTP/2" >&2; exit 1; }
      n=$(awk -v r="$rps" -v d="$DUR" 'BEGIN { print r * d }') ;;
    oha)
      cpu=$(cpu_of "$work/h2-oha-$r.json" oha --http2 --insecure -c "$H2C" -p "$H2S" -z "${DUR}s" --no-tui --output-format json "$H2URL")
      rps=$(json "$work/h2-oha-$r.json" "d['summary']['requestsPerSec']")
      n=$(awk -v r="$rps" -v d="$DUR" 'BEGIN { print r * d }') ;;
  esac
  echo "$rps $(awk -v c="$cpu" -v n="$n" 'BEGIN { print 1e6 * c / n }')"
}
for r in $(seq 1 "$ROUNDS"); do
  read -ra all <<< "$tools"
  k=$(((r - 1) % ${#all[@]}))
  for tool in "${all[@]:k}" "${all[@]:0:k}"; do
    read -r rps cpu < <(h2_run "$tool" "$r")
    echo "$rps" >> "$work/h2-rps-$tool"
    echo "$cpu" >> "$work/h2-cpu-$tool"
    printf "  round %s %-9s %10.0f requests/s %8.2f CPU µs/request\n" "$r" "$tool" "$rps" "$cpu"
  done
  for peer in $tools; do
    [ "$peer" = headroom ] && continue
    awk -v a="$(tail -1 "$work/h2-rps-headroom")" -v b="$(tail -1 "$work/h2-rps-$peer")" 'BEGIN { printf "%.4f\n", a / b }' >> "$work/h2-ratio-$peer"
  done
done
printf "%-10s %14s %22s %22s\n" tool "requests/s" "CPU µs per request" "headroom / it (median)"
for tool in $tools; do
  ratio="-"
  [ "$tool" != headroom ] && ratio=$(median < "$work/h2-ratio-$tool")
  printf "%-10s %14.0f %22.2f %22s\n" "$tool" "$(median < "$work/h2-rps-$tool")" "$(median < "$work/h2-cpu-$tool")" "$ratio"
done
have oha || echo "oha        not installed (INSTALL_OHA=1 builds it)"
echo
fi

if [ "${PARTS:-all}" = all ]; then
# Each tool's CPU seconds (user + system) and peak resident memory in KiB, from GNU time.
usage() {
  local out=$1; shift
  /usr/bin/time -f "%U %S %M" -o "$work/usage" "$@" > "$out" 2>&1
  awk '{ printf "%.3f %d\n", $1 + $2, $3 }' "$work/usage"
}
nginx_pids() { cat "$work/nginx.pid"; pgrep -P "$(cat "$work/nginx.pid")"; }
echo "== maximum throughput: $CONNS connections for ${DUR}s against nginx (1 worker), $ROUNDS interleaved rounds =="
h1tools="headroom wrk-t1 wrk-t2"
have oha && h1tools="$h1tools oha"
h1_run() {
  local tool=$1 tag=$2 pin=$3 cpu rss rps n out
  out=$work/h1-$tool-$tag
  case $tool in
    headroom)
      read -r cpu rss < <(usage "$out.txt" $pin "$HR" run --target "$URL" --users "$CONNS" --max-in-flight "$CONNS" \
        --duration "${DUR}s" --out "$out")
      rps=$(json "$out/results.json" "d['steps'][0]['achieved_rps']")
      n=$(json "$out/results.json" "d['steps'][0]['requests']") ;;
    wrk-t1|wrk-t2)
      read -r cpu rss < <(usage "$out.txt" $pin wrk "-${tool#wrk-}" -c"$CONNS" -d"${DUR}s" "$URL")
      rps=$(awk '/Requests\/sec/ {print $2}' "$out.txt")
      n=$(awk -v r="$rps" -v d="$DUR" 'BEGIN { print r * d }') ;;
    oha)
      read -r cpu rss < <(usage "$out.json" $pin oha -z "${DUR}s" -c "$CONNS" --no-tui --output-format json "$URL")
      rps=$(json "$out.json" "d['summary']['requestsPerSec']")
      n=$(awk -v r="$rps" -v d="$DUR" 'BEGIN { print r * d }') ;;
  esac
  echo "$rps $(awk -v c="$cpu" -v n="$n" 'BEGIN { print 1e6 * c / n }') $((rss / 1024))"
}
for mode in unpinned pinned; do
  if [ "$mode" = pinned ]; then
    # nginx on core 0, the client on core 1.
    for p in $(nginx_pids); do taskset -pc 0 "$p" >/dev/null; done
    pin="taskset -c 1"
  else
    pin=""
  fi
  rm -f "$work"/h1-rps-* "$work"/h1-cpu-* "$work"/h1-rss-* "$work"/h1-ratio-*
  for r in $(seq 1 "$ROUNDS"); do
    read -ra all <<< "$h1tools"
    k=$(((r - 1) % ${#all[@]}))
    for tool in "${all[@]:k}" "${all[@]:0:k}"; do
      read -r rps cpu rss < <(h1_run "$tool" "$mode-$r" "$pin")
      echo "$rps" >> "$work/h1-rps-$tool"; echo "$cpu" >> "$work/h1-cpu-$tool"; echo "$rss" >> "$work/h1-rss-$tool"
      printf "  %s round %s %-9s %10.0f requests/s %8.2f CPU µs/request %6s MiB\n" "$mode" "$r" "$tool" "$rps" "$cpu" "$rss"
    done
    for peer in $h1tools; do
      [ "$peer" = headroom ] && continue
      awk -v a="$(tail -1 "$work/h1-rps-headroom")" -v b="$(tail -1 "$work/h1-rps-$peer")" 'BEGIN { printf "%.4f\n", a / b }' >> "$work/h1-ratio-$peer"
      awk -v a="$(tail -1 "$work/h1-cpu-headroom")" -v b="$(tail -1 "$work/h1-cpu-$peer")" 'BEGIN { printf "%.4f\n", a / b }' >> "$work/h1-cpuratio-$peer"
    done
  done
  echo "-- $mode: medians --"
  printf "%-10s %12s %20s %14s %22s %24s\n" tool "requests/s" "CPU µs per request" "peak RSS MiB" "headroom / it (req/s)" "headroom / it (CPU/req)"
  for tool in $h1tools; do
    ratio="-"; cratio="-"
    if [ "$tool" != headroom ]; then ratio=$(median < "$work/h1-ratio-$tool"); cratio=$(median < "$work/h1-cpuratio-$tool"); fi
    printf "%-10s %12.0f %20.2f %14s %22s %24s\n" "$tool" "$(median < "$work/h1-rps-$tool")" "$(median < "$work/h1-cpu-$tool")" \
      "$(median < "$work/h1-rss-$tool")" "$ratio" "$cratio"
  done
  rm -f "$work"/h1-cpuratio-*
done
for p in $(nginx_pids); do taskset -pc "0-$(($(nproc) - 1))" "$p" >/dev/null; done
have oha || echo "oha        not installed (INSTALL_OHA=1 builds it)"

echo
fi

if [ "${PARTS:-all}" = all ] || [ "${PARTS:-all}" = rate ]; then
# The open model at fixed rates, the rates interleaved in each round: how close the achieved rate
# and the send times come to the schedule, and what the pacing costs in CPU.
echo "== rate accuracy: open model on $CONNS connections, ${DUR}s per rate, $ROUNDS interleaved rounds =="
# RATES probes others: on one 2-core box 120k still kept the schedule and 160k did not, so
# RATES="120000 160000" shows where such a box tops out.
rates=${RATES:-1000 10000 50000 80000}
for r in $(seq 1 "$ROUNDS"); do
  for rate in $rates; do
    out=$work/hr-$rate-$r
    "$HR" run --target "$URL" --rate "$rate" --max-in-flight "$CONNS" --duration "${DUR}s" --out "$out" > /dev/null 2>&1 || true
    read -r got lag50 lag99 late cpu < <(json "$out/results.json" \
      "' '.join(str(x) for s in d['steps'][:1] for x in [s['achieved_rps'], s['schedule_lag_us']['p50'], s['schedule_lag_us']['p99'], s['late_starts'], s['generator_cpu']])")
    awk -v a="$got" -v t="$rate" 'BEGIN { printf "%.5f\n", a / t }' >> "$work/rate-ratio-$rate"
    echo "$lag50" >> "$work/rate-lag50-$rate"; echo "$lag99" >> "$work/rate-lag99-$rate"
    # generator_cpu is a share of all the machine's cores; printed as cores.
    cpu=$(awk -v c="$cpu" -v n="$(nproc)" 'BEGIN { printf "%.3f", c * n }')
    echo "$late" >> "$work/rate-late-$rate"; echo "$cpu" >> "$work/rate-cpu-$rate"
    printf "  round %s %6s RPS: achieved %10.1f, lag p50 %5s µs, p99 %6s µs, %s late starts, %.3f cores\n" \
      "$r" "$rate" "$got" "$lag50" "$lag99" "$late" "$cpu"
  done
done
printf "%-8s %16s %16s %16s %16s %12s %16s\n" target "achieved/target" "lag p50 µs" "lag p99 µs" "worst lag p99" "late starts" "generator cores"
for rate in $rates; do
  printf "%-8s %16s %16s %16s %16s %12s %16s\n" "$rate" "$(median < "$work/rate-ratio-$rate")" "$(median < "$work/rate-lag50-$rate")" \
    "$(median < "$work/rate-lag99-$rate")" "$(sort -g "$work/rate-lag99-$rate" | tail -1)" "$(median < "$work/rate-late-$rate")" \
    "$(median < "$work/rate-cpu-$rate")"
done

fi

if [ "${PARTS:-all}" = all ] || [ "${PARTS:-all}" = journeys ]; then
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

fi

if [ "${LONG:-0}" = 1 ] || [ "${PARTS:-all}" = long ]; then
  echo
  echo "== resident memory at 2k RPS =="
  "$HR" run --target "$URL" --rate 2000 --duration 610s --out "$work/hr-long" > /dev/null 2>&1 &
  pid=$!
  sleep 60; rss1=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  sleep 540; rss10=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  wait "$pid" || true
  echo "after 1 min: $((rss1 / 1024)) MiB; after 10 min: $((rss10 / 1024)) MiB; growth $(((rss10 - rss1) / 1024)) MiB"
fi
