#!/usr/bin/env bash
# t29_man_completion - the man pages agree with the help texts, and the bash completion
# completes what the binary offers.
# Man pages ($BUILD/man, made by `make man` from --help and docs/FORMAT.md): one per command
# of `wstape --help` and wstape(1); rendered (groff, else the roff source with its escapes
# undone), each page's SYNOPSIS is its --help usage, its NAME line the command's summary in
# `wstape --help`, every --option of the help is in it, and SEE ALSO names every other page;
# wstape-format(5) has every heading of docs/FORMAT.md, and groff renders every page
# without a warning.
# Completion (contrib/bash-completion/wstape, driven through COMP_WORDS/COMP_CWORD): the
# commands; per command the options of its --help; the feeds of replay's help after --feed
# (and --feed=), spec: with the .json files after it (bash's ':' word break and without
# it); journal directories (those with META, else every directory) for JOURNAL and for -o
# with --resume, any directory for a new -o; a|b|c values; files for FILE arguments and
# import's input.
source "$(dirname "$0")/lib.sh"
SRC=$PWD
case $BUILD in /*) MAN=$BUILD/man ;; *) MAN=$SRC/$BUILD/man ;; esac
[ -f "$MAN/wstape.1" ] || fail "no $MAN/wstape.1: make man"

render() { # PAGE -> text on stdout
	if command -v groff > /dev/null; then
		groff -t -man -Tutf8 -rLL=1000n -P-cbou "$1" 2> "$T/groff.err" || fail "groff $1"
		[ -s "$T/groff.err" ] && fail "groff warns on $(basename "$1"): $(head -5 "$T/groff.err")"
		# and at man's usual 80 columns
		groff -t -man -Tutf8 "$1" 2> "$T/groff.err" > /dev/null
		[ -s "$T/groff.err" ] && fail "groff warns on $(basename "$1") at 80 columns: $(head -5 "$T/groff.err")"
	else
		# (the requests dropped, headings at the margin, the text under them indented)
		sed -e '/^\.\(TS\|TE\|nf\|fi\|PP\|TP\|RS\|RE\|nh\|ad\|sp\|IP\)/d' -e '/^\.\\"/d' -e "/^'/d" \
			-e '/^\.\(SH\|SS\|TH\) /!s/^/       /' -e 's/^\.\(SH\|SS\|TH\) //' -e 's/^"\(.*\)"$/\1/' \
			-e 's/^\( *\)T[{}]/\1/' -e 's/\\f[BIR]//g' -e 's/\\(bu/*/g' -e 's/\\\[u[0-9A-F]*\]/?/g' -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/\\&//g' "$1"
	fi
}

$WSTAPE --help > "$T/main.help"
sed -n 's/^  \([a-z][a-z-]*\)  *\(.*\)$/\1\t\2/p' "$T/main.help" > "$T/cmds"
[ "$(wc -l < "$T/cmds")" -ge 7 ] || fail "wstape --help lists $(wc -l < "$T/cmds") commands"
pages="wstape"
while IFS=$'\t' read -r c summary; do pages+=" wstape-$c"; done < "$T/cmds"
for p in $pages; do
	[ -f "$MAN/$p.1" ] || fail "no man page $p.1"
	render "$MAN/$p.1" > "$T/$p.txt"
	if [ "$p" = wstape ]; then $WSTAPE --help > "$T/$p.help"; else $WSTAPE "${p#wstape-}" --help > "$T/$p.help"; fi
	$PY - "$p" "$T/$p.txt" "$T/$p.help" "$T/cmds" "$pages" <<'PY' || fail "man page $p.1 and --help disagree (above)"
import re, sys
page, txt, hlp, cmds, pages = sys.argv[1:]
text, help_ = open(txt).read(), open(hlp).read()
bad = []
def section(name):
    m = re.search(r"^" + name + r"\n(.*?)(?=^\S|\Z)", text, re.S | re.M)
    return m.group(1) if m else None
norm = lambda s: " ".join(s.split())
# SYNOPSIS = the usage lines
usage = [help_.split("\n")[0][len("usage: "):]]
for line in help_.split("\n")[1:]:
    if not line.startswith(" ") or not line.strip():
        break
    usage.append(line)
syn = section("SYNOPSIS")
if syn is None or norm(syn) != norm(" ".join(usage)):
    bad.append(f"SYNOPSIS {syn!r} is not the usage {' '.join(usage)!r}")
# NAME = the summary of wstape --help
summaries = dict(l.rstrip("\n").split("\t", 1) for l in open(cmds))
name = section("NAME")
if page != "wstape":
    want = f"{page} - {summaries[page[len('wstape-'):]]}"
    if name is None or norm(name) != want:
        bad.append(f"NAME {name!r}, wanted {want!r}")
# every option
for opt in sorted(set(re.findall(r"(?<![\w-])--[a-z][\w-]*", help_))):
    if not re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text):
        bad.append(f"{opt} of --help is not in the page")
# SEE ALSO: every other page, and wstape-format(5)
see = section("SEE ALSO") or ""
for other in pages.split() + ["wstape-format"]:
    if other != page and not re.search(r"\b" + re.escape(other) + r"\(\d\)", see):
        bad.append(f"SEE ALSO lacks {other}")
for b in bad:
    print(f"{page}: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
done
# a page on its own section of man's path: man finds it by name
if command -v man > /dev/null; then
	mkdir -p "$T/mp/man1" && cp "$MAN/wstape-cat.1" "$T/mp/man1/"
	MANPATH=$T/mp MANWIDTH=100 man wstape-cat 2>/dev/null | grep -q -- '--from-record' || fail "man does not show wstape-cat from MANPATH"
fi

[ -f "$MAN/wstape-format.5" ] || fail "no wstape-format.5"
render "$MAN/wstape-format.5" > "$T/format.txt"
grep -E '^#+ ' "$SRC/docs/FORMAT.md" | sed -E 's/^#+ +//' > "$T/headings"
[ "$(wc -l < "$T/headings")" -ge 10 ] || fail "FORMAT.md has $(wc -l < "$T/headings") headings?"
while IFS= read -r h; do
	grep -qiF -- "$h" "$T/format.txt" || fail "wstape-format.5 lacks the heading '$h' of FORMAT.md"
done < "$T/headings"
grep -q 'WSTAPESG' "$T/format.txt" || fail "wstape-format.5 lacks the segment header table"

# ---- completion ----
source "$SRC/contrib/bash-completion/wstape"
complete -p wstape | grep -q _wstape || fail "the completion is not registered for wstape"
comp() { # WORDS...: COMPREPLY, sorted, one a line, for the last word
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMPREPLY=()
	_wstape
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}
want() { # EXPECTED-WORDS -- WORDS...: the reply is exactly those words
	local exp=() w
	while [ "$1" != -- ]; do exp+=("$1"); shift; done
	shift
	got=$(comp "$@")
	w=$(printf '%s\n' "${exp[@]}" | sed '/^$/d' | sort)
	[ "$got" = "$w" ] || fail "completing '$*': got [$(echo $got)], wanted [$(echo $w)]"
}
cmds=$(cut -f1 "$T/cmds")
want $cmds help --help --version -- "$WSTAPE" ""
want replay record -- "$WSTAPE" re
want inspect info import -- "$WSTAPE" help i
for c in $cmds; do
	# the options of the help's entries (and --help), nothing else
	opts=$($WSTAPE "$c" --help | grep -E '^ {2,4}-' | sed -E 's/^ +//; s/ {2,}.*//' | grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' |
		sed 's/^[ ,]//' | sort -u)
	want $opts --help -- "$WSTAPE" "$c" -
done
want --from --from-record -- "$WSTAPE" cat j --fr

feeds=$($WSTAPE replay --help | sed -n '/^feeds (server side):/,/^$/p' | sed -n 's/^  \([a-z][a-z0-9_-]*\)  .*/\1/p')
[ "$(echo $feeds)" = "raw hydromancer lasersell" ] || echo "note: the feeds are $(echo $feeds)"
[ -n "$feeds" ] || fail "no feeds in replay --help"
cd "$T" || fail "cd $T"
mkdir -p work/j1 work/j2 work/plain work/sub/j3 work/specs
touch work/j1/META work/j2/META work/sub/j3/META work/a.json work/b.txt work/specs/s.json
cd work || fail "cd"
want $feeds spec: -- "$WSTAPE" replay j1 --feed ""
want hydromancer -- "$WSTAPE" record u -o x --feed h
want hydromancer -- "$WSTAPE" record u -o x --feed = h
want hydromancer -- "$WSTAPE" record u -o x --feed=h
want spec: -- "$WSTAPE" import in.jsonl -o x --feed sp
# bash splits "spec:a" into spec : a (':' is in COMP_WORDBREAKS) and replaces only the "a"
want a.json -- "$WSTAPE" inspect j1 --feed spec : a
want specs -- "$WSTAPE" inspect j1 --feed spec : sp
want specs/s.json -- "$WSTAPE" inspect j1 --feed spec : specs/
COMP_WORDBREAKS=${COMP_WORDBREAKS//:/}
want spec:a.json -- "$WSTAPE" inspect j1 --feed spec:a
want spec:a.json -- "$WSTAPE" inspect j1 --feed=spec:a
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
# journals: the directories with META, else every directory
for c in replay inspect cat info verify; do
	want j1 j2 -- "$WSTAPE" "$c" ""
done
want plain -- "$WSTAPE" info p
want sub/j3 -- "$WSTAPE" verify sub/
want j1 j2 -- "$WSTAPE" record u --resume -o ""
want j1 j2 -- "$WSTAPE" import x.jsonl --append -o ""
want j1 j2 plain specs sub -- "$WSTAPE" record u -o ""
want j1 j2 plain specs sub -- "$WSTAPE" import x.jsonl --output ""
# values and files
want always interval never -- "$WSTAPE" record u -o x --fsync ""
want a.json -- "$WSTAPE" replay j1 --tls-cert a
want b.txt -- "$WSTAPE" import b
want -- "$WSTAPE" record ""
want -- "$WSTAPE" cat j1 --limit ""
want -- "$WSTAPE" nosuchcommand ""
echo "t29 ok"
