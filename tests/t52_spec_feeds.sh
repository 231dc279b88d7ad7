# t52_spec_feeds - feeds declared as data (--feed spec:FILE.json): for Binance's diff. depth
# stream and OKX's books channel (specs/), a local server written from the exchange's docs
# sends seeded gaps and duplicates (and OKX no-change messages and a new snapshot after a
# drop); `wstape record --feed spec:` journals it with channel and cursor; `wstape inspect`
# finds exactly what the server's truth file says was seeded (tests/checks/spec_findings.py);
# the fixture imported with the spec is inspected alike (UPDATE=1 writes its expected reports
# fixtures/NAME.inspect.txt/.json, compared once they exist); `wstape replay --feed spec:`
# serves the journal to a docs client that subscribes to one channel and gets only its frames
# (and OKX's "pong" for its "ping").
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
CHECK="$PY $WSTAPE_TESTS_DIR/checks/spec_findings.py"
SPECS=$PWD/specs
FIX=$PWD/fixtures

# exchange NAME SERVER URL-PATH CHANNEL CLIENT SERVER-ARGS...
exchange() {
	local name=$1 server=$2 path=$3 channel=$4 client=$5 port rec rc; shift 5
	local j=$T/$name.j log=$T/$name.log truth=$T/$name.truth.json
	diag() { tail -5 "$log"; tail -5 "$T/$name.rec.err"; fail "$name: $*"; }

	bg $PY "$PEERS/$server" --port 0 --log "$log" --truth "$truth" "$@" >"$T/$name.port"
	wait_log 60 "$T/$name.port" '^port [0-9]+$'
	port=$(awk '{print $2}' "$T/$name.port")
	"$WSTAPE" record --feed "spec:$SPECS/$name.json" "ws://127.0.0.1:$port$path" -o "$j" \
		--quiet 2>"$T/$name.rec.err" &
	rec=$!
	BG_PIDS+=($rec)
	# every stream sent its last message, and every text frame the server sent is journaled
	wait_log 120 "$log" '"ev":"done"'
	sent=$(grep -c '"ev":"send"' "$log")
	journaled() { [ "$("$WSTAPE" cat "$j" --direction in --kind text 2>/dev/null | wc -l)" -ge "$sent" ]; }
	wait_for 60 "$sent frames from the $name server in the journal" journaled
	kill -INT $rec
	wait $rec; rc=$?
	[ "$rc" = 0 ] || diag "record exited $rc"
	"$WSTAPE" verify "$j" >/dev/null || diag "the journal does not verify"
	grep -q '"ev":"drop"' "$log" || diag "the server never dropped the connection"
	[ "$(grep -c '"ev":"connect"' "$log")" -ge 2 ] || diag "the recorder did not reconnect"
	"$WSTAPE" cat "$j" >"$T/$name.cat.jsonl" || diag "cat failed"
	# the spec's send messages went out on each connection
	[ "$(jq -s '[.[] | select(.dir == "out" and .kind == "text")] | length' "$T/$name.cat.jsonl")" -ge 2 ] ||
		diag "the spec's subscribe was not sent on each connection"

	expect_exit 0 "$WSTAPE" inspect --json "$j" >"$T/$name.inspect.json"
	jq -e --arg f "spec:$name" '.feed == $f' "$T/$name.inspect.json" >/dev/null ||
		diag "inspect does not name the feed spec:$name"
	$CHECK "$T/$name.inspect.json" "$truth" --cat "$T/$name.cat.jsonl" ||
		diag "inspect's findings differ from what the server seeded"

	# the fixture, imported with the spec (the Binance fixture's second connection missed two
	# events of each stream: the book's update ids go on across connections, so that is a gap)
	"$WSTAPE" import "$FIX/$name.jsonl" -o "$T/$name.fix" --feed "spec:$SPECS/$name.json" >/dev/null \
		2>"$T/$name.import.err" || fail "import of fixtures/$name.jsonl: $(cat "$T/$name.import.err")"
	expect_exit 0 "$WSTAPE" inspect "$T/$name.fix" >"$T/$name.fix.txt"
	expect_exit 0 "$WSTAPE" inspect --json "$T/$name.fix" >"$T/$name.fix.json"
	"$WSTAPE" cat "$T/$name.fix" >"$T/$name.fix.jsonl"
	$CHECK "$T/$name.fix.json" "$FIX/$name.truth.json" --cat "$T/$name.fix.jsonl" --conn-gaps ||
		fail "$name fixture: inspect's findings differ from fixtures/$name.truth.json"
	if [ -n "${UPDATE:-}" ]; then
		sed "s|$T/$name.fix|$name|" "$T/$name.fix.txt" >"$FIX/$name.inspect.txt"
		jq --arg j "$name" '.journal = $j' "$T/$name.fix.json" >"$FIX/$name.inspect.json"
	elif [ -f "$FIX/$name.inspect.json" ]; then
		diff -u "$FIX/$name.inspect.txt" <(sed "s|$T/$name.fix|$name|" "$T/$name.fix.txt") ||
			fail "text report of the $name fixture differs from fixtures/$name.inspect.txt"
		diff -u "$FIX/$name.inspect.json" <(jq --arg j "$name" '.journal = $j' "$T/$name.fix.json") ||
			fail "JSON report of the $name fixture differs from fixtures/$name.inspect.json"
	fi

	# replay: a client subscribed to one channel gets that channel's frames alone
	port=$(free_port)
	"$WSTAPE" replay "$j" --feed "spec:$SPECS/$name.json" --listen "127.0.0.1:$port" --once \
		>/dev/null 2>"$T/$name.replay.err" &
	BG_PIDS+=($!)
	wait_port "$port"
	$PY "$PEERS/spec_replay_client.py" "$client" "ws://127.0.0.1:$port$path" "$channel" "$T/$name.cat.jsonl" ||
		fail "$name replay: $(tail -3 "$T/$name.replay.err")"
}

exchange binance-depth binance_depth_server.py /stream btcusdt@depth binance \
	--seed 7 --count 40 --gaps 3 --dups 3 --drop 30 --interval-ms 20
exchange okx-books okx_books_server.py /ws/v5/public books:ETH-USDT okx \
	--seed 8 --count 40 --gaps 3 --dups 3 --keepalives 2 --drop 30 --interval-ms 20
echo ok
