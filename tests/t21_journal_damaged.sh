#!/usr/bin/env bash
# t21_journal_damaged.sh - damaged journals: a damaged LMDB index (the campaign's fixture,
# truncations, bit flips, every page of the index damaged in turn) never crashes a
# command and is rebuilt; missing, out-of-sequence and unreadable segments are errors that
# name the records or the path; an index that cannot be read fails verify.
. "$(dirname "$0")/lib.sh"
FIX="$WSTAPE_TESTS_DIR/fixtures/damaged"

# no command crashes (a signal is an exit status of 128 and above)
no_crash() {
	local got
	"$@" > "$T/nc.out" 2> "$T/nc.err"; got=$?
	[ "$got" -lt 128 ] || fail "crashed (exit $got): $* $(cat "$T/nc.err")"
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
grep -q "the index is damaged and was not used; the records above come from the segments" "$T/nc.err" ||
	fail "cat does not say it set the damaged index aside: $(cat "$T/nc.err")"
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

# What LMDB reads of an index: every entry of every database (mdb_dump, lmdb-utils), or
# "unreadable" when mdb_dump fails or crashes on it. A damage that changes this is one a
# reader would meet; one that does not lies in bytes LMDB does not use.
command -v mdb_dump > /dev/null || fail "mdb_dump (lmdb-utils) is needed"
lmdb_sees() {
	timeout 20 mdb_dump -a "$1" 2> /dev/null | grep -v '^mapsize=\|^maxreaders=' || echo unreadable
}
lmdb_sees "$T/base/index" > "$T/base.dump"
grep -q "^database=blocks" "$T/base.dump" || fail "mdb_dump of the clean index: $(head -5 "$T/base.dump")"
changed=0

# A damaged copy of base never crashes a command. When LMDB reads something else than in
# the clean index (or cannot read it), verify reports the index damaged (exit 1) and the
# readers still read all 1,500 records from the segments; when it reads the same, verify
# may find nothing wrong. --repair makes it whole.
check_damaged() {
	local d=$1 got seen=same
	lmdb_sees "$d/index" > "$T/dmg.dump"
	cmp -s "$T/dmg.dump" "$T/base.dump" || { seen=changed; changed=$((changed + 1)); }
	no_crash $WSTAPE verify "$d"; got=$?
	case $seen:$got in
	same:0) ;;
	*:1) grep -q "the index is damaged\|the index does not match" "$T/nc.err" || fail "verify of $2: $(cat "$T/nc.err")" ;;
	changed:0) fail "verify of $2 found nothing wrong, but LMDB reads another index: $(diff "$T/base.dump" "$T/dmg.dump" | head -5)" ;;
	*) fail "verify of $2 exited $got: $(cat "$T/nc.err")" ;;
	esac
	if [ "${3:-}" = all ] || [ $seen = changed ]; then
		no_crash $WSTAPE info "$d" || fail "info of $2: $(cat "$T/nc.err")"
		grep -q "^records      1500 (recno 1..1500)" "$T/nc.out" || fail "info of $2: $(cat "$T/nc.out")"
		no_crash $WSTAPE inspect "$d" > /dev/null || fail "inspect of $2: $(cat "$T/nc.err")"
		no_crash $WSTAPE cat "$d" || fail "cat of $2: $(cat "$T/nc.err")"
		[ "$(wc -l < "$T/nc.out")" = 1500 ] || fail "cat of $2 printed $(wc -l < "$T/nc.out") records"
	fi
	no_crash $WSTAPE cat "$d" --from-record 700 || fail "cat of $2: $(cat "$T/nc.err")"
	[ "$(wc -l < "$T/nc.out")" = 801 ] || fail "cat of $2 printed $(wc -l < "$T/nc.out") records"
	# (an index LMDB reads as the clean one, and verify finds whole, leaves a writer and
	# --repair nothing to do: each command is a process with its own index check, which on a
	# loaded machine is where this script's time goes)
	if [ $seen:$got = same:0 ] && [ "${3:-}" != all ]; then
		rm -rf "$d"
		return
	fi
	cp -r "$d" "$d.w"
	no_crash $WSTAPE import /dev/null -o "$d.w" --append || fail "a writer on $2: $(cat "$T/nc.err")"
	$WSTAPE verify "$d.w" > "$T/out" 2>&1 || fail "verify after a writer opened $2: $(cat "$T/out")"
	no_crash $WSTAPE verify --repair "$d" || fail "repair of $2: $(cat "$T/nc.err")"
	$WSTAPE verify "$d" > "$T/out" 2>&1 || fail "verify after repairing $2: $(cat "$T/out")"
	grep -q "^ok: 1500 records in 93 blocks" "$T/out" || fail "verify after repairing $2: $(cat "$T/out")"
	rm -rf "$d" "$d.w"
}
for size in 4096 12288; do
	cp -r "$T/base" "$T/cut"; truncate -s $size "$T/cut/index/data.mdb"
	no_crash $WSTAPE verify "$T/cut"; [ $? = 1 ] || fail "verify of an index cut to $size bytes"
	grep -q "the index is damaged" "$T/nc.err" || fail "verify of an index cut to $size: $(cat "$T/nc.err")"
	changed=0
	check_damaged "$T/cut" "an index cut to $size bytes" all
	[ $changed = 1 ] || fail "mdb_dump reads an index cut to $size bytes as the clean one"
done
# The campaign's five bit flips (one at a time, then all five): they lie in bytes LMDB
# does not read (mdb_dump sees the clean index, verify exits 0), so these only check that
# nothing crashes; the cases above and below are the ones that damage what LMDB reads.
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
# every page of the index in turn: its node offsets, its first node, its bounds. A page
# that is in use (LMDB then reads another index) must be reported by verify
# (check_damaged asserts it page by page); a free page may go unnoticed.
pages=$(( $(stat -c %s "$T/base/index/data.mdb") / 4096 ))
changed=0
for pg in $(seq 2 $((pages - 1))); do
	for how in ptrs node bounds; do
		cp -r "$T/base" "$T/pg"
		$PY - "$T/pg/index/data.mdb" $how $pg <<'PY'
import sys, struct
p, how, pg = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(p, "r+b") as f:
    f.seek(pg * 4096); h = f.read(16)
    upper = struct.unpack("<H", h[14:16])[0]
    if how == "ptrs":
        f.seek(pg * 4096 + 16); f.write(b"\xff" * 8)
    elif how == "node" and upper < 4096 - 8:
        f.seek(pg * 4096 + upper); f.write(b"\xff" * 8)
    elif how == "bounds":
        f.seek(pg * 4096 + 12); f.write(b"\xff\x0f\x10\x00")
PY
		check_damaged "$T/pg" "page $pg of the index damaged ($how)"
	done
done
echo "every page: $changed of $(( (pages - 2) * 3 )) damages changed what LMDB reads; verify reported each"
[ $changed -ge $(( pages / 2 )) ] || fail "only $changed damaged pages were in use: the loop tests little"

# --- point 5: entries that LMDB reads well but that disagree with the blocks -------------
# (python3-lmdb writes them: a 'time' key moved to another time, a channel's first record
# number far past the journal's end, a 'chanblk' entry of a block that does not exist):
# each is "index damaged", set aside by the readers (cat --from finds every record, info
# shows the segments' figures) and rebuilt by --repair
edit_index() { # DIR PYTHON: runs PYTHON with env (the index's lmdb.Environment) and db(NAME)
	$PY - "$1/index" <<PY || fail "python3-lmdb could not edit $1"
import lmdb, struct, sys
env = lmdb.open(sys.argv[1], max_dbs=8, subdir=True, lock=False)
DB = {n: env.open_db(n.encode()) for n in ("blocks", "time", "conns", "chans", "chanblk", "state")}
def db(name): return DB[name]
$2
PY
}
cp -r "$T/base" "$T/tkey"
edit_index "$T/tkey" '
d = db("time")
with env.begin(write=True) as t:
    c = t.cursor(d); c.first(); c.next(); c.next()
    k, v = bytes(c.key()), bytes(c.value()); c.delete()
    t.put(k[:7] + bytes([k[7] ^ 0x40]) + k[8:], v, db=d)'
cp -r "$T/base" "$T/chfirst"
edit_index "$T/chfirst" '
d = db("chans")
with env.begin(write=True) as t:
    c = t.cursor(d); c.first()
    k, v = bytes(c.key()), bytearray(c.value()); v[7] ^= 0x40
    t.put(k, bytes(v), db=d)'
cp -r "$T/base" "$T/cbk"
edit_index "$T/cbk" '
d = db("chanblk")
with env.begin(write=True) as t:
    c = t.cursor(d); c.first()
    k, v = bytearray(c.key()), bytes(c.value()); c.delete(); k[-1] ^= 0x01; k[-2] ^= 0x10
    t.put(bytes(k), v, db=d)'
from=$($WSTAPE cat "$T/base" --from-record 680 --limit 1 | jq -r .time)
want=$($WSTAPE cat "$T/base" --from "$from" | wc -l)
for d in tkey chfirst cbk; do
	no_crash $WSTAPE verify "$T/$d"; [ $? = 1 ] || fail "verify of index $d: $(cat "$T/nc.out" "$T/nc.err")"
	grep -q "the index is damaged (" "$T/nc.err" || fail "verify of index $d: $(cat "$T/nc.err")"
	no_crash $WSTAPE cat "$T/$d" --from "$from" || fail "cat --from with index $d: $(cat "$T/nc.err")"
	[ "$(wc -l < "$T/nc.out")" = "$want" ] || fail "cat --from with index $d printed $(wc -l < "$T/nc.out") records, not $want"
	no_crash $WSTAPE info "$T/$d" --json || fail "info with index $d: $(cat "$T/nc.err")"
	jq -e '[.channel_list[] | .first_recno <= 1500] | all' "$T/nc.out" > /dev/null || fail "info with index $d: $(cat "$T/nc.out")"
	no_crash $WSTAPE verify --repair "$T/$d" || fail "repair of index $d: $(cat "$T/nc.err")"
	$WSTAPE verify "$T/$d" | grep -q "^ok: 1500 records" || fail "verify after the repair of index $d"
done

# --- point 6: segments missing, out of sequence, unreadable ------------------------------
# a middle segment deleted: every reader names the missing records and exits 1
cp -r "$T/base" "$T/gap"; rm "$T/gap/seg-0000000002.wst"
for c in cat info verify inspect; do
	no_crash $WSTAPE $c "$T/gap"; got=$?
	[ $got = 1 ] || fail "$c of a journal without its segment 2 exited $got: $(cat "$T/nc.err")"
	grep -q "records are missing from the journal: 499..996 (segment '$T/gap/seg-0000000002.wst' does not exist" "$T/nc.err" ||
		fail "$c of a journal without its segment 2: $(cat "$T/nc.err")"
	# nothing is printed: no figures of the index, no records before the gap
	[ ! -s "$T/nc.out" ] || fail "$c of a journal without its segment 2 printed: $(head -3 "$T/nc.out")"
done
no_crash $WSTAPE import /dev/null -o "$T/gap" --append; [ $? = 1 ] || fail "a writer opened a journal without its segment 2"
# the same without an index: the readers find it where the record numbers jump
cp -r "$T/base" "$T/jump"; rm -rf "$T/jump/index" "$T/jump/seg-0000000002.wst"
$PY - "$T/jump" <<'PY'
import os, sys
sys.path.insert(0, os.environ["WSTAPE_TESTS_DIR"] + "/peers")
from wst_segment import renumbered
d = sys.argv[1]
open(d + "/seg-0000000002.wst", "wb").write(renumbered(d + "/seg-0000000003.wst", 2))
os.unlink(d + "/seg-0000000003.wst")
PY
for c in cat info verify inspect; do
	no_crash $WSTAPE $c "$T/jump"; got=$?
	[ $got = 1 ] || fail "$c of a journal whose record numbers jump exited $got: $(cat "$T/nc.err")"
	grep -q "records are missing from the journal: 499..996 (segment '$T/jump/seg-0000000001.wst' ends before record 499, segment '$T/jump/seg-0000000002.wst' starts at record 997)" "$T/nc.err" ||
		fail "$c of a journal whose record numbers jump: $(cat "$T/nc.err")"
done
$WSTAPE cat "$T/jump" 2> /dev/null | wc -l | grep -qx 498 || fail "cat before the jump"
# a middle segment that lost its last blocks (cut at a block boundary: the blocks left are
# whole), its index intact: the index lists blocks past the end of the file, so it is not
# trusted, and every reader names the records that are gone
cp -r "$T/base" "$T/short"
$PY - "$T/short/seg-0000000002.wst" <<'PY'
import os, struct, sys
p = sys.argv[1]
d = open(p, "rb").read()
off = 64
while off < len(d):
    comp_len, first = struct.unpack("<I", d[off + 8:off + 12])[0], struct.unpack("<Q", d[off + 16:off + 24])[0]
    if first == 758:
        break
    off += 64 + comp_len
assert first == 758, "no block starts at record 758"
os.truncate(p, off)
PY
for c in cat info verify inspect; do
	no_crash $WSTAPE $c "$T/short"; got=$?
	[ $got = 1 ] || fail "$c of a journal whose segment 2 lost its last blocks exited $got: $(cat "$T/nc.err")"
	grep -q "records are missing from the journal: 758..996 (segment '$T/short/seg-0000000002.wst' ends before record 758, segment '$T/short/seg-0000000003.wst' starts at record 997)" "$T/nc.err" ||
		fail "$c of a journal whose segment 2 lost its last blocks: $(cat "$T/nc.err")"
done
$WSTAPE info "$T/short" 2> /dev/null | grep -q "^records      1500" && fail "info shows the index's 1500 records"
$WSTAPE cat "$T/short" 2> /dev/null | wc -l | grep -qx 757 || fail "cat before the records that are gone"
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
import os, sys
sys.path.insert(0, os.environ["WSTAPE_TESTS_DIR"] + "/peers")
from wst_segment import renumbered
d = sys.argv[1]
open(d + "/seg-0000000004.wst", "wb").write(renumbered(d + "/seg-0000000002.wst", 4))
PY
for c in cat info verify inspect; do
	no_crash $WSTAPE $c "$T/copy"; got=$?
	[ $got = 1 ] || fail "$c of a journal with a copied segment 4 exited $got: $(cat "$T/nc.err")"
	grep -q "segment '$T/copy/seg-0000000004.wst' starts at record 499, which segment '$T/copy/seg-0000000003.wst' already holds (out of sequence)" "$T/nc.err" ||
		fail "$c of a journal with a copied segment 4: $(cat "$T/nc.err")"
done
# a middle segment emptied: verify names it, and does not offer --repair, which cannot cut
# there without dropping the segments after it
cp -r "$T/base" "$T/emptied"; : > "$T/emptied/seg-0000000002.wst"
no_crash $WSTAPE verify "$T/emptied"; [ $? = 1 ] || fail "verify of an emptied middle segment: $(cat "$T/nc.err")"
grep -q "corrupt at offset 0 of segment 2: .* it is not the last segment, so --repair cannot cut there" "$T/nc.err" ||
	fail "verify of an emptied middle segment: $(cat "$T/nc.err")"
grep -q "'wstape verify --repair' cuts" "$T/nc.err" && fail "verify offers --repair for a middle segment"

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
# mode 000, for a user whom the mode stops (root reads it whatever its mode: as root, the
# check runs as uid 65534 through setpriv)
cp -r "$T/base" "$T/noperm"; chmod 000 "$T/noperm/index/data.mdb"
as_unprivileged "$T/noperm"
"${AS_USER[@]}" $WSTAPE verify "$T/noperm" > "$T/out" 2> "$T/err"; got=$?
[ $got = 2 ] || fail "verify of an index of mode 000 exited $got: $(cat "$T/out" "$T/err")"
grep -q "the index cannot be checked: cannot read the index '$T/noperm/index/data.mdb': Permission denied" "$T/err" ||
	fail "verify of an index of mode 000: $(cat "$T/err")"
echo "t21 ok"
