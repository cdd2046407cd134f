#!/usr/bin/env python3
# At 2 vCPUs the two cpu workers try the same modules one after the other. Whether the second
# worker's same-name check comes before the failing driver's init fails (it sleeps on module_wq
# and leaves with the loader, in lock-step) or after (GOING: -EBUSY at once, it goes on alone)
# depends on how far behind it enters. Per module and boot, from a kml.spans=1 trace: every
# call's entry and return relative to the first loader's entry, the loader's init failure, and
# how long the caller sat runnable but preempted (sched_switch R/R+ until it ran again) in the
# 20 ms before it entered.
# usage: entry-gaps.py LOGDIR/c2-sK/data.log ...
import re, sys, collections
MODULES = ('acpi_cpufreq', 'pcc_cpufreq', 'intel_cstate', 'intel_uncore', 'intel_uncore_frequency', 'skx_edac',
           'nfit', 'skx_edac_common', 'isst_if_common', 'isst_if_mbox_msr', 'intel_rapl_common')
rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')
def signed(h): v = int(h, 16); return v - (1 << 64) if v >= 1 << 63 else v
for path in sys.argv[1:]:
    last, call, calls, loads, off = {}, {}, collections.defaultdict(list), {}, {}
    pre = collections.defaultdict(list)
    for line in open(path, errors='replace'):
        m = rx.match(line)
        if not m: continue
        p, t, b = int(m.group(2)), float(m.group(4)), m.group(5)
        if b.startswith('open:') and '.ko' in b:
            last[p] = re.search(r'/([^/]+)\.ko', b).group(1).replace('-', '_')
        elif b.startswith('sys_finit_module('):
            call[p] = (last.get(p), t, [])
        elif b.startswith('sys_finit_module -> ') and p in call:
            mod, t0, inits = call.pop(p)
            calls[mod].append((p, t0, t, signed(b.split('-> ')[1]), inits))
        elif b.startswith('module_load:'):
            loads.setdefault(b.split()[1], p)
        elif b.startswith('do_one_initcall_out') and p in call:
            call[p][2].append(t)
        elif b.startswith('sched_switch:'):
            a = dict(re.findall(r'(\w+)=(\S+)', b.replace(' ==> ', ' ')))
            pp, np_ = int(a['prev_pid']), int(a['next_pid'])
            if pp: off[pp] = (t, a['prev_state'])
            if np_ in off:
                t0, state = off.pop(np_)
                if state.startswith('R'): pre[np_].append((t0, t))
    print(path)
    for mod in MODULES:
        if mod not in loads: continue
        cs = sorted(calls[mod], key=lambda c: c[1])
        lc = next(c for c in cs if c[0] == loads[mod])
        init = 'init fails %+.1f ms' % ((lc[4][0] - lc[1]) * 1e3) if lc[3] != 0 and lc[4] else 'init ok'
        row = []
        for p, a, b, r, _ in cs:
            pr = sum(min(y, a) - max(x, a - 0.02) for x, y in pre[p] if y > a - 0.02 and x < a)
            row.append('pid %d in %+.1f, %d at %+.1f, preempted %.1f' % (p, (a - lc[1]) * 1e3, r, (b - lc[1]) * 1e3, pr * 1e3))
        print('  %-22s loader %d, %s; %s' % (mod, lc[0], init, ' | '.join(row)))
