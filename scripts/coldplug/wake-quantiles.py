#!/usr/bin/env python3
# The wake -> run latency of the tasks the trace's sched events cover (udev's workers, in a
# kml.spans=1 coldplug trace): sched_waking of a task asleep in S or D -> the sched_switch that runs
# it; per vCPU count over the boots given, n, median, quartiles, max (ms), and its quantiles at 0, 5,
# 10, ... 95, 99 and 100 % in ns as machine-profile JSON (timings.mutexWakeQuantilesNs, kernel/main.ts).
# usage: wake-quantiles.py LOGDIR/cN-sK/data.log ...
import re, sys, collections, statistics as st, json
rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')
kv = re.compile(r'(\w+)=(\S+)')
lat = collections.defaultdict(list)
for path in sys.argv[1:]:
    cpus, off, woken = None, {}, {}
    for line in open(path, errors='replace'):
        if line.startswith('KML-FACT cpus '): cpus = int(line.split()[2]); continue
        m = rx.match(line)
        if not m: continue
        pid, t, body = int(m.group(2)), float(m.group(4)), m.group(5)
        ev, _, rest = body.partition(': ')
        if ev == 'sched_switch':
            a = dict(kv.findall(rest.replace(' ==> ', ' ')))
            pp, np_ = int(a['prev_pid']), int(a['next_pid'])
            if pp != 0: off[pp] = a['prev_state']
            if np_ != 0 and np_ in off:
                state = off.pop(np_); w = woken.pop(np_, None)
                if state in ('S', 'D') and w is not None and cpus is not None: lat[cpus].append(t - w)
        elif ev == 'sched_waking':
            wp = int(dict(kv.findall(rest))['pid'])
            if wp in off and off[wp] in ('S', 'D') and wp not in woken: woken[wp] = t
for n in sorted(lat):
    v = sorted(lat[n]); q4 = st.quantiles(v, n=4); c = st.quantiles(v, n=100, method='inclusive')
    pts = [v[0]] + [c[i - 1] for i in range(5, 100, 5)] + [c[98], v[-1]]
    print('%2d vCPUs: n %d, median %.3f ms (quartiles %.3f-%.3f), max %.1f' % (n, len(v), st.median(v) * 1e3, q4[0] * 1e3, q4[2] * 1e3, v[-1] * 1e3))
    print('   "mutexWakeQuantilesNs": %s' % json.dumps([round(d * 1e9) for d in pts]))
