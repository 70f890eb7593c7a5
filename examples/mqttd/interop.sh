#!/usr/bin/env bash
# interop.sh runs the Eclipse Paho MQTT interoperability suite
# (github.com/eclipse/paho.mqtt.testing, directory interoperability/) against
# mqttd -paho, each test in its own process against a throw-away broker (the
# tests delete retained messages and reuse client ids), 90 s per test.
#
#	examples/mqttd/interop.sh /path/to/paho.mqtt.testing/interoperability [client_test5.py|client_test.py] [Test.test_name ...]
#
# It downloads nothing: the suite is third-party Python (standard library
# only) and stays outside this repository; pass the path of a local checkout.
# Without a suite argument both client_test.py (MQTT 3.1.1) and
# client_test5.py (MQTT 5.0) run. Output: one line per test, PASS, FAIL or
# TIMEOUT; logs in $OUT (default a temporary directory).
#
# Known test bug: client_test5.py test_request_response (and the noLocal step
# of test_subscribe_options) waits on client A's
# SUBACK (callback.subscribeds) after client B subscribes, then publishes
# before B's subscription is guaranteed to exist; it fails whenever the
# broker is slower than the test's next line, which happens mostly when
# another process keeps a core busy. See examples/mqttd's doc.
set -u
dir=${1:?usage: interop.sh /path/to/paho.mqtt.testing/interoperability [suite] [Test.name ...]}
shift
suites=(client_test.py client_test5.py)
if [ $# -gt 0 ] && [[ $1 == *.py ]]; then suites=("$1"); shift; fi
out=${OUT:-$(mktemp -d)}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$out/mqttd
(cd "$root" && go build -o "$bin" ./examples/mqttd) || exit 1

# The suite's own option parsing cannot take a host and a port together
# (-h prints usage; unittest re-parses argv), so run it under a small shim
# that sets argv for the suite and for unittest separately.
shim='import os, sys, runpy, unittest
script, host, port, *tests = sys.argv[1:]
sys.path.insert(0, os.path.dirname(script)); os.chdir(os.path.dirname(script))
main = unittest.main
unittest.main = lambda *a, **kw: main(*a, **{**kw, "argv": [script] + tests})
sys.argv = [script, "--hostname=" + host, "-p", port]
runpy.run_path(script, run_name="__main__")'

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

fail=0
for suite in "${suites[@]}"; do
	script=$(cd "$dir" && pwd)/$suite
	tests=("$@")
	if [ ${#tests[@]} -eq 0 ]; then
		mapfile -t tests < <(grep -o '^    def test[A-Za-z0-9_]*' "$script" | sed 's/ *def /Test./')
	fi
	for t in "${tests[@]}"; do
		port=$(freeport)
		"$bin" -addr "127.0.0.1:$port" -paho >"$out/$suite.$t.broker.log" 2>&1 &
		broker=$!
		sleep 0.3
		timeout 90 python3 -c "$shim" "$script" 127.0.0.1 "$port" "$t" >"$out/$suite.$t.log" 2>&1
		rc=$?
		kill "$broker" 2>/dev/null
		wait "$broker" 2>/dev/null
		res=FAIL
		grep -q '^OK' "$out/$suite.$t.log" && res=PASS
		[ $rc -eq 124 ] && res=TIMEOUT
		[ $res = PASS ] || fail=1
		echo "$suite $t $res"
	done
done
echo "logs: $out"
exit $fail
