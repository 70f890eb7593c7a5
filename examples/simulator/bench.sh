#!/bin/sh
# bench.sh: N simulated devices against examples/simulator/server (a
# channel.Server with LogHandler on store/pebble) in a separate process.
#
#   examples/simulator/bench.sh DEVICES SECONDS [simulator flags…]
#   examples/simulator/bench.sh 19000 60
#   examples/simulator/bench.sh 19000 60 -records 10 -rate 0.1
#   STORE=discard examples/simulator/bench.sh 19000 60   # the channel alone
#
# Prints the server's report lines (connections, stored/s, RSS per
# connection, CPU per message) and the simulator's JSON summary. Run from
# the repository root. PORT (15027), PROTO (teltonika) and STORE (pebble)
# may be set in the environment.
set -eu
devices=${1:?devices}
seconds=${2:?seconds}
shift 2
port=${PORT:-15027}
proto=${PROTO:-teltonika}
store=${STORE:-pebble}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/server" ./examples/simulator/server
go build -o "$tmp/simulator" ./examples/simulator
"$tmp/server" -p "$proto" -addr "127.0.0.1:$port" -store "$store" -data "$tmp/data" -stats 10s >"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
sleep 1
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); cpu pressure: $(head -1 /proc/pressure/cpu 2>/dev/null)"
status=0
/usr/bin/time -f "simulator: cpu user %U s, system %S s, max rss %M KB" -o "$tmp/sim.time" \
	"$tmp/simulator" -p "$proto" -addr "127.0.0.1:$port" -devices "$devices" -duration "${seconds}s" -progress 10s -json "$@" \
	>"$tmp/sim.json" 2>"$tmp/sim.err" || status=$?
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); cpu pressure: $(head -1 /proc/pressure/cpu 2>/dev/null)"
kill -INT "$server"
wait "$server" || true
echo "--- server"
grep -v 'level=' "$tmp/server.err" || true
echo "--- server log lines: $(grep -c 'level=' "$tmp/server.err" || true)"
echo "--- simulator (exit $status)"
cat "$tmp/sim.err"
cat "$tmp/sim.time"
cat "$tmp/sim.json"
