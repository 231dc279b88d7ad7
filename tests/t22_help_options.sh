# t22_help_options - every option a command parses is in its --help, with its default when
# it takes a value; and --help lists no option that the command does not parse.
# The options are read from the code (cmd/NAME.c: the cmd/opts.h tables, cmd_opt, OPT, strcmp
# on argv, getopt_long tables; for record also the feeds' own options, feeds/*_client.c), so an option added
# without its help line fails here.
source tests/lib.sh
SRC=$PWD/cmd
for c in record replay inspect cat info verify import stream pull; do
	$WSTAPE "$c" --help >"$T/$c.help" 2>&1 || fail "wstape $c --help exited $?"
	[ -s "$T/$c.help" ] || fail "wstape $c --help printed nothing"
done
$PY - "$SRC" "$T" <<'PYEOF' || fail "help texts and parsed options disagree (above)"
import re, sys
src, tmp = sys.argv[1:]
bad = []
for cmd in ["record", "replay", "inspect", "cat", "info", "verify", "import", "stream", "pull"]:
    code = open(f"{src}/{cmd}.c").read()
    parsed = {}   # option -> True (takes a value), False (a flag), None (unknown from the code)
    for m in re.finditer(r'cmd_opt\(argc, argv, &i, "(-[\w-]+)"', code):
        parsed[m.group(1)] = True
    for m in re.finditer(r'\bOPT\("(-[\w-]+)"\)', code):
        parsed[m.group(1)] = True
    for m in re.finditer(r'strcmp\((?:argv\[i\]|a), "(-[\w-]+)"\)', code):
        parsed.setdefault(m.group(1), None)
    for m in re.finditer(r'\{ "([\w-]+)", (required|no|optional)_argument', code):
        parsed["--" + m.group(1)] = m.group(2) == "required"
    # cmd/opts.h tables: CMD_KIND("--name", "-alias", ...); flags and counts take no value
    for m in re.finditer(r'CMD_(FLAG|COUNT|STR|U64|SIZE|TIME|DURATION|FN)\("(-[\w-]+)"(?:, "(-[\w-]+)")?', code):
        for opt in (m.group(2), m.group(3)):
            if opt:
                parsed[opt] = m.group(1) not in ("FLAG", "COUNT")
    if cmd == "record":
        # a feed's own options are declared by its client half (struct feed_client_opt)
        import glob
        for f in glob.glob(f"{src}/../feeds/*_client.c"):
            for m in re.finditer(r'\.name = "(--[\w-]+)"', open(f).read()):
                parsed[m.group(1)] = True
    # and any other string that is an option by itself (strncmp, a table, another variable's
    # name), outside the usage text (lines that continue a string literal)
    body = "\n".join(l for l in code.splitlines() if not re.match(r'^\s*"', l))
    for m in re.finditer(r'"(--[a-z][\w-]*|-[a-zA-Z])"', body):
        parsed.setdefault(m.group(1), None)
    if not parsed:
        bad.append(f"{cmd}: no option found in cmd/{cmd}.c (has the parsing changed?)")
    # help entries: an indented line that starts with an option, then its continuation lines
    entries, cur = [], None
    for line in open(f"{tmp}/{cmd}.help").read().splitlines():
        m = re.match(r'^ {2,}(-\S.*?)(?: {2,}(.*))?$', line)
        if m:
            cur = [m.group(1), m.group(2) or ""]
            entries.append(cur)
        elif cur is not None and re.match(r'^ {6,}\S', line):
            cur[1] += " " + line.strip()
        else:
            cur = None
    listed = {}
    for head, text in entries:
        for m in re.finditer(r'(?:^|[\s,|\[])(--?[a-zA-Z][\w-]*)(?:[ =]([^\s,|\]]+))?', head):
            opt, arg = m.group(1), m.group(2)
            listed[opt] = (arg is not None and not arg.startswith("-"), head + " " + text)
    for opt, takes in sorted(parsed.items()):
        if opt in ("-h", "--help"):
            continue
        if opt not in listed:
            bad.append(f"{cmd}: {opt} is parsed but not in 'wstape {cmd} --help'")
            continue
        value, text = listed[opt]
        if takes is None:
            takes = value
        if takes and not re.search(r'\b(default|required)\b', text, re.I):
            bad.append(f"{cmd}: {opt} takes a value but its help gives no default: {text.strip()}")
    for opt in sorted(listed):
        if opt not in parsed and opt not in ("-h", "--help"):
            bad.append(f"{cmd}: 'wstape {cmd} --help' lists {opt}, which the command does not parse")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PYEOF
exit 0
