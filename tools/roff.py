"""roff.py - what help2roff.py and md2roff.py share: escaping text for roff, and the date a
page carries (SOURCE_DATE_EPOCH, else the last commit's time, else now: the same tree
makes the same pages)."""
import os
import subprocess
import time

MONTHS = "January February March April May June July August September October November December".split()


def esc(text):
    """Text for roff: backslashes, hyphens (\\- stays ASCII), and any other character than
    ASCII as its Unicode escape (troff reads bytes)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)


def line_start(text):
    """A line of output must not start with '.' or "'" (roff requests)."""
    return "\\&" + text if text[:1] in (".", "'") else text


def page_date():
    """'Month YEAR' for a page's .TH line."""
    t = os.environ.get("SOURCE_DATE_EPOCH")
    if t is None:
        r = subprocess.run(["git", "log", "-1", "--format=%ct"], capture_output=True, text=True)
        t = r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None
    tm = time.gmtime(int(t)) if t else time.gmtime()
    return f"{MONTHS[tm.tm_mon - 1]} {tm.tm_year}"
