#!/usr/bin/env python3
# What spreads a failing driver's module_wq sleepers, from a coldplug trace taken with kml.spans=1
# (scripts/coldplug/init: sched_waking/sched_switch of udev's workers, module_mutex's lock slow
# path with its call site). In 6.1 a caller that finds the module COMING sleeps on module_wq
# (TASK_INTERRUPTIBLE: sched_switch prev_state=S) until finished_loading() -- which takes
# module_mutex -- sees it GOING; any wake_up_all(&module_wq) wakes it, not only the failing
# loader's own (after free_module). Per failing driver and boot: the loader's init failure (t=0:
# its do_one_initcall return), its module_free and return; per -EBUSY sleeper the wake that ended
# its last sleep (time, waker, the waker's module), the wake -> run latency, its module_mutex waits
# after that wake, when it left (its first vfree after the wake: the copy's free) and returned;
# the second loaders (a later call that loads the driver again, and what it did just before).
# Per boot the module_mutex holds by call site. Per vCPU count: the wake -> run latency of every
# udev-worker wake and of the sleepers, how a sleeper's wake -> departure splits into wake -> run
# and module_mutex waits, whether later arrivals overtake a waiting finished_loading, and how long
# the loading workers sat runnable but preempted inside finit calls, and by whom.
# usage: sleepers.py [--quiet] LOGDIR/cN-sK/data.log ...
import re, sys, collections, statistics as st
FAILING = ('acpi_cpufreq', 'pcc_cpufreq', 'intel_cstate', 'intel_uncore', 'intel_uncore_frequency', 'skx_edac')
EBUSY = -16
rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')
kv = re.compile(r'(\w+)=(\S+)')
quiet = '--quiet' in sys.argv
paths = [a for a in sys.argv[1:] if a != '--quiet']
def ms(v): return '%.1f' % (v * 1e3) if v is not None else '-'
def q(v):
    v = sorted(v)
    if not v: return 'n 0'
    qs = st.quantiles(v, n=4) if len(v) > 1 else [v[0]] * 3
    return 'n %d, median %s ms (quartiles %s-%s), max %s' % (len(v), ms(st.median(v)), ms(qs[0]), ms(qs[2]), ms(v[-1]))
def signed(h): v = int(h, 16); return v - (1 << 64) if v >= 1 << 63 else v

# per vCPU count, over the boots given
lat_all = collections.defaultdict(list)      # wake->run of any udev-worker sleep
lat_idle = collections.defaultdict(list)     # ... where the CPU it ran on was idle before
lat_sleeper = collections.defaultdict(list)  # the final wake->run of each -EBUSY sleeper
mwait_sleeper = collections.defaultdict(list)  # ... its module_mutex waits after that wake
spread = collections.defaultdict(list)       # (first, last departure - the wake) per wake_up_all
ranges = collections.defaultdict(list)       # (spread of the departures, spread of wake->run) per wake_up_all
parts = collections.defaultdict(list)        # (wake->run, mutex waits, wake->left) per sleeper
left_rel = collections.defaultdict(list)     # (first, last departure after the init failure, n) per driver
loader_t = collections.defaultdict(list)     # (init failure -> module_free, -> the loader's return)
hold_sites = collections.defaultdict(lambda: collections.defaultdict(list))  # site -> (hold, in vm_unmap_aliases)
hold_off = collections.defaultdict(lambda: collections.defaultdict(list))    # site -> (hold, unmap, preempted, asleep)
fifo = collections.defaultdict(list)         # (overtakes, queued ahead) per finished_loading wait
over_sites = collections.defaultdict(collections.Counter)  # the overtakers' call sites
n_second, n_boots = collections.Counter(), collections.Counter()
preempt = collections.defaultdict(collections.Counter)  # runnable-but-off-CPU time inside finit calls, by the task run instead
finit_time = collections.Counter()                       # all finit calls' time
for path in paths:
    cpus = None
    last_ko, call, calls = {}, {}, collections.defaultdict(list)
    loads, frees = collections.defaultdict(list), collections.defaultdict(list)
    off = {}        # pid -> (t switched out, state) while asleep / preempted
    woken = {}      # pid -> (t, waker pid) of the first waking since it slept
    mlock = {}      # pid -> t of module_mutex slow-path entry
    initcall = collections.defaultdict(list)  # pid -> do_one_initcall return times
    acqs = []       # contended module_mutex acquires: (t, pid, call site, others still waiting)
    waits = []      # module_mutex slow paths: (entered, acquired, pid, call site)
    unmap_in, unmaps = {}, collections.defaultdict(list)
    offs = collections.defaultdict(list)  # pid -> (switched out, back in, state) intervals
    for line in open(path, errors='replace'):
        if line.startswith('KML-FACT cpus '): cpus = int(line.split()[2]); continue
        m = rx.match(line)
        if not m: continue
        pid, t, body = int(m.group(2)), float(m.group(4)), m.group(5)
        c = call.get(pid)
        if body.startswith('sys_finit_module('):
            call[pid] = {'mod': last_ko.get(pid), 'enter': t, 'ev': [], 'pid': pid}
            continue
        if body.startswith('sys_finit_module -> '):
            if c:
                c['ret_t'] = t; c['ret'] = signed(body.rsplit('-> ', 1)[1].strip())
                calls[c['mod']].append(c); del call[pid]
                if cpus is not None: finit_time[cpus] += t - c['enter']
            continue
        ev, _, rest = body.partition(': ')
        if ev == 'open' and '.ko' in rest:
            last_ko[pid] = re.search(r'/([^/]+)\.ko', rest).group(1).replace('-', '_')
        elif ev == 'module_load': loads[rest.split()[0]].append((t, pid))
        elif ev == 'module_free': frees[rest.split()[0]].append((t, pid))
        elif ev == 'do_one_initcall_out': initcall[pid].append(t)
        elif ev == 'vfree_in' and c: c['ev'].append((t, 'vfree', None))
        elif ev == 'mutex_lock_slowpath_in':
            mlock[pid] = t
        elif ev == 'mutex_lock_slowpath_out' and pid in mlock:
            t0 = mlock.pop(pid); site = re.search(r'\((\w[\w.]*\+0x[0-9a-f]+)', rest)
            site = site.group(1) if site else '?'
            acqs.append((t, pid, site, len(mlock) > 0))
            waits.append((t0, t, pid, site))
            if c: c['ev'].append((t, 'mutex', (t - t0, site)))
        elif ev == 'vm_unmap_aliases_in': unmap_in[pid] = t
        elif ev == 'vm_unmap_aliases_out' and pid in unmap_in: unmaps[pid].append((unmap_in.pop(pid), t))
        elif ev == 'sched_switch':
            a = dict(kv.findall(rest.replace(' ==> ', ' ')))
            pp, np_ = int(a['prev_pid']), int(a['next_pid'])
            if pp != 0:
                off[pp] = (t, a['prev_state'], re.sub(r'[/:]?\d+(:\d+)?$', '', a['next_comm']))
                cc = call.get(pp)
                if cc and a['prev_state'] in ('S', 'D'): cc['ev'].append((t, 'sleep', a['prev_state']))
            if np_ != 0 and np_ in off:
                t_off, state, by = off.pop(np_)
                offs[np_].append((t_off, t, state))
                if state.startswith('R') and np_ in call and cpus is not None: preempt[cpus][by] += t - t_off
                w = woken.pop(np_, None)
                idle = a['prev_comm'].startswith('swapper')
                if state in ('S', 'D') and w is not None and cpus is not None:
                    lat_all[cpus].append(t - w[0])
                    if idle: lat_idle[cpus].append(t - w[0])
                cc = call.get(np_)
                if cc: cc['ev'].append((t, 'run', (w, idle, state, t_off)))
        elif ev == 'sched_waking':
            a = dict(kv.findall(rest)); wp = int(a['pid'])
            if wp in off and off[wp][1] in ('S', 'D') and wp not in woken:
                woken[wp] = (t, pid)
    if cpus is None: cpus = 0
    # which module each pid was loading at time t (for naming wakers)
    spans = collections.defaultdict(list)
    for mod, cs in calls.items():
        for c in cs: spans[c['pid']].append((c['enter'], c['ret_t'], mod))
    def doing(p, t):
        for a, b, mod in spans[p]:
            if a <= t <= b: return mod
        return None
    print('%s (%d vCPUs)' % (path, cpus))
    n_boots[cpus] += 1
    for mod in FAILING:
        if not frees[mod] or not loads[mod]: continue
        t_load, lpid = loads[mod][0]
        t_free = next((t for t, p in frees[mod] if t >= t_load), None)
        fail = next((t for t in initcall[lpid] if t >= t_load), None)
        if fail is None or t_free is None: continue
        lcall = next((c for c in calls[mod] if c['pid'] == lpid and c['enter'] <= t_load <= c['ret_t']), None)
        t_lret = lcall['ret_t'] if lcall else None
        rows = []
        for c in calls[mod]:
            if c['ret'] != EBUSY: continue
            sl = [e for e in c['ev'] if e[1] == 'sleep' and e[2] == 'S']
            if not sl: continue
            runs = [e for e in c['ev'] if e[1] == 'run' and e[2][2] == 'S' and e[0] > sl[-1][0]]
            if not runs: continue
            t_run, (w, idle, _, _) = runs[0][0], runs[0][2]
            after = [e for e in c['ev'] if e[0] >= t_run]
            mw = [e[2] for e in after if e[1] == 'mutex' and e[2][1].split('+')[0] in ('finished_loading', 'load_module')]
            vf = next((e[0] for e in after if e[1] == 'vfree'), c['ret_t'])
            rows.append((c, sl, w, t_run, idle, mw, vf))
            if w is not None:
                lat_sleeper[cpus].append(t_run - w[0])
                mwait_sleeper[cpus].append(sum(d for d, s in mw))
        lefts = sorted(r[6] - fail for r in rows)
        print('  %s: loader pid %d, init failed t=0 (%.4f s), module_free +%s ms, loader returned +%s ms; %d sleepers%s'
              % (mod, lpid, fail, ms(t_free - fail), ms(t_lret - fail if t_lret else None), len(rows),
                 ', left +%s .. +%s ms' % (ms(lefts[0]), ms(lefts[-1])) if lefts else ''))
        if lefts: left_rel[cpus].append((lefts[0], lefts[-1], len(lefts)))
        groups, runs_g = collections.defaultdict(list), collections.defaultdict(list)
        for c, sl, w, t_run, idle, mw, vf in sorted(rows, key=lambda r: r[6]):
            wk = '-'
            if w is not None:
                wm = doing(w[1], w[0])
                wk = '%s by %d%s' % (ms(w[0] - fail), w[1], ' (%s%s)' % (wm, ', its loader' if w[1] == lpid else '') if wm else '')
                groups[(w[1], round(w[0], 2))].append((w[0], vf))
                runs_g[(w[1], round(w[0], 2))].append(t_run - w[0])
                parts[cpus].append((t_run - w[0], sum(d for d, s_ in mw), vf - w[0]))
            if not quiet:
                print('    pid %-4d slept %-6s x%d  woken %-38s ran +%-6s%s mutex %-14s left %-7s returned %s'
                      % (c['pid'], ms(sl[0][0] - fail), len(sl), wk, ms(t_run - w[0]) if w else '-', ' idle' if idle else '     ',
                         '+'.join('%s' % ms(d) for d, s in mw) or '-', ms(vf - fail), ms(c['ret_t'] - fail)))
        for (wp, _), g in groups.items():
            if len(g) > 1:
                spread[cpus].append((min(v for _, v in g) - g[0][0], max(v for _, v in g) - g[0][0]))
                rg = runs_g[(wp, _)]
                ranges[cpus].append((max(v for _, v in g) - min(v for _, v in g), max(rg) - min(rg)))
        loader_t[cpus].append((t_free - fail, t_lret - fail if t_lret else None))
        # a second loader: a later call that itself loaded the driver again (module_load in its
        # span) -- it made its same-name check once the first loader's free_module had unlinked it
        for c in calls[mod]:
            if c['pid'] == lpid and c is lcall: continue
            again = [t for t, p in loads[mod] if p == c['pid'] and c['enter'] <= t <= c['ret_t']]
            if not again: continue
            prev = sorted((a, b, mm) for a, b, mm in spans[c['pid']] if b < c['enter'])
            pc = next((x for x in calls[prev[-1][2]] if x['pid'] == c['pid'] and x['ret_t'] == prev[-1][1]), None) if prev else None
            n_second[cpus] += 1
            print('    second loader pid %d: entered +%s ms, module_load +%s (first loader: free +%s, returned +%s), returned %d at +%s; before: %s'
                  % (c['pid'], ms(c['enter'] - fail), ms(again[0] - fail), ms(t_free - fail), ms(t_lret - fail if t_lret else None),
                     c['ret'], ms(c['ret_t'] - fail),
                     '%s returned %d %s ms before' % (prev[-1][2], pc['ret'], ms(c['enter'] - prev[-1][1])) if pc else 'nothing'))
    # is the lock FIFO? per finished_loading wait of 10 ms or more: the slow paths that entered
    # after it and got the lock before it (overtakes: a spinning or newly woken task taking the
    # lock ahead of a sleeping waiter), and those that entered before it and got it during it
    for t0, t1, p, site in waits:
        if not site.startswith('finished_loading') or t1 - t0 < 0.01: continue
        over = [w for w in waits if w[0] > t0 and w[1] < t1]
        ahead = [w for w in waits if w[0] < t0 and t0 < w[1] < t1]
        fifo[cpus].append((len(over), len(ahead)))
        for w in over: over_sites[cpus][w[3].split('+')[0] + '+' + w[3].split('+')[1]] += 1
    # module_mutex holds, exact where they can be: a task that takes the lock contended while
    # others still wait on it holds it until the next contended acquire (with waiters queued the
    # unlock cannot go unseen: no fast-path acquire while the waiters flag is set). By the call
    # site the holder took it at (the return address of its lock slow path)
    holds = []
    for (ta, p, site, others), (tb, p2, _, _) in zip(acqs, acqs[1:]):
        if others and p2 != p:
            un = sum(min(b, tb) - max(a, ta) for a, b in unmaps[p] if b > ta and a < tb)
            pre = sum(min(b, tb) - max(a, ta) for a, b, st_ in offs[p] if b > ta and a < tb and st_.startswith('R'))
            blk = sum(min(b, tb) - max(a, ta) for a, b, st_ in offs[p] if b > ta and a < tb and not st_.startswith('R'))
            holds.append((ta, tb, p, site, (un, pre, blk)))
    if holds:
        by = collections.defaultdict(list)
        for ta, tb, p, site, un in holds: by[site].append((tb - ta, un[0]))
        for ta, tb, p, site, un in holds: hold_off[cpus][site].append((tb - ta,) + un)
        print('  module_mutex holds (contended acquire with waiters queued -> the next contended acquire), by call site:')
        for site, v in sorted(by.items(), key=lambda kv_: -sum(d for d, u in kv_[1])):
            print('    %-28s n %4d  total %7s ms  median %6s  max %7s  of it in vm_unmap_aliases %s%%'
                  % (site, len(v), ms(sum(d for d, u in v)), ms(st.median(d for d, u in v)), ms(max(d for d, u in v)),
                     round(100 * sum(u for d, u in v) / max(1e-9, sum(d for d, u in v)))))
            hold_sites[cpus][site].extend(v)
print('\nwake -> run latency of udev workers (sched_waking -> sched_switch in, after an S or D sleep):')
for n in sorted(lat_all):
    print('  %2d vCPUs all wakes: %s' % (n, q(lat_all[n])))
    print('  %2d vCPUs onto an idle CPU: %s' % (n, q(lat_idle[n])))
    print('  %2d vCPUs -EBUSY sleepers, the last wake: %s' % (n, q(lat_sleeper[n])))
    print('  %2d vCPUs -EBUSY sleepers, their module_mutex waits after it: %s' % (n, q(mwait_sleeper[n])))
    if spread[n]:
        print('  %2d vCPUs sleepers woken by one wake_up_all: first left +%s ms, last +%s ms after it (median over %d wakes)'
              % (n, ms(st.median(a for a, b in spread[n])), ms(st.median(b for a, b in spread[n])), len(spread[n])))
    for site, v in sorted(hold_sites[n].items(), key=lambda kv_: -sum(d for d, u in kv_[1]))[:4]:
        print('  %2d vCPUs module_mutex holds at %s: %s; %d%% of their time in vm_unmap_aliases'
              % (n, site, q([d for d, u in v]), round(100 * sum(u for d, u in v) / max(1e-9, sum(d for d, u in v)))))
    print('  %2d vCPUs second loaders of a failing driver: %d in %d boots' % (n, n_second[n], n_boots[n]))
    if parts[n]:
        a, b, c_ = (sum(x[i] for x in parts[n]) for i in range(3))
        print('  %2d vCPUs wake -> left, summed over the sleepers: %s ms = wake->run %d%% + module_mutex waits %d%% + the rest %d%%'
              % (n, ms(c_), round(100 * a / c_), round(100 * b / c_), round(100 * (c_ - a - b) / c_)))
    if ranges[n]:
        print('  %2d vCPUs per wake_up_all: departures spread over %s ms, their wake->run over %s ms (medians over %d wakes)'
              % (n, ms(st.median(a for a, b in ranges[n])), ms(st.median(b for a, b in ranges[n])), len(ranges[n])))
    print('  %2d vCPUs failing loader: init failure -> module_free %s; -> its return %s'
          % (n, q([a for a, b in loader_t[n]]), q([b for a, b in loader_t[n] if b is not None])))
    for site, v in sorted(hold_off[n].items(), key=lambda kv_: -sum(x[0] for x in kv_[1]))[:3]:
        T = max(1e-9, sum(x[0] for x in v))
        print('  %2d vCPUs holds at %s: of their %s ms the holder was preempted (runnable, off CPU) %d%%, asleep (D/S: e.g. vmap_purge_lock) %d%%'
              % (n, site, ms(T), round(100 * sum(x[2] for x in v) / T), round(100 * sum(x[3] for x in v) / T)))
    if fifo[n]:
        print('  %2d vCPUs finished_loading waits >= 10 ms: %d; overtaken by a later arrival in %d of them (median %s overtakes, max %d); queued ahead median %s; the overtakers: %s'
              % (n, len(fifo[n]), sum(1 for a, b in fifo[n] if a), st.median(a for a, b in fifo[n]), max(a for a, b in fifo[n]),
                 st.median(b for a, b in fifo[n]), ', '.join('%s %d' % kv_ for kv_ in over_sites[n].most_common(5))))
    if left_rel[n]:
        v = [x for x in left_rel[n] if x[2] > 1]
        print('  %2d vCPUs a failing driver\'s sleepers left (after its init failed): first %s; last %s'
              % (n, q([a for a, b, k in left_rel[n]]), q([b for a, b, k in v])))
    if finit_time[n]:
        tot = sum(preempt[n].values())
        print('  %2d vCPUs inside finit calls: %s s of %s s runnable but off CPU (preempted) (%.1f %%); run instead: %s'
              % (n, '%.2f' % tot, '%.1f' % finit_time[n], 100 * tot / finit_time[n],
                 ', '.join('%s %s' % (k, ms(v)) for k, v in preempt[n].most_common(5))))
