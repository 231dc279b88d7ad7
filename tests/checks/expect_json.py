#!/usr/bin/python3
"""expect_json.py - does a Python expression hold of a JSON document?

usage: expect_json.py FILE EXPRESSION      (FILE - reads standard input)

EXPRESSION is evaluated with the document as `j` and, when it is an object, each of its
top-level keys as a name too (`len(frames) == 5 and close == 1006` on a replay_client.py
result); `json` is there for payloads that are JSON text. Asserts that it is true: when it
is not (or raises), prints the expression and the value of each document name it uses, and
exits 1.
"""
import json
import sys

path, expr = sys.argv[1], sys.argv[2]
doc = json.load(sys.stdin if path == "-" else open(path))
names = {"j": doc, "json": json}
if isinstance(doc, dict):
    names.update(doc)
code = compile(expr, "EXPRESSION", "eval")
try:
    ok = eval(code, names)
    why = ""
except Exception as e:   # a missing key or index: the document is not what was expected
    ok, why = False, " (%s: %s)" % (type(e).__name__, e)
if not ok:
    used = [n for n in sorted(set(code.co_names)) if n in names and n != "json"]
    def show(v):
        s = json.dumps(v)
        s = s if len(s) <= 200 else s[:200] + "..."
        return s + (" (%d items)" % len(v) if isinstance(v, (list, dict)) else "")
    shown = ", ".join("%s=%s" % (n, show(names[n])) for n in used)
    sys.exit("%s: %s does not hold%s: %s" % (path, expr, why, shown))
