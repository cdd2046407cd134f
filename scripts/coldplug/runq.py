#!/usr/bin/env python3
# Who is runnable among udev's tasks (comm ~ *udev*: systemd-udevd, (udev-worker), udevadm) on the
# real guest, from a coldplug trace taken with kml.spans=1 (scripts/coldplug/init), the real side of
# sim-runq.mjs. A task is runnable from its sched_waking (or a switch-out with prev_state R, a
# preemption) to its next switch-in, running until its switch-out, else asleep. Over the coldplug
# (first finit enter -> last finit exit): the time-weighted distribution of runnable udev tasks
# (running + waiting for a CPU), and the udev tasks' CPU time by what they were in: finit (split
# into do_one_initcall and the rest) or outside it (userspace: rules, udevd's event loop, other
# syscalls), per task kind. Blind spots: a new task's first wake (wake_up_new_task) is not traced,
# so it counts from its first switch-in; non-udev tasks (kthreads, modprobe) are not counted.
# With --from-trigger the window starts at udevadm's first switch-in instead (trigger before the loads).
# usage: runq.py [--from-trigger] LOGDIR/cN-sK/data.log ...
import re, sys, collections
rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')
kv = re.compile(r'(\w+)=(\S+)')
def kind(comm): return 'udevd' if comm == 'systemd-udevd' else 'worker' if 'worker' in comm else comm
args = sys.argv[1:]
fromtrig = '--from-trigger' in args
for path in [a for a in args if a != '--from-trigger']:
    ev = []
    for l in open(path, errors='replace'):
        m = rx.match(l)
        if m: ev.append((float(m.group(4)), m.group(1), int(m.group(2)), int(m.group(3)), m.group(5)))
    ev.sort(key=lambda e: e[0])
    fe = [t for t, c, p, cpu, b in ev if b.startswith('sys_finit_module(')]
    fx = [t for t, c, p, cpu, b in ev if b.startswith('sys_finit_module -> ')]
    T0, T1 = min(fe), max(fx)
    if fromtrig: T0 = min(t for t, c, p, cpu, b in ev if 'next_comm=udevadm' in b)
    state = {}  # pid -> 'R' (waiting), 'X' (on cpu), 'S'
    comm = {}; where = {}  # pid -> 'user' | 'finit' | 'init'
    hist = collections.Counter(); histq = collections.Counter()
    cpu_by = collections.Counter(); ncpu_tasks = collections.Counter()
    last = T0; waits = []; wstart = {}; BINS = 10; bins = [0.0] * BINS
    cause = {}; over = [0.0]; rwhere = collections.Counter()
    def tally(t):
        global last
        a, b = max(last, T0), min(t, T1)
        if b > a:
            run = [p for p, s in state.items() if s in 'RX']
            hist[len(run)] += b - a
            for i in range(BINS):
                b0, b1 = T0 + i * (T1 - T0) / BINS, T0 + (i + 1) * (T1 - T0) / BINS
                o = min(b, b1) - max(a, b0)
                if o > 0: bins[i] += len(run) * o / (b1 - b0)
            histq[sum(1 for p in run if state[p] == 'R')] += b - a
            if len(run) > 2:
                over[0] += b - a
                for p in run: rwhere[(kind(comm[p]), where.get(p, 'user'))] += b - a
            for p in run:
                if state[p] == 'X': cpu_by[(kind(comm[p]), where.get(p, 'user'))] += b - a
        last = t
    for t, c, pid, cpu, body in ev:
        tally(t)
        if 'udev' in c: comm.setdefault(pid, c)
        if body.startswith('sys_finit_module('): where[pid] = 'finit'
        elif body.startswith('sys_finit_module -> '): where[pid] = 'user'
        elif body.startswith('do_one_initcall_in'): where[pid] = 'init'
        elif body.startswith('do_one_initcall_out'): where[pid] = 'finit'
        elif body.startswith('sched_waking:'):
            f = dict(kv.findall(body)); p = int(f['pid']); comm[p] = f['comm']
            if state.get(p) != 'X':
                if state.get(p) != 'R': wstart[p] = t; cause[p] = 'wake'
                state[p] = 'R'
        elif body.startswith('sched_switch:'):
            f = dict(kv.findall(body.replace(' ==> ', ' ')))
            pp, np_ = int(f['prev_pid']), int(f['next_pid'])
            if 'udev' in f['prev_comm']:
                comm[pp] = f['prev_comm']
                state[pp] = 'R' if f['prev_state'].startswith('R') else 'S'
                if state[pp] == 'R': wstart[pp] = t; cause[pp] = 'preempt'
            if 'udev' in f['next_comm']:
                comm[np_] = f['next_comm']
                if pp != np_ and np_ in wstart and T0 <= t <= T1: waits.append((t - wstart.pop(np_), kind(f['next_comm']), cause.get(np_)))
                state[np_] = 'X'
    tally(T1)
    span = T1 - T0
    print(f'{path}: {"udevadm first on CPU" if fromtrig else "first finit enter"} -> last finit exit: {span*1e3:.0f} ms')
    print('  mean runnable per tenth of it: ' + ' '.join(f'{x:.1f}' for x in bins))
    mean = sum(k * v for k, v in hist.items()) / span
    meanq = sum(k * v for k, v in histq.items()) / span
    cum, med = 0, None
    for k in sorted(hist):
        cum += hist[k]
        if med is None and cum >= span / 2: med = k
    print('  runnable udev tasks (running + waiting), % of time: ' + ', '.join(f'{k}: {100*hist[k]/span:.1f}' for k in sorted(hist)))
    print(f'  mean runnable {mean:.2f}, median {med}; waiting for a CPU: mean {meanq:.2f}, ' + ', '.join(f'{k}: {100*histq[k]/span:.1f}' for k in sorted(histq)))
    groups = collections.defaultdict(list)
    for w, k, c in waits: groups['all'].append(w); groups[f'{k} after {c}'].append(w)
    for g, ws in sorted(groups.items(), key=lambda x: -len(x[1])):
        ws.sort()
        print(f'  {g} -> on CPU: n {len(ws)}, median {ws[len(ws)//2]*1e3:.2f} ms, p90 {ws[int(len(ws)*.9)]*1e3:.2f} ms, mean {sum(ws)/len(ws)*1e3:.2f} ms')
    print(f'  while more than 2 are runnable ({100*over[0]/span:.0f} % of the time), mean runnable by task/where: ' + ', '.join(f'{k[0]}/{k[1]} {v/over[0]:.2f}' for k, v in rwhere.most_common()))
    print(f'  distinct workers seen: {len({p for p, c in comm.items() if "worker" in c})}')
    tot = sum(cpu_by.values())
    print(f'  udev tasks on CPU {tot*1e3:.0f} ms : ' + ', '.join(f'{k[0]}/{k[1]} {v*1e3:.0f}' for k, v in cpu_by.most_common()))
