#!/usr/bin/env bash
# t28_install - `make install` gives a C library that a program links with pkg-config alone:
# `make install DESTDIR=$T/root PREFIX=/usr/local` (the built tree, nothing compiled again)
# puts the binary, libwstape.so.1.1.0 (soname libwstape.so.1) with its links, libwstape.a,
# <wstape/journal.h> and <wstape/version.h>, wstape.pc, the man pages and the bash
# completion in place; the .so exports exactly the functions the headers declare, and the
# .a defines no other global; the headers compile alone as C99 -pedantic and as C++;
# examples/channel_counts.c, built with only `pkg-config --cflags --libs wstape` (the
# DESTDIR tree as PKG_CONFIG_SYSROOT_DIR), counts the channels of the imported Hydromancer
# fixture as `wstape cat` does, also linked --static; examples/write_journal.c makes a
# journal that `wstape verify` accepts; the README's example runs; a program that ignores
# SIGCHLD gets a good index checked as good; a C++ program gets the version `wstape --version`
# prints; LIBDIR/INCLUDEDIR/MANDIR/BASHCOMPDIR are honoured and `make uninstall` removes
# everything.
source "$(dirname "$0")/lib.sh"
SRC=$PWD
FIX=$SRC/fixtures
R=$T/root
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s --no-print-directory -C "$SRC" BUILD="$BUILD" "$@"; }

mk install DESTDIR="$R" PREFIX=/usr/local > "$T/install.log" 2>&1 || fail "make install: $(tail -20 "$T/install.log")"
grep -E '^(cc|gcc|clang) ' "$T/install.log" && fail "make install compiled again (above); it should reuse $BUILD"
P=$R/usr/local
for f in bin/wstape lib/libwstape.so.1.1.0 lib/libwstape.a include/wstape/journal.h include/wstape/version.h \
	lib/pkgconfig/wstape.pc share/man/man1/wstape.1 share/man/man5/wstape-format.5 \
	share/bash-completion/completions/wstape; do
	[ -f "$P/$f" ] || fail "make install did not install $f"
done
[ "$(readlink "$P/lib/libwstape.so.1")" = libwstape.so.1.1.0 ] || fail "libwstape.so.1 -> $(readlink "$P/lib/libwstape.so.1")"
[ "$(readlink "$P/lib/libwstape.so")" = libwstape.so.1 ] || fail "libwstape.so -> $(readlink "$P/lib/libwstape.so")"
for c in $($WSTAPE --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
	[ -f "$P/share/man/man1/wstape-$c.1" ] || fail "no man page wstape-$c.1 installed"
done
readelf -d "$P/lib/libwstape.so.1.1.0" | grep -q 'Library soname: \[libwstape.so.1\]' ||
	fail "soname: $(readelf -d "$P/lib/libwstape.so.1.1.0" | grep -i soname)"
grep -qx 'prefix=/usr/local' "$P/lib/pkgconfig/wstape.pc" || fail "wstape.pc: $(cat "$P/lib/pkgconfig/wstape.pc")"
grep -qx "Version: $($WSTAPE --version | cut -d' ' -f2)" "$P/lib/pkgconfig/wstape.pc" || fail "wstape.pc's Version is not wstape --version's"

# exports: the functions the installed headers declare, exactly
$PY - "$P/include/wstape" > "$T/declared" <<'PY' || fail "reading the headers"
import re, sys, glob
names = set()
for h in glob.glob(sys.argv[1] + "/*.h"):
    text = re.sub(r"/\*.*?\*/", "", open(h).read(), flags=re.S)
    text = re.sub(r"^#.*$", "", text, flags=re.M)
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", text):
        if re.match(r"(journal|wstape)_", m.group(1)):
            names.add(m.group(1))
print("\n".join(sorted(names)))
PY
[ "$(wc -l < "$T/declared")" -ge 25 ] || fail "found only $(wc -l < "$T/declared") functions in the headers"
nm -D --defined-only "$P/lib/libwstape.so.1.1.0" | awk '$2 ~ /^[TWDBRV]$/ {sub(/@.*/, "", $3); print $3}' | sort -u > "$T/exported"
diff "$T/declared" "$T/exported" > "$T/diff" || fail "libwstape.so exports other than the headers declare (< declared, > exported): $(cat "$T/diff")"
nm -g --defined-only "$P/lib/libwstape.a" | awk 'NF == 3 {print $3}' | sort -u > "$T/exported_a"
diff "$T/declared" "$T/exported_a" > "$T/diff" || fail "libwstape.a defines other globals than the headers declare: $(cat "$T/diff")"

# the headers alone, as C99 and as C++
printf '#include <wstape/journal.h>\n#include <wstape/version.h>\nint main(void) { return journal_strerror(0) == 0; }\n' > "$T/h.c"
cc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$P/include" "$T/h.c" 2> "$T/cc.err" ||
	fail "the headers as C99: $(cat "$T/cc.err")"
cp "$T/h.c" "$T/h.cc"
c++ -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$P/include" "$T/h.cc" 2> "$T/cc.err" ||
	fail "the headers as C++: $(cat "$T/cc.err")"

# pkg-config alone: the DESTDIR tree as the sysroot, so that the installed wstape.pc, which
# says /usr/local, is used as it is (the sysroot also prefixes lmdb's and zstd's system
# paths, harmlessly: the compiler searches its own)
EXFLAGS="-std=c99 -pedantic -Wall -Wextra -Werror"
export PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$R
FLAGS=$(pkg-config --cflags --libs wstape) || fail "pkg-config --cflags --libs wstape"
[[ $FLAGS == *"-I$P/include"* && $FLAGS == *"-L$P/lib"* && $FLAGS == *-lwstape* ]] || fail "pkg-config gives '$FLAGS'"
cc $EXFLAGS -o "$T/channel_counts" "$SRC/examples/channel_counts.c" $FLAGS 2> "$T/cc.err" || fail "building the example: $(cat "$T/cc.err")"
readelf -d "$T/channel_counts" | grep -q 'Shared library: \[libwstape.so.1\]' || fail "the example does not use libwstape.so.1"
export LD_LIBRARY_PATH=$P/lib

$WSTAPE import "$FIX/hydromancer.jsonl" -o "$T/h" --feed hydromancer 2> "$T/imp.err" || fail "import: $(cat "$T/imp.err")"
"$T/channel_counts" "$T/h" > "$T/counts" 2> "$T/err" || fail "channel_counts exited $?: $(cat "$T/err")"
$WSTAPE cat "$T/h" | $PY -c '
import base64, json, sys
counts, tot = {}, [0, 0]
for line in sys.stdin:
    r = json.loads(line)
    ch = r.get("channel") or "-"
    p = r["payload"].encode("utf-8", "surrogateescape") if "payload" in r else base64.b64decode(r["payload_b64"])
    c = counts.setdefault(ch, [0, 0])
    c[0] += 1; c[1] += len(p); tot[0] += 1; tot[1] += len(p)
print("# channel\trecords\tpayload_bytes")
for ch, (n, b) in counts.items():
    print(f"{ch}\t{n}\t{b}")
print(f"total\t{tot[0]}\t{tot[1]}")' > "$T/expect" || fail "counting wstape cat's records"
diff "$T/expect" "$T/counts" > "$T/diff" || fail "channel_counts differs from wstape cat (< cat, > example): $(cat "$T/diff")"
[ "$(grep -c . "$T/counts")" -ge 4 ] || fail "the fixture should have several channels: $(cat "$T/counts")"

# the README's example, as it is there, in a main(), on the journal as "day"
$PY - "$SRC/README.md" > "$T/readme.c" <<'PY' || fail "no C example in the README's 'As a library'"
import sys
lines = open(sys.argv[1]).read().split("\n")
a = lines.index("    struct journal *j;")
b = lines.index("    journal_close(j);", a)
print("#include <stdio.h>\n#include <wstape/journal.h>\nint main(void)\n{")
print("\n".join(l[4:] for l in lines[a:b + 1]))
print("\treturn 0;\n}")
PY
cc $EXFLAGS -o "$T/readme" "$T/readme.c" $FLAGS 2> "$T/cc.err" || fail "the README's example does not build: $(cat "$T/cc.err")"
mkdir "$T/rd" && ln -s "$T/h" "$T/rd/day"
(cd "$T/rd" && "$T/readme") > "$T/readme.out" 2> "$T/err" || fail "the README's example exited $?: $(cat "$T/err")"
[ "$(wc -l < "$T/readme.out")" = "$($WSTAPE cat "$T/h" | wc -l)" ] || fail "the README's example printed $(wc -l < "$T/readme.out") lines"
(cd "$T/empty" 2>/dev/null || { mkdir -p "$T/empty" && cd "$T/empty"; }; "$T/readme") 2> "$T/err"
[ $? = 2 ] && grep -q "cannot open journal 'day'" "$T/err" || fail "the README's example without a journal: $(cat "$T/err")"

# --static: libwstape.a with its private dependencies, no libwstape.so needed
SFLAGS=$(pkg-config --static --cflags --libs wstape) || fail "pkg-config --static"
[[ $SFLAGS == *-llmdb* && $SFLAGS == *-lzstd* ]] || fail "pkg-config --static --libs gives '$SFLAGS' (no lmdb, zstd)"
cc -static -o "$T/channel_counts_static" "$SRC/examples/channel_counts.c" $SFLAGS 2> "$T/cc.err" ||
	fail "static link: $(cat "$T/cc.err")"
readelf -d "$T/channel_counts_static" 2>/dev/null | grep -q NEEDED && fail "the static example still needs shared libraries"
env -u LD_LIBRARY_PATH "$T/channel_counts_static" "$T/h" > "$T/counts_static" || fail "the static example exited $?"
cmp -s "$T/counts" "$T/counts_static" || fail "the static example counts otherwise"

# the example's errors
expect_exit 2 "$T/channel_counts" 2> "$T/err"
grep -q usage "$T/err" || fail "no usage from channel_counts without arguments"
mkdir -p "$T/empty"
expect_exit 2 "$T/channel_counts" "$T/empty" 2> "$T/err"
grep -q "cannot open journal '$T/empty'" "$T/err" || fail "channel_counts on a non-journal said: $(cat "$T/err")"
cp -r "$T/h" "$T/bad"
seg=$(ls "$T/bad"/seg-*.wst | head -1)
printf 'XXXXXXXX' | dd of="$seg" bs=1 seek=200 conv=notrunc status=none
expect_exit 1 "$T/channel_counts" "$T/bad" > "$T/out" 2> "$T/err"
grep -q "segment 1 at offset" "$T/err" || fail "channel_counts on a corrupt block said: $(cat "$T/err")"
[ -s "$T/out" ] && fail "channel_counts printed counts of a corrupt journal"

# a writer linked to the .so makes a journal wstape accepts
cc $EXFLAGS -o "$T/write_journal" "$SRC/examples/write_journal.c" $FLAGS 2> "$T/cc.err" || fail "building write_journal: $(cat "$T/cc.err")"
"$T/write_journal" "$T/w" 5000 > "$T/out" 2> "$T/err" || fail "write_journal exited $?: $(cat "$T/err")"
$WSTAPE verify "$T/w" > "$T/verify" 2>&1 || fail "wstape verify of the written journal: $(cat "$T/verify")"
grep -q '^ok: 5000 records' "$T/verify" || fail "verify: $(cat "$T/verify")"
[ "$($WSTAPE cat "$T/w" --limit 1 --from-record 5000 | jq -r .payload)" = '{"n":5000}' ] || fail "record 5000 is not {\"n\":5000}"
printf '# channel\trecords\tpayload_bytes\ndemo\t5000\t%s\ntotal\t5000\t%s\n' 48893 48893 > "$T/expect"
"$T/channel_counts" "$T/w" | diff "$T/expect" - > "$T/diff" || fail "channel_counts of the written journal: $(cat "$T/diff")"
expect_exit 3 "$T/write_journal" "$T/w" 2> "$T/err"
grep -q "cannot create journal '$T/w'" "$T/err" || fail "write_journal on an existing journal said: $(cat "$T/err")"

# a program that ignores SIGCHLD (its children reaped by the kernel): the index check in
# a forked child still gives its verdict, the index is not taken for damaged
cat > "$T/sigchld.c" <<'C'
#include <signal.h>
#include <stdio.h>
#include <wstape/journal.h>
int main(int argc, char **argv)
{
	struct journal *j;
	struct journal_stats st;
	struct journal_recovery rec;
	signal(SIGCHLD, SIG_IGN);
	if (argc != 2 || journal_open(argv[1], JOURNAL_RDONLY, NULL, &j, NULL) || journal_stats(j, &st))
		return 2;
	printf("reader damaged=%d\n", st.index_damaged);
	journal_close(j);
	if (journal_open(argv[1], JOURNAL_APPEND, NULL, &j, &rec))
		return 2;
	printf("writer damaged=%d reindexed=%d\n", rec.index_damaged, rec.reindexed);
	return journal_close(j) ? 2 : 0;
}
C
cc $EXFLAGS -D_POSIX_C_SOURCE=200809L -o "$T/sigchld" "$T/sigchld.c" $FLAGS 2> "$T/cc.err" || fail "building sigchld.c: $(cat "$T/cc.err")"
out=$("$T/sigchld" "$T/h") || fail "sigchld.c exited $?"
[ "$out" = $'reader damaged=0\nwriter damaged=0 reindexed=0' ] || fail "with SIGCHLD ignored: $out"

# C++, and the version at run time is the one wstape prints
cat > "$T/v.cc" <<'CC'
#include <cstdio>
#include <wstape/journal.h>
#include <wstape/version.h>
int main() {
	std::printf("wstape %s %s %d.%d.%d %s\n", wstape_version(), WSTAPE_VERSION_STRING, WSTAPE_VERSION_MAJOR,
		    WSTAPE_VERSION_MINOR, WSTAPE_VERSION_PATCH, journal_kind_name(JOURNAL_TEXT));
}
CC
c++ -o "$T/v" "$T/v.cc" $FLAGS 2> "$T/cc.err" || fail "a C++ program with the library: $(cat "$T/cc.err")"
v=$($WSTAPE --version | cut -d' ' -f2)
[ "$("$T/v")" = "wstape $v $v $v text" ] || fail "C++: '$("$T/v")', wstape --version: $v"

# other directories, and uninstall
R2=$T/root2
mk install DESTDIR="$R2" PREFIX=/opt/ws LIBDIR=/opt/ws/lib64 INCLUDEDIR=/opt/ws/inc MANDIR=/opt/ws/man \
	BASHCOMPDIR=/opt/ws/compl > "$T/install.log" 2>&1 || fail "make install with directories: $(tail -5 "$T/install.log")"
for f in lib64/libwstape.so.1.1.0 lib64/libwstape.a lib64/pkgconfig/wstape.pc inc/wstape/journal.h man/man1/wstape.1 \
	man/man5/wstape-format.5 compl/wstape bin/wstape; do
	[ -e "$R2/opt/ws/$f" ] || fail "LIBDIR/INCLUDEDIR/MANDIR: no $f"
done
grep -qx 'libdir=${prefix}/lib64' "$R2/opt/ws/lib64/pkgconfig/wstape.pc" || fail "libdir in wstape.pc: $(cat "$R2/opt/ws/lib64/pkgconfig/wstape.pc")"
grep -qx 'includedir=${prefix}/inc' "$R2/opt/ws/lib64/pkgconfig/wstape.pc" || fail "includedir in wstape.pc"
mk uninstall DESTDIR="$R2" PREFIX=/opt/ws LIBDIR=/opt/ws/lib64 INCLUDEDIR=/opt/ws/inc MANDIR=/opt/ws/man \
	BASHCOMPDIR=/opt/ws/compl > "$T/install.log" 2>&1 || fail "make uninstall: $(tail -5 "$T/install.log")"
left=$(find "$R2" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "t28 ok"
