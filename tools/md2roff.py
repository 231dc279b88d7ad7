#!/usr/bin/python3
"""md2roff.py - a man page from a Markdown document (docs/FORMAT.md -> wstape-format(5))

    /usr/bin/python3 tools/md2roff.py DOC.md NAME SECTION "SOURCE" > NAME.SECTION

Knows what the project's documents use: '#' the title (NAME's line), '##' sections, '###'
subsections, paragraphs, '- ' and '1. ' lists with indented continuation lines, code
blocks indented by four spaces, pipe tables (rendered with tbl: the page starts with the
'\\" t' line that tells man to run it), and inline `code` (bold), *emphasis* (italics),
**strong** (bold) and [text](link) (the text). Anything else is kept as a paragraph.
"""
import re
import sys

import roff

esc, line_start = roff.esc, roff.line_start


def inline(text):
    out = []
    for i, part in enumerate(re.split(r"`([^`]*)`", text)):
        if i % 2:
            code = esc(part)
            if len(part) > 30:  # a long JSON example may break after its commas (\\: breaks, prints nothing)
                code = code.replace(",", ",\\:")
            out.append("\\fB" + code + "\\fR")
            continue
        part = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", part)
        part = esc(part)
        part = re.sub(r"\*\*(\S(?:.*?\S)?)\*\*", r"\\fB\1\\fR", part)
        part = re.sub(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])", r"\\fI\1\\fR", part)
        out.append(part)
    return "".join(out)


def fill(lines):
    return line_start(inline(" ".join(l.strip() for l in lines)))


def table(rows):
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    head, body = cells[0], [r for r in cells[2:]]
    n = len(head)
    out = [".TS", "allbox;", " ".join(["lB"] * n), " ".join(["l"] * (n - 1) + ["lx"]) + "."]
    for r in [head] + body:
        r = (r + [""] * n)[:n]
        out.append("\t".join("T{\n" + line_start(inline(c)) + "\nT}" for c in r))
    out.extend([".TE", ".sp"])
    return out


def convert(md, name, section, source):
    lines = md.split("\n")
    title = None
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*$", line)
        if m:
            level, text = len(m.group(1)), m.group(2)
            if level == 1 and title is None:
                title = text
                out.append(".SH DESCRIPTION")
            elif level <= 2:
                out.append('.SH "' + inline(text.upper()) + '"')
            else:
                out.append('.SS "' + inline(text) + '"')
            i += 1
            continue
        if line.startswith("    "):
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out.extend([".PP", ".RS 4", ".nf"] + [line_start(esc(b)) for b in block] + [".fi", ".RE"])
            continue
        if line.lstrip().startswith("|"):
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(lines[i])
                i += 1
            out.extend(table(rows))
            continue
        m = re.match(r"^(- |\* |(\d+)\. )(.*)$", line)
        if m:
            mark = "\\(bu 2" if m.group(2) is None else m.group(2) + ". 4"
            item = [m.group(3)]
            i += 1
            while i < len(lines) and lines[i].strip() and not re.match(r"^(- |\* |\d+\. |#|\|)", lines[i]):
                item.append(lines[i])
                i += 1
            out.append(".IP " + mark)
            out.append(fill(item))
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not re.match(r"^(#|- |\* |\d+\. |\||    )", lines[i]):
            para.append(lines[i])
            i += 1
        out.append(".PP")
        out.append(fill(para))
    if title is None:
        sys.exit("md2roff: the document has no '# title'")
    head = [
        "'\\\" t",
        f'.\\" {name}.{section}: made by tools/md2roff.py from docs/FORMAT.md; do not edit',
        f'.TH {name.upper()} {section} "{roff.page_date()}" "{source}" "wstape manual"',
        ".nh",
        ".ad l",
        ".SH NAME",
        f"{esc(name)} \\- {inline(title[0].lower() + title[1:])}",
    ]
    tail = [".SH SEE ALSO", "\\fBwstape\\fR(1), \\fBwstape\\-verify\\fR(1), \\fBwstape\\-cat\\fR(1), \\fBwstape\\-import\\fR(1)"]
    return "\n".join(head + out + tail) + "\n"


def main():
    if len(sys.argv) != 5:
        sys.exit('usage: md2roff.py DOC.md NAME SECTION "SOURCE"')
    doc, name, section, source = sys.argv[1:]
    with open(doc, encoding="utf-8") as f:
        sys.stdout.write(convert(f.read(), name, section, source))


if __name__ == "__main__":
    main()
