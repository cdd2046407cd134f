#!/usr/bin/env python3
# Who takes the CPU from udev's loading workers, and what it costs them, from a coldplug trace taken
# with kml.spans=1 (scripts/coldplug/init). sched_switch is traced only where prev or next is a
# udev task, so a non-udev task's time on a CPU is seen as the gap between a udev->X and the next
# X'->udev switch on that CPU (exact when X' = X: a "clean" single run; else an upper bound).
# Part 1, per boot, over the coldplug (first finit enter -> last finit exit): those gaps by task
# class (rcu_preempt, ksoftirqd, kworker, idle): count, total and per second, the clean runs'
# median, how many preempted a runnable worker inside finit, how many start inside a worker's
# synchronize_rcu span, and per udev synchronize_rcu span the rcu_preempt CPU seen in it.
# Part 2: per preemptor of a runnable finit worker, how long the worker then waited for a CPU,
# how much of that was the preemptor's own first slice, and who ran after it (self = back directly).
# usage: rcu-cpu.py LOGDIR/cN-sK/data.log ...
import re, sys, collections
rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')
kv = re.compile(r'(\w+)=(\S+)')
def cls(c):
    if c.startswith('rcu_'): return 'rcu_preempt'
    if c.startswith('ksoftirqd'): return 'ksoftirqd'
    if c.startswith('kworker'): return 'kworker'
    if c.startswith('swapper'): return 'idle'
    return c
for path in sys.argv[1:]:
    lines = open(path, errors='replace').read().splitlines()
    ev = []
    for l in lines:
        m = rx.match(l)
        if m: ev.append((float(m.group(4)), m.group(1), int(m.group(2)), int(m.group(3)), m.group(5)))
    fin = {}; first = last = None; infinit = {}
    sync = {}; spans = []
    pend = {}  # cpu -> (t, next_comm, prev_pid, prev_state, prev in finit)
    runs = collections.defaultdict(list)  # class -> (dur, cpu, t, clean, preempted_finit_worker)
    for t, comm, pid, cpu, body in ev:
        if body.startswith('sys_finit_module('):
            infinit[pid] = t; first = t if first is None else first
        elif body.startswith('sys_finit_module -> '):
            infinit.pop(pid, None); last = t
        elif body.startswith('synchronize_rcu_in'): sync[pid] = (t, cpu)
        elif body.startswith('synchronize_rcu_out') and pid in sync:
            s, c = sync.pop(pid); spans.append((s, t, pid, c))
        elif body.startswith('sched_switch:'):
            d = dict(kv.findall(body))
            pc, nc = d['prev_comm'], d['next_comm']
            pu, nu = 'udev' in pc, 'udev' in nc
            if pu and not nu:
                pend[cpu] = (t, nc, int(d['prev_pid']), d['prev_state'], int(d['prev_pid']) in infinit)
            elif nu and not pu and cpu in pend:
                s, who, ppid, pst, pf = pend.pop(cpu)
                runs[cls(who)].append((t - s, cpu, s, who == pc, pst.startswith('R') and pf))
            elif pu and nu: pend.pop(cpu, None)
    win = last - first
    print('%s: coldplug (first finit enter -> last exit) %.3f s, %d synchronize_rcu spans in udev workers' % (path, win, len(spans)))
    sp = sorted(d for s, e, p, c in spans for d in [e - s])
    if sp: print('  synchronize_rcu span: median %.1f ms, min %.1f max %.1f, total %.3f s' % (sp[len(sp)//2]*1e3, sp[0]*1e3, sp[-1]*1e3, sum(sp)))
    for k in ('rcu_preempt', 'ksoftirqd', 'kworker', 'idle'):
        r = runs.get(k, [])
        if not r: continue
        inwin = [x for x in r if first <= x[2] <= last]
        tot = sum(x[0] for x in inwin); clean = [x for x in inwin if x[3]]
        pre = [x for x in inwin if x[4]]
        insync = [x for x in inwin if any(s <= x[2] <= e for s, e, p, c in spans)]
        # on the sync caller's own vCPU?
        ds = sorted(x[0] for x in clean)
        print('  %-11s in window: %d gaps, %.3f s (%.1f ms/s); clean single runs %d, median %.3f ms, max %.3f; preempting an R finit worker %d (%.3f s); starting inside a synchronize_rcu span %d (%.3f s); per cpu %s'
              % (k, len(inwin), tot, tot / win * 1e3, len(clean), (ds[len(ds)//2]*1e3 if ds else 0), (ds[-1]*1e3 if ds else 0),
                 len(pre), sum(x[0] for x in pre), len(insync), sum(x[0] for x in insync),
                 dict(collections.Counter(x[1] for x in inwin))))
    # rcu_preempt time per sync span: runs starting inside each span
    r = runs.get('rcu_preempt', [])
    per = []
    for s, e, p, c in spans:
        xs = [x for x in r if s <= x[2] <= e]
        per.append((len(xs), sum(x[0] for x in xs), sum(1 for x in xs if x[1] == c)))
    if per:
        ss = sorted(x[1] for x in per)
        print("  rcu_preempt per udev synchronize_rcu span: %.2f runs seen (mean), their CPU median %.3f ms, mean %.3f ms; on the caller's vCPU %d of %d runs" % (sum(x[0] for x in per)/len(per), ss[len(ss)//2]*1e3, sum(ss)/len(ss)*1e3, sum(x[2] for x in per), sum(x[0] for x in per)))

# ---- part 2
import sys as _s; _s.stdout.flush()
import re, sys, collections
rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')
kv = re.compile(r'(\w+)=(\S+)')
tot = collections.defaultdict(lambda: [0, 0.0, 0.0, 0, collections.Counter()])
for path in sys.argv[1:]:
    ev = []
    for l in open(path, errors='replace'):
        m = rx.match(l)
        if m: ev.append((float(m.group(4)), m.group(1), int(m.group(2)), int(m.group(3)), m.group(5)))
    infinit = set(); waitR = {}
    out = collections.defaultdict(lambda: [0, 0.0, 0.0, 0, collections.Counter()])
    last = {}  # cpu -> pid of the worker preempted by the last switch on it
    for t, comm, pid, cpu, body in ev:
        if body.startswith('sys_finit_module('): infinit.add(pid)
        elif body.startswith('sys_finit_module -> '): infinit.discard(pid)
        elif body.startswith('sched_switch:'):
            d = dict(kv.findall(body)); pp, np_ = int(d['prev_pid']), int(d['next_pid'])
            lp = last.pop(cpu, None)
            if lp in waitR and waitR[lp][3] is None:
                w = waitR[lp]; w[3] = t - w[0]; w[4] = 'self' if np_ == lp else d['next_comm'].replace('(udev-worker)', 'worker').split('/')[0]
            if pp in infinit and d['prev_state'].startswith('R'):
                waitR[pp] = [t, cpu, d['next_comm'].replace('(udev-worker)', 'worker').split('/')[0], None, None]; last[cpu] = pp
            if np_ in waitR and np_ != pp:
                s, c, who, first, after = waitR.pop(np_)
                for o in (out[who], tot[who]):
                    o[0] += 1; o[1] += t - s; o[2] += first if first is not None else t - s; o[3] += after == 'self'; o[4][after or '-'] += 1
    print(path)
    for who, o in sorted(out.items(), key=lambda x: -x[1][1])[:6]:
        print('  preempted by %-14s n %3d, waited %.3f s, preemptor\'s first slice %.3f s; back directly %d; then %s' % (who, o[0], o[1], o[2], o[3], dict(o[4].most_common(4))))
print('all')
for who, o in sorted(tot.items(), key=lambda x: -x[1][1])[:6]:
    print('  preempted by %-14s n %3d, waited %.3f s, preemptor\'s first slice %.3f s; back directly %d; then %s' % (who, o[0], o[1], o[2], o[3], dict(o[4].most_common(5))))
