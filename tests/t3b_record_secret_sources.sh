# t3b: credentials kept out of sight. The URL (argument @FILE, --url @FILE, --url env:NAME)
# and the headers (-H @FILE, one a line; -H env:NAME) can come from a file or the
# environment: they reach the server, and the running recorder's /proc/PID/cmdline holds
# none of them. The signature and credential query parameters (sig, signature,
# X-Amz-Signature, accessToken, api_key, ...) and those named with --redact-param are
# redacted in META, `info`, `cat`, the journal's files and the log at debug level, while the
# other parameters stay readable. A missing file or variable is a clear error.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
port=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$port" --mode hold --log "$T/srv.log"
wait_port "$port"
touch "$T/srv.log"
secrets="T0kSecretV S1gSecretV Sign4tureV AmzSig4V AccT0kV ApiK3yV MyPar4mV B3arerV Cust0mV EnvUrlT0kV EnvHdrV
PctS1gV"
q="token=T0kSecretV&sig=S1gSecretV&signature=Sign4tureV&X-Amz-Signature=AmzSig4V&accessToken=AccT0kV"
q="$q&api_key=ApiK3yV&myparam=MyPar4mV&x=visible1&cursor=1:2:3&%73ig=PctS1gV"
printf 'ws://127.0.0.1:%s/feed?%s\n' "$port" "$q" >"$T/url.txt"
printf 'Authorization: Bearer B3arerV\nX-Custom-Auth: Cust0mV\n\nX-Trace: trace-2\n' >"$T/headers.txt"
chmod 600 "$T/url.txt" "$T/headers.txt"

# from files: wait for the connection, then read the running recorder's command line
bg "$WSTAPE" record @"$T/url.txt" -o "$T/j" -H @"$T/headers.txt" --secret-header X-Custom-Auth \
	--redact-param MyParam -vv >"$T/rec.out" 2>"$T/rec.err"
rec=$!
wait_for 30 "the recorder's connection" grep -q '"path"' "$T/srv.log"
tr '\0' ' ' </proc/$rec/cmdline >"$T/cmdline"
grep -q "record @$T/url.txt" "$T/cmdline" || fail "not the recorder's command line: $(cat "$T/cmdline")"
wait_for 30 "the journaled open" sh -c "'$WSTAPE' cat '$T/j' 2>/dev/null | grep -q '\"kind\":\"open\"'"
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
jq -e -s '[.[] | select(.path)][0] | (.query.token == "T0kSecretV") and (.query.sig == "S1gSecretV") and
	(.query.x == "visible1") and (.headers.authorization == "Bearer B3arerV") and
	(.headers["x-custom-auth"] == "Cust0mV") and (.headers["x-trace"] == "trace-2")' "$T/srv.log" >/dev/null \
	|| fail "the URL or the headers from the files did not reach the server: $(cat "$T/srv.log")"

# what wstape writes: redacted, the rest readable
"$WSTAPE" cat "$T/j" >"$T/j.jsonl" || fail "cat failed"
"$WSTAPE" info "$T/j" >"$T/info.out" 2>&1 || fail "info failed"
"$WSTAPE" info "$T/j" --json >"$T/info.json" 2>&1 || fail "info --json failed"
want="ws://127.0.0.1:$port/feed?token=REDACTED&sig=REDACTED&signature=REDACTED&X-Amz-Signature=REDACTED"
want="$want&accessToken=REDACTED&api_key=REDACTED&myparam=REDACTED&x=visible1&cursor=1:2:3&%73ig=REDACTED"
grep -q -F "$want" "$T/j/META" || fail "META does not hold the redacted URL: $(cat "$T/j/META")"
grep -q -F "$want" "$T/info.out" || fail "info does not show the redacted URL: $(cat "$T/info.out")"
jq -e -s --arg u "$want" '[.[] | select(.kind=="open") | .payload | fromjson | .url] == [$u]' "$T/j.jsonl" >/dev/null \
	|| fail "the open event does not hold the redacted URL"
grep -q -F "connected to $want" "$T/rec.err" || fail "the log does not show the redacted URL"

# --url env:NAME and -H env:NAME
: >"$T/srv.log"
bg env WS_URL="ws://127.0.0.1:$port/env?token=EnvUrlT0kV" WS_HDR="Authorization: Bearer EnvHdrV" \
	"$WSTAPE" record --url env:WS_URL -o "$T/jenv" -H env:WS_HDR -vv 2>"$T/env.err"
rec=$!
wait_for 30 "the recorder's connection" grep -q '"path"' "$T/srv.log"
tr '\0' ' ' </proc/$rec/cmdline >"$T/cmdline.env"
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
jq -e -s '[.[] | select(.path)][0] | (.query.token == "EnvUrlT0kV") and (.headers.authorization == "Bearer EnvHdrV")' \
	"$T/srv.log" >/dev/null || fail "the URL or header from the environment did not reach the server: $(cat "$T/srv.log")"

# clear errors, exit 2, no secret in them
expect_exit 2 "$WSTAPE" record @"$T/nonexistent" -o "$T/x1" 2>"$T/e1"
grep -q "cannot read '$T/nonexistent'" "$T/e1" || fail "no word of the missing URL file: $(cat "$T/e1")"
expect_exit 2 env -u WS_NOPE "$WSTAPE" record --url env:WS_NOPE -o "$T/x2" 2>"$T/e2"
grep -q "environment variable 'WS_NOPE' is not set" "$T/e2" || fail "no word of the unset variable: $(cat "$T/e2")"
printf 'Authorization: Bearer B3arerV\nnot a header B3arerV\n' >"$T/badhdr.txt"
expect_exit 2 "$WSTAPE" record "ws://127.0.0.1:$port/" -o "$T/x3" -H @"$T/badhdr.txt" 2>"$T/e3"
grep -q "line 2 of header source" "$T/e3" || fail "no word of the bad header line: $(cat "$T/e3")"
# a header that would add headers of its own (CR, LF), or a name that is not a token
expect_exit 2 "$WSTAPE" record "ws://127.0.0.1:$port/" -o "$T/x4" -H $'X-A: 1\r\nAuthorization: B3arerV' 2>"$T/e4"
grep -q "header 1 of the command line holds a line break" "$T/e4" || fail "a header with CR LF: $(cat "$T/e4")"
expect_exit 2 "$WSTAPE" record "ws://127.0.0.1:$port/" -o "$T/x4" -H 'Bad Name: B3arerV' 2>"$T/e5"
grep -q "has a name that is not a token" "$T/e5" || fail "a header name with a space: $(cat "$T/e5")"
# --api-key from a file and from the environment (lasersell), not on the command line
printf 'ApiK3yV\n' >"$T/key.txt"
: >"$T/srv.log"
bg "$WSTAPE" record "ws://127.0.0.1:$port/ls" -o "$T/jkey" --feed lasersell --api-key @"$T/key.txt" -q 2>"$T/key.err"
rec=$!
wait_for 30 "the lasersell connection" grep -q '"path"' "$T/srv.log"
tr '\0' ' ' </proc/$rec/cmdline >"$T/cmdline.key"
kill -INT "$rec"; wait "$rec"
jq -e -s '[.[] | select(.path)][0].headers["x-api-key"] == "ApiK3yV"' "$T/srv.log" >/dev/null ||
	fail "--api-key @FILE did not reach the server: $(cat "$T/srv.log")"
: >"$T/srv.log"
bg env LS_KEY=ApiK3yV "$WSTAPE" record "ws://127.0.0.1:$port/ls" -o "$T/jkey2" --feed lasersell --api-key env:LS_KEY -q 2>>"$T/key.err"
rec=$!
wait_for 30 "the lasersell connection" grep -q '"path"' "$T/srv.log"
kill -INT "$rec"; wait "$rec"
jq -e -s '[.[] | select(.path)][0].headers["x-api-key"] == "ApiK3yV"' "$T/srv.log" >/dev/null ||
	fail "--api-key env:NAME did not reach the server: $(cat "$T/srv.log")"
[ ! -e "$T/x1" ] && [ ! -e "$T/x2" ] && [ ! -e "$T/x3" ] && [ ! -e "$T/x4" ] || fail "a journal was created by a refused command"

for s in $secrets; do
	if grep -r -a -l -- "$s" "$T/cmdline" "$T/cmdline.env" "$T/j" "$T/j.jsonl" "$T/info.out" "$T/info.json" \
		"$T/rec.out" "$T/rec.err" "$T/jenv" "$T/env.err" "$T/e1" "$T/e2" "$T/e3" "$T/e4" "$T/e5" \
		"$T/cmdline.key" "$T/jkey" "$T/jkey2" "$T/key.err"; then
		fail "secret '$s' found in the files above"
	fi
done
echo ok
