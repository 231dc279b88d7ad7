#!/usr/bin/env bash
# t21_journal_damaged.sh - damaged journals: a damaged LMDB index (the campaign's fixture,
# truncations, bit flips, every page of the index damaged in turn) never crashes a
# command and is rebuilt; missing, out-of-sequence and unreadable segments are errors that
# name the records or the path; an index that cannot be read fails verify.
. "$(dirname "$0")/lib.sh"
FIX="$WSTAPE_TESTS_DIR/fixtures/damaged"

# has FILE ERE, lines FILE: grep -q and wc -l without a process each (see check_damaged)
has() { [[ $(< "$1") =~ $2 ]]; }
lines() { local l; mapfile -t l < "$1"; echo ${#l[@]}; }

# no command crashes (a signal is an exit status of 128 and above); its output goes to
# $T/nc$W.out and .err ($W: a worker's suffix, see the page cases; none elsewhere)
W=
no_crash() {
	local got
	"$@" > "$T/nc$W.out" 2> "$T/nc$W.err"; got=$?
	[ "$got" -lt 128 ] || fail "crashed (exit $got): $* $(cat "$T/nc$W.err")"
	return $got
}

# --- point 5: the campaign's journal: verify crashed in liblmdb (SIGSEGV) -------------
cp -r "$FIX/j342" "$T/j342"
no_crash $WSTAPE verify "$T/j342"; [ $? = 1 ] || fail "verify of a damaged index: $(cat "$T/nc.err")"
grep -q "the index is damaged (.*); 'wstape verify --repair' or --reindex rebuilds it" "$T/nc.err" || fail "verify message: $(cat "$T/nc.err")"
no_crash $WSTAPE info "$T/j342" || fail "info of a damaged index: $(cat "$T/nc.err")"
grep -q "records      1500 (recno 1..1500)" "$T/nc.out" || fail "info of a damaged index: $(cat "$T/nc.out")"
grep -q "index is damaged and was not used" "$T/nc.err" || fail "info note: $(cat "$T/nc.err")"
no_crash $WSTAPE cat "$T/j342" || fail "cat of a damaged index: $(cat "$T/nc.err")"
[ "$(wc -l < "$T/nc.out")" = 1500 ] || fail "cat of a damaged index printed $(wc -l < "$T/nc.out") records"
no_crash $WSTAPE cat "$T/j342" --from-record 1200 || fail "seek with a damaged index: $(cat "$T/nc.err")"
[ "$(wc -l < "$T/nc.out")" = 301 ] || fail "seek with a damaged index printed $(wc -l < "$T/nc.out") records"
no_crash $WSTAPE inspect "$T/j342" || fail "inspect of a damaged index: $(cat "$T/nc.err")"
# --repair rebuilds it (it used to say "nothing to repair")
cp -r "$FIX/j342" "$T/j342r"
no_crash $WSTAPE verify --repair "$T/j342r" || fail "repair of a damaged index: $(cat "$T/nc.err")"
grep -q "index rebuilt from the segments (93 blocks)" "$T/nc.out" || fail "repair output: $(cat "$T/nc.out")"
grep -q "nothing to repair" "$T/nc.out" && fail "repair says nothing to repair"
grep -q "index was damaged (.*while LMDB read it); rebuilt from the segments" "$T/nc.err" || fail "repair message: $(cat "$T/nc.err")"
$WSTAPE verify "$T/j342r" | grep -q "^ok: 1500 records in 93 blocks" || fail "verify after repair"
# a writer notices and rebuilds
cp -r "$FIX/j342" "$T/j342w"
$WSTAPE cat "$T/j342" --limit 5 | no_crash $WSTAPE import - -o "$T/j342w" --append || fail "append: $(cat "$T/nc.err")"
grep -q "index was damaged" "$T/nc.err" || fail "the writer did not say the index was rebuilt: $(cat "$T/nc.err")"
$WSTAPE verify "$T/j342w" | grep -q "^ok: 1505 records" || fail "verify after an append to a damaged index"

# the campaign's journal as it was before the damage: its segments, indexed again
mkdir "$T/base"; cp "$FIX/j342/META" "$FIX"/j342/seg-*.wst "$T/base/"
$WSTAPE verify --reindex "$T/base" > /dev/null 2>&1 || fail "reindex of the fixture's segments"
[ "$(stat -c %s "$T/base/index/data.mdb")" = 139264 ] || fail "the rebuilt index is not the campaign's layout"

# A damaged copy of base: verify says so (or finds nothing wrong, for bytes LMDB does not
# use) and never crashes; info, cat and a writer never crash; --repair makes it whole.
# $d.w, when it exists, is the writer's copy of $d (made beforehand with the damage).
# (Each command is a process with its index check: on a loaded machine they are what this
# script's time goes to, so no command runs whose outcome another one already gave.)
check_damaged() {
	local d=$1 got
	no_crash $WSTAPE verify "$d"; got=$?
	case $got in
	0) has "$T/nc$W.out" "^ok: 1500 records in 93 blocks" || fail "verify of $2: $(cat "$T/nc$W.out")" ;;
	1) has "$T/nc$W.err" "the index is damaged|the index does not match" || fail "verify of $2: $(cat "$T/nc$W.err")" ;;
	*) fail "verify of $2 exited $got: $(cat "$T/nc$W.err")" ;;
	esac
	if [ "${3:-}" = all ]; then
		no_crash $WSTAPE info "$d" > /dev/null || fail "info of $2: $(cat "$T/nc$W.err")"
		no_crash $WSTAPE inspect "$d" > /dev/null || fail "inspect of $2: $(cat "$T/nc$W.err")"
	fi
	no_crash $WSTAPE cat "$d" --from-record 700 || fail "cat of $2: $(cat "$T/nc$W.err")"
	[ "$(lines "$T/nc$W.out")" = 801 ] || fail "cat of $2 printed $(lines "$T/nc$W.out") records"
	[ -d "$d.w" ] || cp -r "$d" "$d.w"
	no_crash $WSTAPE import /dev/null -o "$d.w" --append || fail "a writer on $2: $(cat "$T/nc$W.err")"
	$WSTAPE verify "$d.w" > "$T/out$W" 2>&1 || fail "verify after a writer opened $2: $(cat "$T/out$W")"
	# (an index that verifies leaves --repair nothing to do: verify would say the same again)
	if [ $got = 1 ]; then
		no_crash $WSTAPE verify --repair "$d" || fail "repair of $2: $(cat "$T/nc$W.err")"
		$WSTAPE verify "$d" > "$T/out$W" 2>&1 || fail "verify after repairing $2: $(cat "$T/out$W")"
		has "$T/out$W" "^ok: 1500 records in 93 blocks" || fail "verify after repairing $2: $(cat "$T/out$W")"
	fi
	rm -rf "$d" "$d.w"
}
for size in 4096 12288; do
	cp -r "$T/base" "$T/cut"; truncate -s $size "$T/cut/index/data.mdb"
	no_crash $WSTAPE verify "$T/cut"; [ $? = 1 ] || fail "verify of an index cut to $size bytes"
	grep -q "the index is damaged" "$T/nc.err" || fail "verify of an index cut to $size: $(cat "$T/nc.err")"
	check_damaged "$T/cut" "an index cut to $size bytes" all
done
for off in 109597 124303 11919 110405 54673 all; do
	cp -r "$T/base" "$T/flip"
	$PY - "$T/flip/index/data.mdb" $off <<'PY'
import sys
p, which = sys.argv[1], sys.argv[2]
offs = [109597, 124303, 11919, 110405, 54673] if which == "all" else [int(which)]
with open(p, "r+b") as f:
    for o in offs:
        f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0x10]))
PY
	check_damaged "$T/flip" "an index with a bit flipped at $off" all
done
# every page of the index in turn: its node offsets, its first node, its bounds (the damaged
# copies, and the writer's copy of each, made by one Python process)
pages=$(( $(stat -c %s "$T/base/index/data.mdb") / 4096 ))
$PY - "$T/base" "$T/pg" $pages <<'PY' || fail "damaging the pages"
import os, shutil, struct, sys
base, out, pages = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(os.path.join(base, "index", "data.mdb"), "rb").read()
for pg in range(2, pages):
    for how in ("ptrs", "node", "bounds"):
        d = bytearray(data)
        upper = struct.unpack("<H", d[pg * 4096 + 14:pg * 4096 + 16])[0]
        if how == "ptrs":
            d[pg * 4096 + 16:pg * 4096 + 24] = b"\xff" * 8
        elif how == "node" and upper < 4096 - 8:
            d[pg * 4096 + upper:pg * 4096 + upper + 8] = b"\xff" * 8
        elif how == "bounds":
            d[pg * 4096 + 12:pg * 4096 + 16] = b"\xff\x0f\x10\x00"
        assert d != data, (pg, how)
        for copy in ("", ".w"):
            dst = "%s.%d.%s%s" % (out, pg, how, copy)
            shutil.copytree(base, dst)
            open(os.path.join(dst, "index", "data.mdb"), "wb").write(d)
PY
# (in two workers, each with its own output files: the cases are short processes, and a
# loaded machine gives each worker its share of the CPU)
page_cases() { # WORKER OF: the cases whose number modulo OF is WORKER
	local i=0 pg how
	W=.$1
	for pg in $(seq 2 $((pages - 1))); do
		for how in ptrs node bounds; do
			if [ $((i % $2)) = "$1" ]; then
				check_damaged "$T/pg.$pg.$how" "page $pg of the index damaged ($how)"
			fi
			i=$((i + 1))
		done
	done
}
workers=()
for w in 0 1; do
	page_cases $w 2 &
	workers+=($!)
	BG_PIDS+=($!)
done
for p in "${workers[@]}"; do wait $p || fail "a page case failed (above)"; done

# --- point 6: segments missing, out of sequence, unreadable ------------------------------
# a middle segment deleted: every reader names the missing records and exits 1
cp -r "$T/base" "$T/gap"; rm "$T/gap/seg-0000000002.wst"
for c in cat info verify inspect; do
	no_crash $WSTAPE $c "$T/gap"; got=$?
	[ $got = 1 ] || fail "$c of a journal without its segment 2 exited $got: $(cat "$T/nc.err")"
	grep -q "records are missing from the journal: 499..996 (segment '$T/gap/seg-0000000002.wst' does not exist" "$T/nc.err" ||
		fail "$c of a journal without its segment 2: $(cat "$T/nc.err")"
done
[ ! -s "$T/nc.out" ] || true
no_crash $WSTAPE import /dev/null -o "$T/gap" --append; [ $? = 1 ] || fail "a writer opened a journal without its segment 2"
# the same without an index: the readers find it where the record numbers jump
cp -r "$T/base" "$T/jump"; rm -rf "$T/jump/index" "$T/jump/seg-0000000002.wst"
$PY - "$T/jump" <<'PY'
import os, struct, sys
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF
d = sys.argv[1]
data = bytearray(open(d + "/seg-0000000003.wst", "rb").read())
data[12:16] = struct.pack("<I", 2)
data[60:64] = struct.pack("<I", crc32c(bytes(data[:60])))
open(d + "/seg-0000000002.wst", "wb").write(data)
os.unlink(d + "/seg-0000000003.wst")
PY
for c in cat info verify inspect; do
	no_crash $WSTAPE $c "$T/jump"; got=$?
	[ $got = 1 ] || fail "$c of a journal whose record numbers jump exited $got: $(cat "$T/nc.err")"
	grep -q "records are missing from the journal: 499..996 (segment '$T/jump/seg-0000000001.wst' ends before record 499, segment '$T/jump/seg-0000000002.wst' starts at record 997)" "$T/nc.err" ||
		fail "$c of a journal whose record numbers jump: $(cat "$T/nc.err")"
done
$WSTAPE cat "$T/jump" 2> /dev/null | wc -l | grep -qx 498 || fail "cat before the jump"
# an extra segment out of sequence: after a hole, or a copy numbered as the next one
cp -r "$T/base" "$T/extra"; cp "$T/extra/seg-0000000002.wst" "$T/extra/seg-0000000007.wst"
for c in cat info verify inspect; do
	no_crash $WSTAPE $c "$T/extra"; got=$?
	[ $got = 1 ] || fail "$c of a journal with an extra segment 7 exited $got: $(cat "$T/nc.err")"
	grep -q "'$T/extra/seg-0000000007.wst' is out of sequence: segment '$T/extra/seg-0000000004.wst' and those after it do not exist" "$T/nc.err" ||
		fail "$c of a journal with an extra segment 7: $(cat "$T/nc.err")"
done
cp -r "$T/base" "$T/copy"
$PY - "$T/copy" <<'PY'
import struct, sys
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF
d = sys.argv[1]
data = bytearray(open(d + "/seg-0000000002.wst", "rb").read())
data[12:16] = struct.pack("<I", 4)
data[60:64] = struct.pack("<I", crc32c(bytes(data[:60])))
open(d + "/seg-0000000004.wst", "wb").write(data)
PY
for c in cat info verify inspect; do
	no_crash $WSTAPE $c "$T/copy"; got=$?
	[ $got = 1 ] || fail "$c of a journal with a copied segment 4 exited $got: $(cat "$T/nc.err")"
	grep -q "segment '$T/copy/seg-0000000004.wst' starts at record 499, which segment '$T/copy/seg-0000000003.wst' already holds (out of sequence)" "$T/nc.err" ||
		fail "$c of a journal with a copied segment 4: $(cat "$T/nc.err")"
done
# a segment that is a directory: every reader names it and exits 2 (unreadable input)
cp -r "$T/base" "$T/dirseg"; rm "$T/dirseg/seg-0000000002.wst"; mkdir "$T/dirseg/seg-0000000002.wst"
for c in cat info verify inspect; do
	no_crash $WSTAPE $c "$T/dirseg"; got=$?
	[ $got = 2 ] || fail "$c of a journal whose segment 2 is a directory exited $got: $(cat "$T/nc.err")"
	grep -q "cannot read segment '$T/dirseg/seg-0000000002.wst': Is a directory" "$T/nc.err" ||
		fail "$c of a journal whose segment 2 is a directory: $(cat "$T/nc.err")"
done

# --- point 8: an index that cannot be read fails verify ---------------------------------
cp -r "$T/base" "$T/idxdir"; rm "$T/idxdir/index/data.mdb"; mkdir "$T/idxdir/index/data.mdb"
no_crash $WSTAPE verify "$T/idxdir"; got=$?
[ $got = 2 ] || fail "verify of an index that is a directory exited $got: $(cat "$T/nc.out" "$T/nc.err")"
grep -q "cannot verify journal '$T/idxdir': the index cannot be checked: cannot read the index '$T/idxdir/index/data.mdb': Is a directory" "$T/nc.err" ||
	fail "verify of an index that is a directory: $(cat "$T/nc.err")"
no_crash $WSTAPE info "$T/idxdir" || fail "info with an unreadable index: $(cat "$T/nc.err")"
grep -q "index cannot be read" "$T/nc.err" || fail "info note on an unreadable index: $(cat "$T/nc.err")"
# mode 000, for a user whom the mode stops (root reads it whatever its mode)
if command -v setpriv > /dev/null && [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
	chmod 755 "$T"
	cp -r "$T/base" "$T/noperm"; chown -R nobody "$T/noperm"; chmod 000 "$T/noperm/index/data.mdb"
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups $WSTAPE verify "$T/noperm" > "$T/out" 2> "$T/err"; got=$?
	[ $got = 2 ] || fail "verify of an index of mode 000 exited $got: $(cat "$T/out" "$T/err")"
	grep -q "the index cannot be checked: cannot read the index '$T/noperm/index/data.mdb': Permission denied" "$T/err" ||
		fail "verify of an index of mode 000: $(cat "$T/err")"
elif [ "$(id -u)" != 0 ]; then
	cp -r "$T/base" "$T/noperm"; chmod 000 "$T/noperm/index/data.mdb"
	expect_exit 2 $WSTAPE verify "$T/noperm" > /dev/null 2> "$T/err"
	grep -q "Permission denied" "$T/err" || fail "verify of an index of mode 000: $(cat "$T/err")"
fi
echo "t21 ok"
