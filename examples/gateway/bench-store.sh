#!/bin/sh
# bench-store.sh: the whole gateway (examples/gateway: ingest, history,
# telemetry, platform topics) under the simulator's load, on one of three
# stores, each process separate:
#
#   examples/gateway/bench-store.sh STORE DEVICES SECONDS [simulator flags…]
#   examples/gateway/bench-store.sh pebble 2000 30   # store/pebble in a temporary -data
#   examples/gateway/bench-store.sh nats1 2000 30    # -store on one nats-server (R1)
#   examples/gateway/bench-store.sh nats3 2000 30    # -store on a 3-node cluster on loopback (R3)
#
# nats-server is GNSSGATE_NATS_SERVER, else the one on PATH (2.9.21 or
# later for nats3: see examples/gateway/cluster). Prints the load, the
# gateway's CPU and the simulator's JSON summary (msgs_per_sec, ACK
# latency, and the delay from the gateway's receipt to an MQTT subscriber
# of the platform topics). Run from the repository root.
set -eu
kind=${1:?store: pebble, nats1 or nats3}
devices=${2:?devices}
seconds=${3:?seconds}
shift 3
nats=${GNSSGATE_NATS_SERVER:-nats-server}
port=${PORT:-15027}
mqttport=${MQTTPORT:-11883}
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	cp "$tmp/gw.err" "${TMPDIR:-/tmp}/bench-store-gateway.err" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/gateway" ./examples/gateway
go build -o "$tmp/simulator" ./examples/simulator

store=""
monitors=""
case $kind in
pebble) ;;
nats1)
	printf 'listen: 127.0.0.1:14222\nhttp: 127.0.0.1:18222\njetstream { store_dir: "%s/n1" }\n' "$tmp" >"$tmp/n1.conf"
	"$nats" -c "$tmp/n1.conf" >"$tmp/n1.log" 2>&1 &
	pids="$pids $!"
	store=nats://127.0.0.1:14222
	monitors=18222
	;;
nats3)
	routes="nats-route://127.0.0.1:16241,nats-route://127.0.0.1:16242,nats-route://127.0.0.1:16243"
	for i in 1 2 3; do
		printf 'server_name: n%s\nlisten: 127.0.0.1:1422%s\nhttp: 127.0.0.1:1822%s\njetstream { store_dir: "%s/n%s" }\ncluster { name: bench\n listen: 127.0.0.1:1624%s\n routes: [%s] }\n' \
			"$i" "$i" "$i" "$tmp" "$i" "$i" "$routes" >"$tmp/n$i.conf"
		"$nats" -c "$tmp/n$i.conf" >"$tmp/n$i.log" 2>&1 &
		pids="$pids $!"
	done
	store=nats://127.0.0.1:14221,nats://127.0.0.1:14222,nats://127.0.0.1:14223
	monitors="18221 18222 18223"
	;;
*)
	echo "store: pebble, nats1 or nats3" >&2
	exit 2
	;;
esac
# Servers up and, for a cluster, JetStream's meta leader elected (on a
# loaded machine that takes longer than the gateway's first request waits).
for m in ${monitors:-}; do
	for _ in $(seq 1 120); do
		curl -sf "http://127.0.0.1:$m/healthz" >/dev/null 2>&1 && break
		sleep 0.5
	done
done
set -- "$@"
gwflags="-data $tmp/data -http 127.0.0.1:0 -mqtt 127.0.0.1:$mqttport -mqtt-ws 127.0.0.1:0 -channel teltonika=127.0.0.1:$port -token bench-master-token-0123456789 -log-level error"
if [ -n "$store" ]; then
	gwflags="$gwflags -store $store"
fi
# GWFLAGS: more gateway flags, e.g. GWFLAGS="-pprof 127.0.0.1:16060".
gwflags="$gwflags ${GWFLAGS:-}"
# shellcheck disable=SC2086
"$tmp/gateway" $gwflags >"$tmp/gw.out" 2>"$tmp/gw.err" &
gw=$!
pids="$pids $gw"
for _ in $(seq 1 60); do grep -q 'try:' "$tmp/gw.out" 2>/dev/null && break; sleep 0.5; done
http=$(sed -n 's|.*REST API.*http://\([^ ]*\).*|\1|p' "$tmp/gw.out")
# Warm-up: the same devices register (a first message waits for its
# device's creation), so that the measured run is the steady state.
"$tmp/simulator" -p teltonika -addr "127.0.0.1:$port" -devices "$devices" -duration 5s -progress 0 -json "$@" >/dev/null 2>&1 || true
# The warm-up's connections close with its process; until the gateway has
# seen them go they count against its connection bound (-max-connections,
# by default the file limit less the databases' share), and the measured
# run's devices would find it spent.
conns() { curl -s "http://$http/metrics" | awk '/^gnssgate_channel_connections\{/{n+=$2} END{print n+0}'; }
for _ in $(seq 1 120); do [ "$(conns)" = "0" ] && break; sleep 0.5; done
echo "store $kind ($store); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
if ! kill -0 "$gw" 2>/dev/null; then
	echo "the gateway stopped during the warm-up:"; tail -5 "$tmp/gw.err"; exit 1
fi
cpu0=$(awk '{print $14+$15}' "/proc/$gw/stat")
status=0
"$tmp/simulator" -p teltonika -addr "127.0.0.1:$port" -devices "$devices" -duration "${seconds}s" -progress 0 -json \
	-watch "127.0.0.1:$mqttport" -watch-token bench-master-token-0123456789 "$@" \
	>"$tmp/sim.json" 2>"$tmp/sim.err" || status=$?
cpu1=$(awk '{print $14+$15}' "/proc/$gw/stat")
# How far the history writer (history and telemetry, one node's job in a
# cluster) is behind when the load stops, and how long it takes to catch up.
lag() { curl -s "http://$http/metrics" | sed -n 's/^gnssgate_log_consumer_lag{consumer="stream:history"} //p'; }
echo "history lag at the end: $(lag) records"
t0=$(date +%s)
while [ "$(lag)" != "0" ] && [ $(($(date +%s) - t0)) -lt 300 ]; do sleep 1; done
echo "history caught up after $(($(date +%s) - t0)) s (lag now $(lag))"
cpu2=$(awk '{print $14+$15}' "/proc/$gw/stat")
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); gateway CPU during the run: $(((cpu1 - cpu0) / $(getconf CLK_TCK))) s; gateway RSS: $(awk '/VmRSS/{print $2, $3}' "/proc/$gw/status")"
# CPU per acknowledged message, with the history catch-up: a gateway that
# falls behind does its history work after the run.
acked=$(sed -n 's/.*"acked":\([0-9]*\).*/\1/p' "$tmp/sim.json")
if [ -n "$acked" ] && [ "$acked" -gt 0 ]; then
	echo "gateway CPU per acknowledged message: $(awk -v c="$((cpu2 - cpu0))" -v t="$(getconf CLK_TCK)" -v a="$acked" 'BEGIN{printf "%.3f", c / t / a * 1000}') ms, history catch-up included"
fi
# Where the store's work went (store/pebble only): bytes each Pebble
# instance's WAL took in, its flushes and compactions wrote, and its
# compactions read, per acknowledged message.
if [ -n "$acked" ] && [ "$acked" -gt 0 ]; then
	curl -s "http://$http/metrics" | awk -v a="$acked" '
		/^gnssgate_store_engine_wal_bytes_total/ {split($1, p, "\""); w[p[2]] = $2}
		/^gnssgate_store_engine_flushed_bytes_total/ {split($1, p, "\""); f[p[2]] = $2}
		/^gnssgate_store_engine_compacted_bytes_total/ {split($1, p, "\""); c[p[2]] = $2}
		/^gnssgate_store_engine_compaction_read_bytes_total/ {split($1, p, "\""); r[p[2]] = $2}
		END {for (i in f) printf "store %s per message: WAL %.0f B, flushed %.0f B, compacted %.0f B, compaction read %.0f B\n", i, w[i] / a, f[i] / a, c[i] / a, r[i] / a}'
fi
# The watcher is one QoS 0 subscriber (-watch-qos 1 for QoS 1): when it
# reads slower than the message topics fill, the broker drops what exceeds
# its queue (counted).
echo "broker deliveries dropped for a full queue: $(curl -s "http://$http/metrics" | sed -n 's/^gnssgate_broker_messages_dropped_total //p')"
echo "--- simulator (exit $status)"
tail -3 "$tmp/sim.err"
cat "$tmp/sim.json"
echo
echo "--- gateway errors: $(grep -c "level=ERROR" "$tmp/gw.err" || true)"
grep "level=ERROR" "$tmp/gw.err" | sed "s/time=[^ ]* //" | cut -c1-200 | sort | uniq -c | sort -rn | head -5 || true
