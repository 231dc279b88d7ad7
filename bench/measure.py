#!/usr/bin/python3
"""measure.py CMD... - run a command; print "wall_s cpu_s rss_first_kib rss_mid_kib rss_last_kib
rss_max_kib" for it (CPU = user + system of the command and its children; RSS sampled from
/proc every 0.2 s)."""
import os, resource, subprocess, sys, time

t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
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
