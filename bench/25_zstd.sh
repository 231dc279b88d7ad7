#!/usr/bin/env bash
# 25_zstd.sh - the journal's compression levers: zstd level (1, 2, 3, and the fast levels -1
# and -3), block size (64 KiB to 4 MiB; 64-128 KiB is what flush_ms seals on a feed of about
# 1 MB/s) and a 64 KiB dictionary trained on the first 4 MiB of records (ZDICT_trainFromBuffer),
# each measured by bench/zstd_bench.c with libzstd on the records encoded as the writer
# encodes them, beside `zstd -3` of the same payloads as JSON lines, on two corpora: the
# journal bench's allFills records (bench/journal_bench.c: random hashes, users and sizes)
# and the inspect bench's Hydromancer allFills stream (bench/inspect_gen.c: one coin, sequential
# ids). One thread, so MB/s is per CPU (MB of payload per CPU second); stored bytes count the
# 64-byte block headers and the dictionary (stored once). The journal format is not changed.
# ZSTD_BYTES (default 32000000) of payload per corpus; ZSTD_REPEAT (default 2) passes, the least
# CPU kept. The dictionary's bytes weigh more the smaller the corpus: below ~32 MB they make
# the dictionary rows look worse than a journal of segments of 256 MiB would see them.
set -u
: "${BUILD:=build}"
PY=/usr/bin/python3
BYTES=${ZSTD_BYTES:-32000000}
D=$(mktemp -d "${TMPDIR:-/tmp}/wstape-bench-zstd.XXXXXX")
trap 'rm -rf "$D"' EXIT

# corpus NAME JOURNAL: zstd_bench's rows, then `zstd -3` of the same JSON lines (whole
# process CPU, compress and decompress), into $D/NAME.rows
corpus() {
	"$BUILD/bench/zstd_bench" "$2" "$BYTES" "$D/$1.jsonl" "${ZSTD_REPEAT:-2}" > "$D/$1.rows" || return 1
	read -r _ c _ < <($PY bench/measure.py zstd -3 -q -f "$D/$1.jsonl" -o "$D/$1.jsonl.zst")
	read -r _ dc _ < <($PY bench/measure.py zstd -dc -q "$D/$1.jsonl.zst")
	echo "cli $(stat -c %s "$D/$1.jsonl") $(stat -c %s "$D/$1.jsonl.zst") $c $dc" >> "$D/$1.rows"
	rm -f "$D/$1.jsonl" "$D/$1.jsonl.zst"
}
n=$(( BYTES / 850 + 1 ))
mkdir -p "$D/jb"
"$BUILD/bench/journal_bench" "$D/jb" "$n" > /dev/null || { echo "journal_bench failed"; exit 1; }
rm -f "$D/jb/records.jsonl"
"$BUILD/bench/inspect_gen" "$D/hy" "$BYTES" > /dev/null || { echo "inspect_gen failed"; exit 1; }
corpus journal "$D/jb/j" && corpus hydromancer "$D/hy" || { echo "zstd_bench failed"; exit 1; }
rm -rf "$D/jb" "$D/hy"

$PY - "$D" "$(nproc)" <<'PY'
import sys
d, ncpu = sys.argv[1], sys.argv[2]
names = {"journal": "journal bench allFills (bench/journal_bench.c, ~860 B records, random hashes)",
         "hydromancer": "Hydromancer allFills stream (bench/inspect_gen.c, ~1.1 KB records, one coin)"}
def label(n):
    if n == "lines_level3":
        return "libzstd level 3 of the JSON lines, 1 frame"
    lv, bb = n.split("_")[0], n.split("_")[-1]
    lv = "level " + lv[5:]
    return "%s, %s blocks%s" % (lv, bb.replace("KiB", " KiB").replace("MiB", " MiB"),
                                 " + dictionary" if "_dict_" in n else "") + (" (today)" if n == "level1_1MiB" else "")
TARGET = 1.10
res = {}
for c in ("journal", "hydromancer"):
    rows, train = [], None
    for line in open("%s/%s.rows" % (d, c)):
        f = line.split()
        if f[0] == "row":
            rows.append(dict(name=f[1], payload=int(f[5]), stored=int(f[6]), cpu=float(f[7]), dcpu=float(f[8]),
                             blocks=int(f[9]), recs=int(f[10])))
        elif f[0] == "train":
            train = (int(f[1]), int(f[2]), float(f[3]))
        elif f[0] == "cli":
            cli = dict(name="zstd -3 of the JSON lines (the CLI)", payload=int(f[1]), stored=int(f[2]),
                       cpu=float(f[3]), dcpu=float(f[4]))
    p = rows[0]["payload"]
    print("%s: %.1f MB of payload, %d records" % (names[c], p / 1e6, rows[0]["recs"]))
    print("  %-44s %9s %7s %9s %8s %11s %10s  %s" % ("choice", "stored", "ratio", "compress", "CPU us", "speed vs", "decompress", "target <= 1.10x"))
    print("  %-44s %9s %7s %9s %8s %11s %10s  %s" % ("", "vs zstd-3", "", "MB/s/CPU", "per 1 KB", "lib lvl 3", "MB/s/CPU", "zstd -3 bytes"))
    # speed beside libzstd level 3 of the same lines (same library, same thread CPU: the CLI's
    # figure also holds its own reading and writing)
    lib = [r for r in rows if r["name"] == "lines_level3"][0]
    cli_mbps = lib["payload"] / lib["cpu"] / 1e6
    for r in [cli] + rows:
        rel = r["stored"] / cli["stored"]
        mbps = r["payload"] / r["cpu"] / 1e6
        r["rel"] = rel
        print("  %-44s %8.3fx %6.2fx %9.0f %8.2f %10.2fx %10.0f  %s" % (
            label(r["name"]) if r is not cli else r["name"], rel, r["payload"] / r["stored"], mbps,
            r["cpu"] * 1e6 / (r["payload"] / 1000), mbps / cli_mbps, r["payload"] / r["dcpu"] / 1e6,
            "" if r is cli else ("met" if rel <= TARGET else "NOT MET")))
    if train:
        print("  the dictionary: %d bytes trained on %.1f MB of records in %.2f s CPU (once per journal)" % (
            train[0], train[1] / 1e6, train[2]))
    print("  (CPU: this thread compressing every block, the least of the passes; the zstd -3 CLI: its whole process;")
    print("   speed vs lib lvl 3: compression MB/s per CPU over libzstd level 3's of the same JSON lines)")
    print()
    res[c] = {r["name"]: r for r in rows}

# "speed vs lib lvl 3": compression MB/s per CPU over libzstd level 3's on the same JSON lines
# the recommendation, from the figures above: the least CPU over both corpora among the choices
# that keep within 1.10x of zstd -3 on both, blocks of at most 1 MiB (a seek decompresses one
# block, and the writer holds up to 8 of them); then what a dictionary buys
names_ok = [n for n in res["journal"] if "_dict_" not in n and n != "lines_level3" and int(n.split("_")[-1][:-3]) * (1024 if n.endswith("MiB") else 1) <= 1024
            and all(res[c][n]["rel"] <= TARGET for c in res)]
if names_ok:
    best = min(names_ok, key=lambda n: sum(res[c][n]["cpu"] / res[c][n]["payload"] for c in res))
    print("recommendation: %s (least CPU of the choices within %.2fx of zstd -3 on both corpora, blocks <= 1 MiB: %s)" % (
        label(best), TARGET, ", ".join("%.3fx, %.2f us per 1 KB on %s" % (res[c][best]["rel"], res[c][best]["cpu"] * 1e9 / res[c][best]["payload"], c) for c in res)))
else:
    print("recommendation: none of the choices stays within %.2fx of zstd -3 on both corpora" % TARGET)
gains = []
for c in res:
    for n, r in res[c].items():
        if "_dict_" in n:
            plain = res[c].get(n.replace("_dict", ""))
            if plain:
                gains.append((1 - r["stored"] / plain["stored"], c, n))
if gains:
    g = max(gains)
    w = min(gains)
    print("dictionary: at best %.1f%% %s (%s, %s), at worst %.1f%% %s (%s, %s): %s" % (
        100 * abs(g[0]), "larger" if g[0] < 0 else "smaller", label(g[2]), g[1],
        100 * abs(w[0]), "larger" if w[0] < 0 else "smaller", label(w[2]), w[1],
        "worth a format change" if w[0] > 0.05 else "not worth a format change"))
PY
