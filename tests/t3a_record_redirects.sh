# t3a: an HTTP redirect of the upgrade. Without --follow-redirects it is a failed attempt,
# journaled with its status and its target (redacted), and nothing goes to the target. With
# it, a redirect to another origin (scheme, host, port) gets none of the credentials
# (Authorization, Proxy-Authorization, x-api-key, Cookie, a --secret-header, the secret
# query parameters, the URL's userinfo, the --send messages) while the other headers and
# parameters go; the open event names the server that answered and the URL it was
# redirected from. A redirect within the origin keeps the credentials; a redirect loop ends
# after 5; one from wss to ws is refused, one from ws to wss followed. The URL's userinfo
# goes as Authorization: Basic. With both engines.
source tests/lib.sh
each_engine
PEERS=$WSTAPE_TESTS_DIR/peers
target=$(free_port)
redir=$(free_port)
loop=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$target" --mode hold --log "$T/target.log"
bg $PY "$PEERS/hostile_server.py" --port "$redir" --mode redirect --status 302 --log "$T/redir.log" \
	--location "http://localhost:$target/other?token=T0kenSecretV&sig=S1gSecretV&x=keep1"
bg $PY "$PEERS/hostile_server.py" --port "$loop" --mode redirect --status 307 --log "$T/loop.log" \
	--location "/again"
wait_port "$target"; wait_port "$redir"; wait_port "$loop"
touch "$T/target.log" "$T/redir.log" "$T/loop.log" "$T/same.log"
secrets="T0kenSecretV S1gSecretV B3arerSecretV ApiK3ySecretV C00kieSecretV Cust0mSecretV Pr0xySecretV
S3ndSecretV Us3rSecretV"
creds=(-H 'Authorization: Bearer B3arerSecretV' -H 'x-api-key: ApiK3ySecretV' -H 'Cookie: c=C00kieSecretV'
	-H 'X-Custom-Auth: Cust0mSecretV' --secret-header X-Custom-Auth -H 'X-Trace: trace-1'
	-H 'Proxy-Authorization: Basic Pr0xySecretV' --send '{"op":"auth","key":"S3ndSecretV"}')

# not asked to follow: two failed attempts, each journaled with the redirect's target
"$WSTAPE" import /dev/null -o "$T/nofollow" --feed raw 2>/dev/null || fail "import of nothing failed"
expect_exit 5 timeout 60 "$WSTAPE" record "ws://127.0.0.1:$redir/ws?token=T0kenSecretV" "${ENGINE[@]}" -o "$T/nofollow" --resume \
	"${creds[@]}" --retries 2 -v 2>"$T/nofollow.err"
grep -q -- "--follow-redirects" "$T/nofollow.err" || fail "the message does not say how to follow: $(cat "$T/nofollow.err")"
"$WSTAPE" cat "$T/nofollow" >"$T/nofollow.jsonl" || fail "cat failed"
jq -e -s --arg loc "ws://localhost:$target/other?token=REDACTED&sig=REDACTED&x=keep1" \
	'[.[] | select(.kind=="error") | .payload | fromjson | select(.status==302)] |
	 length == 2 and all(.phase == "http" and .followed == false and .location == $loc)' \
	"$T/nofollow.jsonl" >/dev/null || fail "the redirects are not journaled with their target: $(cat "$T/nofollow.jsonl")"
[ ! -s "$T/target.log" ] || fail "the target was connected to without --follow-redirects: $(cat "$T/target.log")"

# followed, to another origin: without the credentials
bg "$WSTAPE" record "ws://us3r:Us3rSecretV@127.0.0.1:$redir/ws?token=T0kenSecretV" "${ENGINE[@]}" -o "$T/follow" --follow-redirects \
	"${creds[@]}" -vv >"$T/follow.out" 2>"$T/follow.err"
rec=$!
wait_for 30 "the redirected connection" grep -q '"path"' "$T/target.log"
wait_for 30 "the journaled open" sh -c "'$WSTAPE' cat '$T/follow' 2>/dev/null | grep -q '\"kind\":\"open\"'"
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
jq -e -s '[.[] | select(.path)] | length == 1' "$T/target.log" >/dev/null ||
	fail "one connection to the target expected: $(cat "$T/target.log")"
jq -e -s '[.[] | select(.path)][0] | (.path == "/other?x=keep1") and (.headers["x-trace"] == "trace-1") and
	(.headers | has("authorization") or has("proxy-authorization") or has("x-api-key") or has("cookie") or
	 has("x-custom-auth") | not)' \
	"$T/target.log" >/dev/null || fail "credentials went to another origin: $(cat "$T/target.log")"
jq -e -s '[.[] | select(.text)] | length == 0' "$T/target.log" >/dev/null ||
	fail "a --send message went to another origin: $(cat "$T/target.log")"
grep -q "send message is withheld" "$T/follow.err" || fail "no word of the withheld --send: $(cat "$T/follow.err")"
jq -e -s '[.[] | select(.path)][0].headers.authorization == "Bearer B3arerSecretV"' "$T/redir.log" >/dev/null \
	|| fail "the first server did not get the credentials"
"$WSTAPE" cat "$T/follow" >"$T/follow.jsonl" || fail "cat failed"
jq -e -s --arg to "ws://localhost:$target/other?x=keep1" --arg from "ws://REDACTED@127.0.0.1:$redir/ws?token=REDACTED" \
	'[.[] | select(.kind=="open") | .payload | fromjson] |
	 length == 1 and .[0].url == $to and .[0].redirected_from == $from and .[0].credentials_withheld == true and
	 .[0].sends_withheld == 1' \
	"$T/follow.jsonl" >/dev/null || fail "the open event does not name the server that answered: $(grep open "$T/follow.jsonl")"
jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.status==302)] |
	 length == 1 and .[0].followed == true and .[0].cross_origin == true' "$T/follow.jsonl" >/dev/null \
	|| fail "the followed redirect is not journaled"

# followed within the origin (the same scheme, host and port), from a relative Location: the
# credentials go along; the same server answers the upgrade on its /moved path
same=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$same" --mode redirect --location "/moved?token=T0kenSecretV&x=2" \
	--log "$T/same.log"
wait_port "$same"
bg "$WSTAPE" record "ws://127.0.0.1:$same/ws?token=T0kenSecretV" "${ENGINE[@]}" -o "$T/samej" --follow-redirects \
	"${creds[@]}" -q
rec=$!
wait_for 30 "the same-origin redirect" grep -q '"/moved' "$T/same.log"
wait_for 30 "the --send message" grep -q '"text"' "$T/same.log"
kill -INT "$rec"; wait "$rec" || fail "record exited $?"
jq -e -s '[.[] | select((.path // "") | startswith("/moved"))] | length == 1 and
	(.[0].headers.authorization == "Bearer B3arerSecretV") and (.[0].query.token == "T0kenSecretV") and
	(.[0].headers["proxy-authorization"] == "Basic Pr0xySecretV")' \
	"$T/same.log" >/dev/null || fail "a same-origin redirect lost its credentials: $(cat "$T/same.log")"
jq -e -s '[.[] | select(.text)] | length == 1 and (.[0].text | fromjson | .key == "S3ndSecretV")' "$T/same.log" \
	>/dev/null || fail "the --send message did not go within the origin: $(cat "$T/same.log")"

# the URL's userinfo (percent-decoded) goes as Authorization: Basic, and is redacted
bg "$WSTAPE" record "ws://us3r:Us3r%40SecretV@127.0.0.1:$target/ws" "${ENGINE[@]}" -o "$T/ui" -v 2>"$T/ui.err"
rec=$!
wait_for 30 "the connection with userinfo" grep -q '"authorization": "Basic ' "$T/target.log"
kill -INT "$rec"; wait "$rec" || fail "record exited $?"
jq -e -s --arg b "Basic $(printf 'us3r:Us3r@SecretV' | base64)" '[.[] | select(.headers.authorization == $b)] |
	length == 1' "$T/target.log" >/dev/null || fail "the userinfo did not go as Basic: $(cat "$T/target.log")"
"$WSTAPE" info "$T/ui" | grep -q "ws://REDACTED@127.0.0.1:$target/ws" || fail "the userinfo is not redacted: $("$WSTAPE" info "$T/ui")"
grep -q "REDACTED@" "$T/ui.err" || fail "the log does not show the redacted URL: $(cat "$T/ui.err")"

# wss to ws: refused even with --follow-redirects, and nothing goes to the ws target
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null || fail "openssl req failed"
# ws to wss: followed (another origin: no credentials), the upgrade then over TLS
up=$(free_port)
tup=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$tup" --mode hold --tls "$T/cert.pem" "$T/key.pem" --log "$T/tup.log"
bg $PY "$PEERS/hostile_server.py" --port "$up" --mode redirect --location "wss://localhost:$tup/secure?x=1" \
	--log "$T/up.log"
wait_port "$up"; wait_port "$tup"
bg "$WSTAPE" record "ws://127.0.0.1:$up/ws?token=T0kenSecretV" "${ENGINE[@]}" -o "$T/upj" --ca "$T/cert.pem" \
	--follow-redirects "${creds[@]}" -q
rec=$!
wait_for 30 "the journaled open over TLS" journal_jq "$T/upj" 'any(.[]; .kind=="open")'
kill -INT "$rec"; wait "$rec" || fail "record exited $?"
"$WSTAPE" cat "$T/upj" | jq -e -s --arg to "wss://localhost:$tup/secure?x=1" '[.[] | select(.kind=="open") |
	.payload | fromjson] | length == 1 and .[0].url == $to and .[0].credentials_withheld == true' >/dev/null \
	|| fail "the redirect to wss was not followed: $("$WSTAPE" cat "$T/upj")"
jq -e -s '[.[] | select(.path)] | length == 1 and (.[0].path == "/secure?x=1") and
	(.[0].headers | has("authorization") | not)' "$T/tup.log" >/dev/null || fail "the wss target got: $(cat "$T/tup.log")"

down=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$down" --mode redirect --tls "$T/cert.pem" "$T/key.pem" \
	--location "ws://127.0.0.1:$target/plain?from=wss" --log "$T/down.log"
wait_port "$down"
"$WSTAPE" import /dev/null -o "$T/downj" --feed raw 2>/dev/null || fail "import of nothing failed"
expect_exit 5 timeout 60 "$WSTAPE" record "wss://127.0.0.1:$down/ws?token=T0kenSecretV" "${ENGINE[@]}" -o "$T/downj" --resume \
	--ca "$T/cert.pem" --follow-redirects "${creds[@]}" --retries 1 -q 2>"$T/down.err"
grep -q "from wss to unencrypted ws" "$T/down.err" || fail "no word of the refused downgrade: $(cat "$T/down.err")"
grep -q '"path"' "$T/down.log" || fail "the wss server was not asked: $(cat "$T/down.log")"
! grep -q 'from=wss' "$T/target.log" || fail "the ws target of a wss redirect was connected to"
"$WSTAPE" cat "$T/downj" | jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.status==302)] |
	length == 1 and .[0].followed == false' >/dev/null || fail "the refused redirect is not journaled"

# a loop: 5 followed, the 6th is a failed attempt
"$WSTAPE" import /dev/null -o "$T/loopj" --feed raw 2>/dev/null || fail "import of nothing failed"
expect_exit 5 timeout 60 "$WSTAPE" record "ws://127.0.0.1:$loop/ws" "${ENGINE[@]}" -o "$T/loopj" --resume --follow-redirects \
	--retries 1 -q 2>"$T/loop.err"
grep -q "more than 5 redirects" "$T/loop.err" || fail "no word of the redirect loop: $(cat "$T/loop.err")"
[ "$(grep -c '"path"' "$T/loop.log")" = 6 ] || fail "expected 6 requests in the loop: $(cat "$T/loop.log")"

for s in $secrets; do
	if grep -r -a -l -- "$s" "$T/nofollow" "$T/nofollow.jsonl" "$T/nofollow.err" "$T/follow" "$T/follow.jsonl" \
		"$T/follow.out" "$T/follow.err" "$T/loop.err" "$T/ui" "$T/ui.err" "$T/downj" "$T/down.err" "$T/upj"; then
		fail "secret '$s' found in the files above"
	fi
done
echo ok
