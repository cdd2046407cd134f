#!/usr/bin/env python3
# The -EBUSY duplicates of the modules whose init fails (the per-CPU drivers of a TCG guest), from
# a coldplug trace (scripts/coldplug/init): a caller whose last vmalloc (layout_and_allocate, just
# before add_unformed_module's same-name check) comes before the failing loader's module_load made
# its check while the module was COMING, so it slept on module_wq. The loader's own
# wake_up_all(&module_wq) comes after free_module (after module_free); a sleeper that returns
# before that was woken by another module's wake_up_all while the failed module was GOING.
# usage: going-waiters.py LOGDIR/cN-sK/data.log ...
import re, sys, collections
FAILING = {'acpi_cpufreq', 'pcc_cpufreq', 'intel_cstate', 'intel_uncore', 'intel_uncore_frequency', 'skx_edac'}
EBUSY = (1 << 64) - 16
rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')
tot = collections.Counter()
for path in sys.argv[1:]:
    last, open_, va = {}, {}, {}
    calls, marks = collections.defaultdict(list), collections.defaultdict(list)
    for line in open(path, errors='replace'):
        m = rx.match(line)
        if not m: continue
        pid, t, rest = m.group(2), float(m.group(4)), m.group(5)
        if rest.startswith('open:') and '.ko' in rest:
            last[pid] = re.search(r'/([^/]+)\.ko', rest).group(1).replace('-', '_')
        elif rest.startswith('sys_finit_module('):
            open_[pid] = (t, last.get(pid)); va[pid] = []
        elif rest.startswith('valloc:') and pid in open_:
            va[pid].append(t)
        elif rest.startswith('sys_finit_module ->') and pid in open_:
            t0, mod = open_.pop(pid)
            calls[mod].append((t0, t, int(rest.split('->')[1], 16), va.pop(pid)))
        elif rest.startswith(('module_load:', 'module_free:')):
            marks[rest.split(':', 1)[1].split()[0]].append(t)
    for mod in FAILING:
        if len(marks[mod]) < 2: continue
        load, free = marks[mod][0], marks[mod][1]
        for enter, ret_t, ret, vs in calls[mod]:
            # file copy + 2 module regions allocated: it reached the same-name check
            if ret == EBUSY and len(vs) >= 3 and vs[-1] < load:
                tot['slept on module_wq (checked before module_load)'] += 1
                if ret_t < free: tot['of them returned before module_free'] += 1
for k, v in tot.items(): print('%-50s %d' % (k, v))
