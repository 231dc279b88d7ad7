# t3h: a real Prometheus server (Debian's prometheus, storage in $T) scrapes a recorder's
# --metrics on 127.0.0.1 every 0.5 s: through its HTTP API, the target is up (up == 1) and
# the rate of journaled frames is above zero, with the channel label as recorded.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
command -v curl >/dev/null || fail "curl is needed (make deps)"
command -v prometheus >/dev/null || fail "prometheus is needed (Debian: prometheus; make deps)"
port=$(free_port)
mport=$(free_port)
pport=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --token tok --log "$T/server.log" --rate 200
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=tok" -o "$T/j" --feed hydromancer \
	--subscribe allFills --metrics "127.0.0.1:$mport" 2>"$T/rec.err"
wait_for 30 "the recorder's /metrics" curl -sf -o /dev/null "http://127.0.0.1:$mport/metrics"

cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 500ms
  evaluation_interval: 500ms
scrape_configs:
  - job_name: wstape
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
bg prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn 2>"$T/prometheus.err"
P=http://127.0.0.1:$pport
wait_for 60 "prometheus ready" curl -sf -o /dev/null "$P/-/ready"
# the first element's value of an instant query's result, or nothing
query() { curl -sf --data-urlencode "query=$1" "$P/api/v1/query" | jq -r '.data.result[0].value[1] // empty'; }
is_up() { [ "$(query 'up{job="wstape"}')" = 1 ]; }
rate_positive() {
	local r
	r=$(query 'sum(rate(wstape_record_frames_total{job="wstape",direction="in",channel="allFills"}[3s]))')
	[ -n "$r" ] && awk -v r="$r" 'BEGIN { exit !(r > 0) }'
}
wait_for 60 "up == 1 for the recorder" is_up
wait_for 60 "a frame rate above zero" rate_positive
[ "$(query 'wstape_record_connected{job="wstape"}')" = 1 ] || fail "connected is not 1 in Prometheus"
echo "t3h ok: up == 1, frame rate $(query 'sum(rate(wstape_record_frames_total{job="wstape",direction="in"}[3s]))')/s"
