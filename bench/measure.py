#!/usr/bin/python3
"""measure.py [-o FILE] [-c TRACE] CMD... - run a command; print "wall_s cpu_s rss_first_kib
rss_mid_kib rss_last_kib rss_max_kib rc" for it: the whole process, start-up to exit (CPU =
user + system of the command and its children; RSS sampled from /proc every 0.2 s). The
command's standard output goes to FILE (-o), else nowhere. -c TRACE: the command's CPU
(user + system of all its threads, /proc/PID/stat) sampled every 10 ms into TRACE, a line
"mono_ns cpu_ns" each (CLOCK_MONOTONIC, as the journal's mono_ns), so that its CPU over a
window of its run can be read off (bench/30_record.sh, cpu_at())."""
import os, resource, subprocess, sys, time

args = sys.argv[1:]
out = subprocess.DEVNULL
trace = None
while args[:1] in (["-o"], ["-c"]):
    if args[0] == "-o":
        out = open(args[1], "w")
    else:
        trace = open(args[1], "w")
    args = args[2:]
tick_ns = 1e9 / os.sysconf("SC_CLK_TCK")
t0 = time.monotonic()
p = subprocess.Popen(args, stdout=out)
rss = []
period = 0.01 if trace else 0.2
n = 0
while p.poll() is None:
    try:
        if trace:
            with open("/proc/%d/stat" % p.pid) as f:
                st = f.read()
            now = time.monotonic_ns()
            # fields after the command name (which may hold spaces): utime is field 14
            fl = st[st.rindex(")") + 2:].split()
            trace.write("%d %d\n" % (now, (int(fl[11]) + int(fl[12])) * tick_ns))
        if n % int(0.2 / period) == 0:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss.append(int(line.split()[1]))
    except (OSError, ValueError, IndexError):
        pass
    n += 1
    time.sleep(period)
wall = time.monotonic() - t0
if trace:
    trace.close()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = rss or [0]
print("%.6f %.6f %d %d %d %d %d" % (wall, ru.ru_utime + ru.ru_stime, rss[0], rss[len(rss) // 2], rss[-1], max(rss), p.returncode))
