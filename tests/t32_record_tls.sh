# t32: wss:// against a server with a self-signed certificate made here with `openssl req`:
# trusted with --ca or through the system store (SSL_CERT_FILE), refused without either (each attempt journaled as a tls error, exit 5 after
# --retries), accepted with --insecure. A certificate that names another host is refused
# (by name and by IP address) even when trusted, and accepted with --insecure. A burst of
# multi-MiB messages over TLS arrives whole, and a TLS stream cut without close_notify is a
# dropped connection (1006 by network), followed by a reconnect. All of it with both engines;
# with wstape's, a clean close sends TLS's close_notify.
source tests/lib.sh
each_engine
PEERS=$WSTAPE_TESTS_DIR/peers
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null \
	|| fail "openssl req failed"
port=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --tls "$T/cert.pem" "$T/key.pem" --rate 200
wait_port "$port"

record_until "$T/ok" 'map(select(.channel=="allFills" and .dir=="in")) | length >= 50' \
	"wss://127.0.0.1:$port/ws" --feed hydromancer --subscribe allFills --ca "$T/cert.pem" -q "${ENGINE[@]}" || fail "record with --ca exited $?"
"$WSTAPE" cat "$T/ok" >"$T/ok.jsonl" || fail "cat failed"
jq -e -s '(map(select(.kind=="open")) | length == 1) and
	(map(select(.channel=="allFills" and .dir=="in")) | length >= 50)' "$T/ok.jsonl" >/dev/null \
	|| fail "no data over TLS with --ca"
jq -e -s 'map(select(.kind=="open")) | .[0].payload | fromjson | .url | startswith("wss://")' "$T/ok.jsonl" >/dev/null \
	|| fail "open record lacks the wss URL"

# (into an existing journal: a first run that fails before any frame removes the one it created)
"$WSTAPE" import /dev/null -o "$T/bad" --feed raw 2>/dev/null || fail "import of nothing failed"
expect_exit 5 "$WSTAPE" record "wss://127.0.0.1:$port/ws" -o "$T/bad" --resume --retries 2 -q "${ENGINE[@]}" 2>"$T/bad.err"
grep -q "self-signed" "$T/bad.err" || { cat "$T/bad.err"; fail "the error does not name the certificate problem"; }
"$WSTAPE" cat "$T/bad" >"$T/bad.jsonl" || fail "cat failed"
jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.phase=="tls")] | length == 2' \
	"$T/bad.jsonl" >/dev/null || fail "tls failures were not journaled once per attempt"
jq -e -s '[.[] | select(.kind=="open")] | length == 0' "$T/bad.jsonl" >/dev/null || fail "an untrusted server was accepted"

# without --ca, the system store decides: OpenSSL's default paths, which SSL_CERT_FILE moves
# (here to the test certificate, so that this machine's own store stays untouched)
SSL_CERT_FILE="$T/cert.pem" record_until "$T/sys" 'any(.[]; .channel=="allFills")' "wss://localhost:$port/ws" \
	--feed hydromancer --subscribe allFills --retries 1 -q "${ENGINE[@]}" || fail "record trusting the system store exited $?"
"$WSTAPE" cat "$T/sys" | jq -e -s 'map(select(.kind=="open")) | length == 1' >/dev/null \
	|| fail "the system store was not used"

record_until "$T/insecure" 'any(.[]; .channel=="allFills")' "wss://127.0.0.1:$port/ws" \
	--feed hydromancer --subscribe allFills --insecure -q "${ENGINE[@]}" || fail "record --insecure exited $?"
"$WSTAPE" cat "$T/insecure" | jq -e -s 'map(select(.kind=="open")) | length == 1' >/dev/null \
	|| fail "--insecure did not connect"

# a certificate for another host, trusted (--ca): refused by IP address and by name, each
# attempt a tls error naming the mismatch; accepted with --insecure
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/okey.pem" -out "$T/other.pem" -days 1 \
	-subj /CN=other.example -addext "subjectAltName=DNS:other.example" 2>/dev/null || fail "openssl req failed"
oport=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$oport" --tls "$T/other.pem" "$T/okey.pem" --rate 200
wait_port "$oport"
"$WSTAPE" import /dev/null -o "$T/mis" --feed raw 2>/dev/null || fail "import of nothing failed"
for host in 127.0.0.1 localhost; do
	expect_exit 5 "$WSTAPE" record "wss://$host:$oport/ws" -o "$T/mis" --resume --ca "$T/other.pem" --retries 1 -q \
		"${ENGINE[@]}" 2>"$T/mis.$host.err"
done
grep -q "IP address mismatch" "$T/mis.127.0.0.1.err" || fail "no word of the IP address mismatch: $(cat "$T/mis.127.0.0.1.err")"
grep -q "hostname mismatch" "$T/mis.localhost.err" || fail "no word of the hostname mismatch: $(cat "$T/mis.localhost.err")"
"$WSTAPE" cat "$T/mis" | jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.phase=="tls")] |
	length == 2 and (.[0].error | test("IP address mismatch")) and (.[1].error | test("hostname mismatch"))' >/dev/null \
	|| fail "the mismatches are not journaled as tls errors: $("$WSTAPE" cat "$T/mis")"
"$WSTAPE" cat "$T/mis" | jq -e -s '[.[] | select(.kind=="open")] | length == 0' >/dev/null || fail "a mismatch was accepted"
record_until "$T/misok" 'any(.[]; .channel=="allFills")' "wss://localhost:$oport/ws" \
	--feed hydromancer --subscribe allFills --insecure -q "${ENGINE[@]}" || fail "record --insecure exited $?"

# a burst of large messages over TLS, then a cut without close_notify: every message whole
# (compared by sha256), the cut journaled as a drop by the network, and a new connection
bport=$(free_port)
bg $PY "$PEERS/tls_burst_server.py" "$bport" "$T/cert.pem" "$T/key.pem" "$T/burst.list"
wait_port "$bport"
n=$(wc -l <"$T/burst.list")
bg "$WSTAPE" record "wss://127.0.0.1:$bport/" -o "$T/burst" --ca "$T/cert.pem" -q "${ENGINE[@]}"
rec=$!
# open, the burst, close, reconnect event, the second open
wait_records 120 "$T/burst" $((n + 4))
kill -INT "$rec"
wait "$rec" || fail "record of the burst exited $?"
"$WSTAPE" cat "$T/burst" >"$T/burst.jsonl" || fail "cat failed"
jq -c 'select(.conn == 1 and .dir == "in")' "$T/burst.jsonl" | $PY "$PEERS/large_frames.py" list >"$T/burst.got"
cmp -s "$T/burst.list" "$T/burst.got" || fail "the burst did not arrive whole: $(diff "$T/burst.list" "$T/burst.got" | head)"
jq -e -s '[.[] | select(.kind=="close" and .conn==1) | .payload | fromjson] | length == 1 and .[0].code == 1006 and
	.[0].by == "network"' "$T/burst.jsonl" >/dev/null || fail "the cut is not a drop: $(grep '"close"' "$T/burst.jsonl")"
jq -e -s '[.[] | select(.kind=="open")] | length >= 2' "$T/burst.jsonl" >/dev/null || fail "no reconnect after the cut"

# a clean close ends TLS with close_notify, after the closing handshake: ours (stopped, and
# answered) and the server's (--exit-on-close). The wstape engine's; lws 4.1's client drops
# the TCP connection without one.
if [ "$WS_ENGINE" = wstape ]; then
	for how in answer-close close-first; do
		cport=$(free_port)
		bg $PY "$PEERS/hostile_server.py" --port "$cport" --mode hold --$how --tls "$T/cert.pem" "$T/key.pem" \
			--log "$T/$how.log"
		wait_port "$cport"
		bg "$WSTAPE" record "wss://127.0.0.1:$cport/ws" -o "$T/$how" --ca "$T/cert.pem" --exit-on-close -q "${ENGINE[@]}"
		rec=$!
		wait_for 30 "the first frame ($how)" journal_jq "$T/$how" 'any(.[]; .kind=="text")'
		[ $how = answer-close ] && kill -INT "$rec"
		wait "$rec" || fail "record ($how) exited $?"
		wait_log 30 "$T/$how.log" '"tls_end"'
		jq -e -s '[.[] | select(.tls_end)] | length == 1 and .[0].tls_end == "close_notify"' "$T/$how.log" >/dev/null \
			|| fail "no close_notify ($how): $(cat "$T/$how.log")"
		"$WSTAPE" cat "$T/$how" | jq -e -s '[.[] | select(.kind=="close") | .payload | fromjson] | length == 1 and
			.[0].code == 1000' >/dev/null || fail "not a clean close ($how): $("$WSTAPE" cat "$T/$how")"
	done
	grep -q '"client_close": 1000' "$T/answer-close.log" || fail "our close frame did not go: $(cat "$T/answer-close.log")"
fi
echo ok
