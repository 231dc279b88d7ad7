# t23_cli_messages - what the README and the help texts promise about cat's filters and
# --payload, and the messages of bad input: IPv6 --listen, a missing --tls-cert, a --feed
# or --gate that does not fit the journal, an existing journal for import, a second writer.
source tests/lib.sh
FIX=$PWD/fixtures
cd "$T" || fail "no temp dir"

# --payload: one line per payload, binary and multi-line ones too
cat > p.jsonl <<'JL'
{"wall_ns":1000000000,"kind":"text","payload":"{\"type\":\"a\",\"seq\":1}"}
{"wall_ns":2000000000,"kind":"text","payload":"line one\nline two"}
{"wall_ns":3000000000,"kind":"binary","payload_b64":"AP8BAgoK"}
{"wall_ns":1500000000,"kind":"text","payload":"{\"type\":\"a\",\"seq\":2}"}
{"wall_ns":4000000000,"kind":"text","payload":"not json"}
JL
$WSTAPE import p.jsonl -o p >/dev/null 2>&1 || fail "import p.jsonl"
$WSTAPE cat p --payload >pl || fail "cat --payload"
[ "$(wc -l <pl)" = 5 ] || fail "cat --payload does not print one line per payload: $(cat -A pl)"
[ "$(sed -n 2p pl)" = '"line one\nline two"' ] || fail "a multi-line payload: $(sed -n 2p pl)"
[ "$(sed -n 3p pl)" = '{"payload_b64":"AP8BAgoK"}' ] || fail "a binary payload: $(sed -n 3p pl)"
# --from and --to both filter on the receive time, which went back at record 4
[ "$($WSTAPE cat p --to 1970-01-01T00:00:01.600Z | jq -c .recno | tr '\n' ' ')" = "1 4 " ] ||
	fail "--to is not a filter: $($WSTAPE cat p --to 1970-01-01T00:00:01.600Z)"
[ "$($WSTAPE cat p --from 1970-01-01T00:00:01.400Z --to 1970-01-01T00:00:02.500Z | jq -c .recno | tr '\n' ' ')" = "2 4 " ] ||
	fail "--from/--to: $($WSTAPE cat p --from 1970-01-01T00:00:01.400Z --to 1970-01-01T00:00:02.500Z)"
# the README's jq example runs on the bundled fixture, whose payloads are not all JSON
$WSTAPE import "$FIX/hydromancer.jsonl" -o h --feed hydromancer >/dev/null 2>&1 || fail "import fixture"
$WSTAPE cat h --kind text --payload | jq -cR 'fromjson? | objects | select(.type=="allFills") | .seq' >seqs ||
	fail "the README's jq example fails on the fixture"
[ "$(wc -l <seqs)" -gt 5 ] || fail "the README's jq example found no allFills: $(cat seqs)"

# a directory that is not a journal: said once
mkdir notj
expect_exit 2 $WSTAPE info notj 2>err
[ "$(grep -o "not a wstape journal" err | wc -l)" = 1 ] || fail "said twice: $(cat err)"
# import into an existing journal names --append
expect_exit 2 $WSTAPE import p.jsonl -o p 2>err
grep -q -- "--append" err || fail "import into an existing journal: $(cat err)"
# a second writer is told the first one's pid
mkfifo fifo
bg $WSTAPE import fifo -o w
exec 3>fifo     # the writer waits for lines while this script holds the fifo open
wait_for 60 "the writer's lock" test -s w/LOCK
pid=$(cat w/LOCK)
[ -n "$pid" ] || fail "the writer wrote no pid"
expect_exit 2 $WSTAPE import p.jsonl -o w --append 2>err
grep -q "being written by another process (pid $pid)" err || fail "second writer: $(cat err)"

# replay: IPv6 is refused with a reason; a missing certificate is named
expect_exit 2 $WSTAPE replay p --listen '[::1]:9999' 2>err
grep -q "IPv6 is not supported" err || fail "IPv6 listen: $(cat err)"
expect_exit 2 $WSTAPE replay p --listen ::1:9999 2>err
grep -q "IPv6 is not supported" err || fail "IPv6 listen without brackets: $(cat err)"
expect_exit 2 $WSTAPE replay p --tls-cert nope.pem --tls-key nope.key 2>err
grep -q "cannot use --tls-cert 'nope.pem': No such file or directory" err || fail "missing --tls-cert: $(cat err)"
# one that is not PEM, a directory, a certificate given as the key
echo "not a certificate" > bad.pem; mkdir -p certdir
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost 2>/dev/null ||
	fail "openssl req"
expect_exit 2 $WSTAPE replay p --tls-cert bad.pem --tls-key key.pem 2>err
grep -q "cannot use --tls-cert 'bad.pem': no PEM certificate in it" err || fail "a --tls-cert that is not PEM: $(cat err)"
expect_exit 2 $WSTAPE replay p --tls-cert certdir --tls-key key.pem 2>err
grep -q "cannot use --tls-cert 'certdir': it is a directory" err || fail "a --tls-cert directory: $(cat err)"
expect_exit 2 $WSTAPE replay p --tls-cert cert.pem --tls-key cert.pem 2>err
grep -q "cannot use --tls-key 'cert.pem': no PEM private key in it" err || fail "a certificate as --tls-key: $(cat err)"
# --speed: not nan, inf or a speed that would send everything at once
for s in nan inf -1 0 1e-300 1e9 2x; do
	expect_exit 2 $WSTAPE replay p --speed $s 2>err
	grep -q -- "--speed is a number from 0.001 to 1000000, or 'max'" err || fail "--speed $s: $(cat err)"
done
# --gate on a journal served as hydromancer: refused; --feed that differs from the journal's: warned
expect_exit 2 $WSTAPE replay h --gate 2>err
grep -q -- "--gate is for the raw feed" err || fail "--gate on hydromancer: $(cat err)"
port=$(free_port)
$WSTAPE replay p --feed lasersell --listen 127.0.0.1:$port >/dev/null 2>rerr & BG_PIDS+=($!)
wait_port $port
grep -q "warning: replay: journal 'p' was recorded as raw; --feed lasersell" rerr || fail "--feed mismatch: $(cat rerr)"
exit 0
