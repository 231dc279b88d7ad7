# t32: wss:// against a server with a self-signed certificate made here with `openssl req`:
# trusted with --ca or through the system store (SSL_CERT_FILE), refused without either (each attempt journaled as a tls error, exit 5 after
# --retries), accepted with --insecure.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null \
	|| fail "openssl req failed"
port=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --tls "$T/cert.pem" "$T/key.pem" --rate 200
wait_port "$port"

record_until "$T/ok" 'map(select(.channel=="allFills" and .dir=="in")) | length >= 50' \
	"wss://127.0.0.1:$port/ws" --feed hydromancer --subscribe allFills --ca "$T/cert.pem" -q || fail "record with --ca exited $?"
"$WSTAPE" cat "$T/ok" >"$T/ok.jsonl" || fail "cat failed"
jq -e -s '(map(select(.kind=="open")) | length == 1) and
	(map(select(.channel=="allFills" and .dir=="in")) | length >= 50)' "$T/ok.jsonl" >/dev/null \
	|| fail "no data over TLS with --ca"
jq -e -s 'map(select(.kind=="open")) | .[0].payload | fromjson | .url | startswith("wss://")' "$T/ok.jsonl" >/dev/null \
	|| fail "open record lacks the wss URL"

# (into an existing journal: a first run that fails before any frame removes the one it created)
"$WSTAPE" import /dev/null -o "$T/bad" --feed raw 2>/dev/null || fail "import of nothing failed"
expect_exit 5 "$WSTAPE" record "wss://127.0.0.1:$port/ws" -o "$T/bad" --resume --retries 2 -q 2>"$T/bad.err"
grep -q "self-signed" "$T/bad.err" || { cat "$T/bad.err"; fail "the error does not name the certificate problem"; }
"$WSTAPE" cat "$T/bad" >"$T/bad.jsonl" || fail "cat failed"
jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.phase=="tls")] | length == 2' \
	"$T/bad.jsonl" >/dev/null || fail "tls failures were not journaled once per attempt"
jq -e -s '[.[] | select(.kind=="open")] | length == 0' "$T/bad.jsonl" >/dev/null || fail "an untrusted server was accepted"

# without --ca, the system store decides: OpenSSL's default paths, which SSL_CERT_FILE moves
# (here to the test certificate, so that this machine's own store stays untouched)
SSL_CERT_FILE="$T/cert.pem" record_until "$T/sys" 'any(.[]; .channel=="allFills")' "wss://localhost:$port/ws" \
	--feed hydromancer --subscribe allFills --retries 1 -q || fail "record trusting the system store exited $?"
"$WSTAPE" cat "$T/sys" | jq -e -s 'map(select(.kind=="open")) | length == 1' >/dev/null \
	|| fail "the system store was not used"

record_until "$T/insecure" 'any(.[]; .channel=="allFills")' "wss://127.0.0.1:$port/ws" \
	--feed hydromancer --subscribe allFills --insecure -q || fail "record --insecure exited $?"
"$WSTAPE" cat "$T/insecure" | jq -e -s 'map(select(.kind=="open")) | length == 1' >/dev/null \
	|| fail "--insecure did not connect"
echo ok
