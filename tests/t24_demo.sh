#!/usr/bin/env bash
# t24_demo - `make demo`'s script on the bundled fixture: the Hydromancer replay with drops,
# a recorder that resumes, and every distinct event of the fixture in the second recording
# (the fixture holds an event that came out of key order, events only in replay chunks and
# the overlap of replay and live).
set -u
source "$(dirname "$0")/lib.sh"
out=$(timeout 180 bash fixtures/demo.sh 2>&1) || { echo "$out" | tail -n 40; fail "the demo failed"; }
echo "$out" | grep -q 'identical events' || { echo "$out" | tail -n 20; fail "the demo did not compare the events"; }
echo "$out" | grep -q 'server    1000 .*end of recording' || { echo "$out" | tail -n 40; fail "the recorder did not stop at the end of the replay"; }
echo "ok: the demo ran, the recorder stopped at the end of the replay, every event came back"
