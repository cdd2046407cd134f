#!/usr/bin/env python3
# The simulator's side of sleepers.py, from sim-phases.mjs output: per failing driver, its first
# loader's init failure (t=0) to that loader's return, when its module_wq sleepers' waits end
# (first, last), how many end at the loader's own wake (its return) and how many calls load it
# again (a second -ENODEV); medians per file.
# usage: node scripts/coldplug/sim-phases.mjs LOGDIR/sim-profile-cN.json N SEED > S.json;
#        sim-sleepers.py S.json ...
import json, sys, statistics as st, collections
FAILING = ('acpi_cpufreq', 'pcc_cpufreq', 'intel_cstate', 'intel_uncore', 'intel_uncore_frequency', 'skx_edac')
def ms(v): return '%.1f' % (v / 1e6)
for path in sys.argv[1:]:
    d = json.load(open(path))
    fail, calls, waits, enter = {}, collections.defaultdict(list), collections.defaultdict(list), {}
    for t, pid, kind, f in d['records']:
        m = f.get('module') or f.get('name')
        if kind == 'init' and f['phase'] == 'end' and f.get('ret', 0) != 0 and m not in fail: fail[m] = (t, pid)
        elif kind == 'finit' and f['phase'] == 'enter': enter[pid] = t
        elif kind == 'finit' and pid in enter: calls[m].append((pid, enter.pop(pid), t, f.get('ret')))
        elif kind == 'wait' and f['on'] == 'module_wq' and f['phase'] == 'end': waits[m].append(t)
    ret, first, last, second, own, woken = [], [], [], 0, 0, 0
    for m in FAILING:
        if m not in fail: continue
        t0, lp = fail[m]
        ret += [b - t0 for p, a, b, r in calls[m] if p == lp and a <= t0 <= b]
        w = sorted(x - t0 for x in waits[m] if x >= t0)
        lr = [b for p, a, b, r in calls[m] if p == lp and a <= t0 <= b]
        woken += len(w)
        own += sum(1 for x in w if lr and x + t0 == lr[0])
        if w: first.append(w[0]); last.append(w[-1])
        second += sum(1 for c in calls[m] if c[3] == -19) - 1
    p = d['point']
    print('%s (%s vCPUs, seed %s): failing loader init failure -> return median %s ms; sleepers\' waits end first %s, last %s ms (medians), %d of %d at the loader\'s own wake; second loads %d'
          % (path, p['cpus'], p['seed'], ms(st.median(ret)), ms(st.median(first)) if first else '-', ms(st.median(last)) if last else '-', own, woken, second))
