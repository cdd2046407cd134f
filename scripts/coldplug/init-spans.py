#!/usr/bin/env python3
# A failing init's GOING window, from the kml/do_one_initcall and kml/synchronize_rcu spans of a
# coldplug trace (scripts/coldplug/init): per module whose init failed, module_load → module_free
# of the loader, split into the init function (do_one_initcall) and the grace period
# (synchronize_rcu) inside it; and every synchronize_rcu span of udev's workers.
# usage: init-spans.py LOGDIR/cN-sK/data.log ...
import re, sys, statistics as st, collections
rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')
def ms(v): return round(v * 1e3, 1)
for path in sys.argv[1:]:
    open_ = {}; spans = collections.defaultdict(list); loads = {}; rows = []
    for line in open(path, errors='replace'):
        m = rx.match(line)
        if not m: continue
        pid, t, rest = m.group(2), float(m.group(4)), m.group(5)
        ev = rest.split(':', 1)[0]
        if ev in ('do_one_initcall_in', 'synchronize_rcu_in'):
            open_[(pid, ev[:-3])] = t
        elif ev in ('do_one_initcall_out', 'synchronize_rcu_out') and (pid, ev[:-4]) in open_:
            spans[pid].append((ev[:-4], open_.pop((pid, ev[:-4])), t))
        elif ev == 'module_load':
            loads[rest.split(':', 1)[1].split()[0]] = (pid, t)
        elif ev == 'module_free':
            name = rest.split(':', 1)[1].split()[0]
            if name in loads:
                p, t0 = loads.pop(name)
                inside = [(f, a, b) for f, a, b in spans[p] if a >= t0 and b <= t]
                init = sum(b - a for f, a, b in inside if f == 'do_one_initcall')
                rcu = sum(b - a for f, a, b in inside if f == 'synchronize_rcu')
                rows.append((name, t - t0, init, rcu))
    allrcu = sorted(b - a for v in spans.values() for f, a, b in v if f == 'synchronize_rcu')
    print(path)
    for name, w, i, r in rows:
        print('  %-24s module_load→module_free %7.1f ms  init %7.1f  synchronize_rcu %7.1f  rest %6.1f' % (name, ms(w), ms(i), ms(r), ms(w - i - r)))
    if allrcu:
        print('  synchronize_rcu in udev workers: n %d, median %.1f ms, min %.1f, max %.1f' % (len(allrcu), ms(st.median(allrcu)), ms(allrcu[0]), ms(allrcu[-1])))
