#!/usr/bin/python3
"""measure.py [-o FILE] CMD... - run a command; print "wall_s cpu_s rss_first_kib rss_mid_kib
rss_last_kib rss_max_kib rc" for it: the whole process, start-up to exit (CPU = user + system
of the command and its children; RSS sampled from /proc every 0.2 s). The command's standard
output goes to FILE (-o), else nowhere."""
import os, resource, subprocess, sys, time

args = sys.argv[1:]
out = subprocess.DEVNULL
if args[:1] == ["-o"]:
    out = open(args[1], "w")
    args = args[2:]
t0 = time.monotonic()
p = subprocess.Popen(args, stdout=out)
rss = []
while p.poll() is None:
    try:
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss.append(int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.2)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = rss or [0]
print("%.6f %.6f %d %d %d %d %d" % (wall, ru.ru_utime + ru.ru_stime, rss[0], rss[len(rss) // 2], rss[-1], max(rss), p.returncode))
