#!/usr/bin/env python3
# Per module, every finit_module call of a coldplug trace (scripts/coldplug/init): when each caller
# entered and returned, relative to the first caller's entry, with its result, and when the module
# was loaded (module_load) and freed (module_free). Shows which duplicates came during the first
# load (EEXIST/EBUSY) and which came after it and ran their own attempt (a second ENODEV).
# usage: load-spans.py LOGDIR/cN-sK/data.log [MODULE ...]   (default: the modules tried >1 time)
import re, sys, collections, os
ERR = {0: 'ok', 17: 'EEXIST', 16: 'EBUSY', 19: 'ENODEV'}
line_rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')
last_ko, open_call = {}, {}
calls = collections.defaultdict(list)       # module -> [(enter, exit, ret, pid)]
marks = collections.defaultdict(list)       # module -> [(t, 'load'|'free')]
for line in open(sys.argv[1], errors='replace'):
    m = line_rx.match(line)
    if not m: continue
    comm, pid, cpu, t, rest = m.groups(); t = float(t)
    if rest.startswith('open:') and '.ko' in rest:
        p = re.search(r'path="([^"]+)"', rest).group(1)
        last_ko[pid] = os.path.basename(p).split('.ko')[0].replace('-', '_')
    elif rest.startswith(('sys_finit_module(', 'sys_init_module(')):
        open_call[pid] = (t, last_ko.get(pid, '?'))
    elif rest.startswith(('sys_finit_module ->', 'sys_init_module ->')) and pid in open_call:
        t0, mod = open_call.pop(pid)
        v = int(rest.split('->')[1], 16)
        ret = 0 if v == 0 else (1 << 64) - v
        calls[mod].append((t0, t, ERR.get(ret, '-%d' % ret), pid))
    elif rest.startswith(('module_load:', 'module_free:')):
        kind, name = rest.split(':', 1)
        marks[name.split()[0]].append((t, kind[7:]))
mods = sys.argv[2:] or sorted(m for m in calls if len(calls[m]) > 1)
for mod in mods:
    cs = sorted(calls[mod]); t0 = cs[0][0]
    ms = ' '.join('%s@%+.3f' % (k, t - t0) for t, k in marks.get(mod, []))
    print('%s: %d calls, first enters %.3f s; %s' % (mod, len(cs), t0, ms))
    for a, b, r, pid in cs:
        print('   pid %-5s enter %+8.3f  return %+8.3f  %s' % (pid, a - t0, b - t0, r))
