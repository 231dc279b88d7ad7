#!/usr/bin/python3
"""help2roff.py - the man pages of wstape, made from its own --help texts

    /usr/bin/python3 tools/help2roff.py WSTAPE OUTDIR

Writes OUTDIR/wstape.1 from `WSTAPE --help` and OUTDIR/wstape-CMD.1 from `WSTAPE CMD --help`
for every command that `WSTAPE --help` lists, so that a page says what --help says and a
new command gets its page. The help texts are read as they are written:

  usage: ...            the first line and the indented lines under it: SYNOPSIS
  text                  a line at the left margin: a paragraph (blank lines part them);
                        one that starts with "Exit codes:"/"Exit status:" begins EXIT STATUS,
                        one after the options NOTES
  heading:              a short line at the margin ending in ':' and followed by an indented
                        line: "options:"/"commands:" begin OPTIONS/COMMANDS, others a subsection
    -o, --opt ARG  text an indented option (or an indented word, two spaces, text): an entry,
        more text       continued by the more indented lines under it
    anything else       indented lines that are no entry: kept as they are (an example)
"""
import os
import re
import subprocess
import sys

import roff

PROG = "wstape"
NAME = "record WebSocket feeds to a journal and replay them"
DESCRIPTION = (
    "wstape records WebSocket feeds, every frame in both directions with its receive time, "
    "channel and cursor, to a journal: a directory of zstd-compressed segment files indexed "
    "in LMDB (wstape-format(5)). It replays a journal as a paced mock WebSocket server, "
    "inspects it for gaps, duplicates, disconnects and timing, prints it as JSON lines and "
    "imports JSON lines back. Each command is described in its own page, wstape-COMMAND(1), "
    "and by `wstape COMMAND --help`."
)


def esc(text):
    """Text for roff (roff.esc), not taken for a request at the start of a line."""
    return roff.line_start(roff.esc(text))


def inline(text):
    """Running text: `code` in bold."""
    out, parts = [], re.split(r"`([^`]*)`", text)
    for i, p in enumerate(parts):
        out.append("\\fB" + esc(p) + "\\fR" if i % 2 else esc(p))
    return "".join(out)


def entry_head(head):
    """An entry's head: the options in bold, their arguments in italics."""
    out = []
    for tok in re.split(r"(\s+|,\s*|\|)", head):
        if not tok:
            continue
        if re.match(r"^-{1,2}[A-Za-z]", tok):
            name, eq, arg = tok.partition("=")
            out.append("\\fB" + esc(name) + "\\fR" + (esc(eq) + "\\fI" + esc(arg) + "\\fR" if eq else ""))
        elif re.match(r"^[\s,|]+$", tok):
            out.append(esc(tok))
        else:
            out.append("\\fI" + esc(tok) + "\\fR")
    return "".join(out)


def help_text(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        sys.exit(f"help2roff: `{binary} {' '.join(args)}` exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def split_usage(text):
    """(the usage lines without 'usage: ', the rest of the lines)"""
    lines = text.rstrip("\n").split("\n")
    if not lines[0].startswith("usage: "):
        sys.exit(f"help2roff: the help does not start with 'usage: ': {lines[0]!r}")
    usage, i = [lines[0][len("usage: "):]], 1
    while i < len(lines) and lines[i].startswith(" ") and lines[i].strip():
        usage.append(lines[i][len("usage: "):] if lines[i].startswith(" " * 7) else lines[i].strip())
        i += 1
    return usage, lines[i:]


ENTRY = re.compile(r"^  (-\S.*?|\S+)(?: {2,}(\S.*))?$")


def body(lines):
    """roff for the lines after the usage: DESCRIPTION, OPTIONS, ..., EXIT STATUS"""
    out = [".SH DESCRIPTION"]
    para = []  # the running paragraph's lines
    in_entry = False
    pre = []  # indented lines kept as they are

    def flush():
        nonlocal para, pre
        if para:
            out.append(".PP")
            out.append(inline(" ".join(para)))
            para = []
        if pre:
            out.extend([".PP", ".RS 2", ".nf"] + [esc(l) for l in pre] + [".fi", ".RE"])
            pre = []

    section = "DESCRIPTION"
    for n, line in enumerate(lines):
        nxt = lines[n + 1] if n + 1 < len(lines) else ""
        if not line.strip():
            flush()
            in_entry = False
            continue
        if not line.startswith(" "):
            in_entry = False
            if re.match(r"^[Ee]xit (codes|status)\b", line) and section != "EXIT STATUS":
                flush()
                out.append(".SH EXIT STATUS")
                section = "EXIT STATUS"
            elif line.endswith(":") and len(line) < 40 and nxt.startswith("  "):
                flush()
                title = line[:-1]
                if title.lower() in ("options", "commands"):
                    section = title.upper()
                    out.append(".SH " + section)
                else:
                    if section not in ("OPTIONS", "COMMANDS"):
                        section = "OPTIONS"
                        out.append(".SH OPTIONS")
                    out.append('.SS "' + esc(title[:1].upper() + title[1:]) + '"')
                continue
            if pre:
                flush()
            if not para and section in ("OPTIONS", "COMMANDS"):
                flush()
                section = "NOTES"
                out.append(".SH NOTES")
            para.append(line)
            continue
        m = ENTRY.match(line)
        if m and (m.group(2) or m.group(1).startswith("-")):
            flush()
            if section not in ("OPTIONS", "COMMANDS", "EXIT STATUS"):
                section = "OPTIONS"
                out.append(".SH OPTIONS")
            out.append(".TP")
            out.append(entry_head(m.group(1)))
            if m.group(2):
                out.append(inline(m.group(2)))
            in_entry = True
            continue
        if in_entry and re.match(r"^ {4,}\S", line):
            out.append(inline(line.strip()))
            continue
        if para:
            flush()
        pre.append(line[2:] if line.startswith("  ") else line)
    flush()
    return out


def page(name, section, version, date, summary, synopsis, lines, see_also):
    out = [
        f'.\\" {name}.{section}: made by tools/help2roff.py from `{name.replace("-", " ")} --help`; do not edit',
        f'.TH {name.upper()} {section} "{date}" "{version}" "wstape manual"',
        ".nh",
        ".ad l",
        ".SH NAME",
        f"{esc(name)} \\- {esc(summary)}",
        ".SH SYNOPSIS",
        ".nf",
    ]
    for i, u in enumerate(synopsis):
        if i == 0 and u.startswith(name.replace("-", " ")):
            cmd = name.replace("-", " ")
            out.append("\\fB" + esc(cmd) + "\\fR" + esc(u[len(cmd):]))
        else:
            out.append(esc(u))
    out.append(".fi")
    out.extend(lines)
    out.append(".SH SEE ALSO")
    out.append(",\n".join(f"\\fB{esc(p)}\\fR({s})" for p, s in see_also if p != name))
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: help2roff.py WSTAPE OUTDIR")
    binary, outdir = sys.argv[1:]
    version = help_text(binary, "--version").strip()
    date = roff.page_date()

    main_help = help_text(binary, "--help")
    usage, rest = split_usage(main_help)
    commands = []  # (name, summary)
    in_cmds = False
    for line in rest:
        if line.strip() == "commands:":
            in_cmds = True
        elif in_cmds and (m := re.match(r"^  ([a-z][\w-]*) {2,}(\S.*)$", line)):
            commands.append((m.group(1), m.group(2)))
        elif in_cmds and not line.strip():
            in_cmds = False
    if not commands:
        sys.exit("help2roff: `wstape --help` lists no commands under 'commands:'")
    see_also = [(PROG, 1)] + [(f"{PROG}-{c}", 1) for c, _ in commands] + [(f"{PROG}-format", 5)]

    lines = body(rest)
    lines[1:1] = [".PP", inline(DESCRIPTION)]
    pages = {f"{PROG}.1": page(PROG, 1, version, date, NAME, usage, lines, see_also)}
    for c, summary in commands:
        usage, rest = split_usage(help_text(binary, c, "--help"))
        pages[f"{PROG}-{c}.1"] = page(f"{PROG}-{c}", 1, version, date, summary, usage, body(rest), see_also)
    for fname, text in pages.items():
        with open(os.path.join(outdir, fname), "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
