#!/usr/bin/env bash
# 32_record_tls.sh - ingest over wss://: wstape record against a local TLS source that floods
# ~860-byte allFills frames as fast as the receiver takes them (wstape replay --tls-cert
# --tls-key --speed max --loop, a self-signed certificate made here with openssl req), with
# its own WebSocket engine (--ws-engine wstape: TLS through OpenSSL memory BIOs, frames
# parsed in whole blocks), with libwebsockets' client (--ws-engine lws), and a Node ws client
# writing JSON lines (NODE_EXTRA_CA_CERTS trusts the certificate), in the same run.
# Messages/s and CPU µs per message of the receiving process; N (default 500000) messages each.
set -u
: "${BUILD:=build}" "${WSTAPE:=$PWD/$BUILD/wstape}"
PY=/usr/bin/python3
N=${N:-500000}
D=$(mktemp -d "${TMPDIR:-/tmp}/wstape-bench-tls.XXXXXX")
pids=()
trap 'kill ${pids[@]} 2>/dev/null; rm -rf "$D"' EXIT
port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitp() { for _ in $(seq 100); do $PY -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return; sleep 0.05; done; }

# the source: 200k distinct messages, looped, over TLS
"$BUILD/bench/journal_bench" "$D" 200000 > /dev/null || { echo "cannot build the source journal"; exit 1; }
rm -f "$D/records.jsonl"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" -days 1 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null \
	|| { echo "openssl req failed"; exit 1; }

# run [-o FILE] CMD...: a fresh source, CMD with its wss URL appended under bench/measure.py;
# prints "wall cpu rss_first rss_mid rss_last rss_max rc" (the whole process)
run() {
	local mo=()
	[ "$1" = -o ] && { mo=(-o "$2"); shift 2; }
	local p=$(port)
	$WSTAPE replay "$D/j" --listen 127.0.0.1:$p --speed max --loop --feed raw \
		--tls-cert "$D/cert.pem" --tls-key "$D/key.pem" > /dev/null 2>&1 & local src=$!
	pids+=($src)
	waitp $p
	$PY bench/measure.py "${mo[@]}" "$@" wss://127.0.0.1:$p/
	kill $src 2>/dev/null; wait $src 2>/dev/null
}

# What is timed, as in 30_record.sh. msg/s: from the first message received to the last (the
# recorder's receive times are in its journal; Node times itself, bench/record_node.mjs).
# CPU per message: the recorder's whole process (start-up, TLS handshake, the last block's
# compression and fsync included: an upper bound); Node's own CPU over its timed window.
# rec ENGINE -> "msg/s cpu_us/msg messages wall verify"
rec() {
	local w c r1 r2 r3 rmax rc last f_rec f_mono l_rec l_mono got
	read -r w c r1 r2 r3 rmax rc < <(run $WSTAPE record --max-records $N --quiet -o "$D/rec" \
		--ca "$D/cert.pem" --ws-engine "$1")
	last=$($WSTAPE info "$D/rec" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["last_recno"])')
	read -r f_rec f_mono < <($WSTAPE cat "$D/rec" --direction in --kind text --limit 1 | jq -r '"\(.recno) \(.mono_ns)"')
	read -r l_rec l_mono < <($WSTAPE cat "$D/rec" --direction in --kind text \
		--from-record $((last > 10 ? last - 10 : 1)) | tail -n 1 | jq -r '"\(.recno) \(.mono_ns)"')
	got=$((l_rec - f_rec + 1))
	echo "$(echo "($got - 1) * 1000000000 / ($l_mono - $f_mono)" | bc -l) $(echo "$c * 1000000 / $got" | bc -l)" \
		"$got $w $($WSTAPE verify "$D/rec" > /dev/null && echo ok || echo FAILED)"
	rm -rf "$D/rec"
}
read -r rate_ws cpu_ws got_ws w_ws v_ws < <(rec wstape)
printf 'wstape record, --ws-engine wstape  %8.0f msg/s  %5.2f us CPU/msg  (%d messages in %.3f s whole process, verify %s)\n' \
	"$rate_ws" "$cpu_ws" "$got_ws" "$w_ws" "$v_ws"
read -r rate_lws cpu_lws got_lws w_lws v_lws < <(rec lws)
printf 'wstape record, --ws-engine lws     %8.0f msg/s  %5.2f us CPU/msg  (%d messages in %.3f s whole process, verify %s)\n' \
	"$rate_lws" "$cpu_lws" "$got_lws" "$w_lws" "$v_lws"

read -r w c r1 r2 r3 rmax rc < <(NODE_EXTRA_CA_CERTS="$D/cert.pem" run -o "$D/node.out" node bench/record_node.mjs "$D/node.jsonl" $N)
read -r m s pc < "$D/node.out"
m=${m:-0} s=${s:-0} pc=${pc:-0}
rate_nd=$(echo "if ($s > 0) ($m - 1) / $s else 0" | bc -l)
cpu_nd=$(echo "if ($m > 0) $pc * 1000000 / $m else 0" | bc -l)
printf 'node ws client                     %8.0f msg/s  %5.2f us CPU/msg  (%d messages; whole process %.3f s wall, %.2f us CPU/msg)\n' \
	"$rate_nd" "$cpu_nd" "$m" "$w" "$(echo "if ($m > 0) $c * 1000000 / $m else 0" | bc -l)"
rm -f "$D/node.jsonl" "$D/node.out"

# verdict RATIO OP TARGET: "met" or "NOT MET"
verdict() { [ "$(echo "$1 $2 $3" | bc -l)" = 1 ] && echo met || echo "NOT MET"; }
r_nd=$(echo "if ($cpu_nd > 0) $cpu_ws / $cpu_nd else 999" | bc -l)
r_lws=$(echo "if ($cpu_lws > 0) $cpu_ws / $cpu_lws else 999" | bc -l)
r_rate=$(echo "if ($rate_lws > 0) $rate_ws / $rate_lws else 0" | bc -l)
printf 'ratios: CPU/msg wstape / node %.2fx (target <= 0.4x: %s); CPU/msg wstape / lws engine %.2fx (target < 1x: %s);\n' \
	"$r_nd" "$(verdict "$r_nd" '<=' 0.4)" "$r_lws" "$(verdict "$r_lws" '<' 1)"
printf '        msg/s wstape / lws engine %.2fx (target >= 1x: %s)\n' "$r_rate" "$(verdict "$r_rate" '>=' 1)"
