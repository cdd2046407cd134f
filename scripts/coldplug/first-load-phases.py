#!/usr/bin/env python3
# Where the first caller's finit_module of a module spends its time, real guest against the model,
# split into the load path's phases. Real: the kprobes of scripts/coldplug/init on that caller's
# pid (valloc = __vmalloc_node_range: the 1st is kernel_read_file's buffer, the 2nd module_alloc's
# core; vm_unmap_aliases and flush_tlb_kernel_range spans; module_load; do_one_initcall when the
# trace has kml.spans=1). Sim: scripts/coldplug/sim-phases.mjs on the captured profile (the event
# log plus every CPU burst and vmap_purge_lock hold), the same phases from the same kinds of marks:
#
#   pre     enter -> module_alloc          kernel_read_file, module_sig_check, ELF checks
#   layout  module_alloc -> 1st vm_unmap_aliases   move_module, add_unformed_module, simplify_symbols, relocation
#   rwx     -> COMING (sim) / last vm_unmap_aliases before module_load (real): complete_formation's set_memory_*()
#           split: lockwait (in vm_unmap_aliases, not flushing), flush (flush_tlb_kernel_range), rest
#   coming  -> do_one_initcall / init start   mod_sysfs_setup, freeing the copy
#   init    the module's init
#   after   -> return                      module_enable_ro(after_init) + its flushes, the wake
#
# Sim bursts are CPU time asked vs taken on the 2-CPU pool: "queue" = taken - asked, the wait for a
# host CPU (real has no such split: its gaps are vCPU time, which TCG also shares on 2 host cores).
# usage: first-load-phases.py [--sim PROFILE.json --cpus N --seeds 1-5] [--modules a,b] DATA.log ...
import argparse, collections, json, os, re, statistics as st, subprocess, sys

P = argparse.ArgumentParser()
P.add_argument('logs', nargs='*', help='real data.log files (scripts/coldplug/init traces)')
P.add_argument('--sim', help='captured machine profile (sim-profile-cN.json) to run the model on')
P.add_argument('--cpus', type=int, default=16)
P.add_argument('--seeds', default='1-5')
P.add_argument('--kernel', default='v6.1-stable')
P.add_argument('--modules', default='intel_rapl_common,isst_if_common,crct10dif_common')
P.add_argument('--per-run', action='store_true', help='print every run, not only the medians')
A = P.parse_args()
MODS = A.modules.split(',')
PHASES = ['total', 'pre', 'layout', 'rwx', ' lockwait', ' flush', ' rest', 'coming', 'init', 'after', ' a.lockwait', ' a.flush']
line_rx = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (.*)$')


def real_runs(path):
    ev = collections.defaultdict(list)  # pid -> [(t, what, arg)]
    last_ko = {}
    for line in open(path, errors='replace'):
        m = line_rx.match(line)
        if not m: continue
        _, pid, _, t, rest = m.groups(); t = float(t)
        if rest.startswith('open:') and '.ko' in rest:
            last_ko[pid] = os.path.basename(re.search(r'path="([^"]+)"', rest).group(1)).split('.ko')[0].replace('-', '_')
        elif rest.startswith('sys_finit_module('): ev[pid].append((t, 'enter', last_ko.get(pid)))
        elif rest.startswith('sys_finit_module ->'): ev[pid].append((t, 'exit', int(rest.split('->')[1], 16)))
        elif rest.startswith('valloc:'): ev[pid].append((t, 'valloc', int(re.search(r'size=(\d+)', rest).group(1))))
        elif rest.startswith('module_load:'): ev[pid].append((t, 'module_load', rest.split(':', 1)[1].split()[0]))
        else:
            w = rest.split(':', 1)[0]
            if w in ('vm_unmap_aliases_in', 'vm_unmap_aliases_out', 'flush_tlb_kernel_range_in', 'flush_tlb_kernel_range_out', 'do_one_initcall_in', 'do_one_initcall_out'):
                ev[pid].append((t, w, None))
    # the first finit_module of each module (by entry time) and its caller's events inside it
    first = {}
    for pid, es in ev.items():
        for i, (t, w, a) in enumerate(es):
            if w == 'enter' and a in MODS and (a not in first or t < first[a][0]):
                j = next(k for k in range(i + 1, len(es)) if es[k][1] == 'exit')
                first[a] = (t, es[i:j + 1])
    out = {}
    for mod, (t0, es) in first.items():
        t1 = es[-1][0]
        vallocs = [t for t, w, _ in es if w == 'valloc']
        load = next((t for t, w, _ in es if w == 'module_load'), None)
        if len(vallocs) < 2 or load is None: continue
        ini = [t for t, w, _ in es if w == 'do_one_initcall_in'], [t for t, w, _ in es if w == 'do_one_initcall_out']
        init0, init1 = (ini[0][0], ini[1][0]) if ini[0] and ini[1] else (load, load)
        spans = []  # (kind, in, out, flush inside)
        stack = {}
        for t, w, _ in es:
            if w.endswith('_in'): stack[w[:-3]] = t
            elif w.endswith('_out') and w[:-4] in stack:
                f = w[:-4]; spans.append((f, stack.pop(f), t))
        vua = [(a, b) for f, a, b in spans if f == 'vm_unmap_aliases']
        fl = [(a, b) for f, a, b in spans if f == 'flush_tlb_kernel_range']
        def split(lo, hi):
            inside = [(a, b) for a, b in vua if lo <= a and b <= hi]
            flush = sum(b - a for a, b in fl if lo <= a and b <= hi and any(x <= a and b <= y for x, y in inside))
            return sum(b - a for a, b in inside) - flush, flush
        rwx0 = vua[0][0] if vua else load
        rwx1 = max((b for a, b in vua if b <= load), default=rwx0)
        lw, fx = split(rwx0, rwx1)
        alw, afx = split(init1, t1)
        out[mod] = dict(total=t1 - t0, pre=vallocs[1] - t0, layout=rwx0 - vallocs[1], rwx=rwx1 - rwx0, lockwait=lw, flush=fx,
                        rest=(rwx1 - rwx0) - lw - fx, coming=init0 - rwx1, init=init1 - init0, after=t1 - init1,
                        **{'a.lockwait': alw, 'a.flush': afx})
    return out


def sim_runs(profile, cpus, seed):
    here = os.path.dirname(os.path.abspath(__file__))
    js = subprocess.run(['node', os.path.join(here, 'sim-phases.mjs'), profile, str(cpus), str(seed), A.kernel],
                        check=True, capture_output=True, text=True).stdout
    d = json.loads(js)
    recs, bursts, holds = d['records'], d['bursts'], d['holds']
    firsts = {}
    for t, pid, kind, f in recs:
        if kind == 'finit' and f['phase'] == 'enter' and f['module'] in MODS and f['module'] not in firsts:
            firsts[f['module']] = (t, pid)
    out, cpu = {}, {}
    for mod, (t0, pid) in firsts.items():
        mine = [(t, k, f) for t, p, k, f in recs if p == pid and t >= t0]
        t1 = next(t for t, k, f in mine if k == 'finit' and f['phase'] == 'exit')
        mine = [x for x in mine if x[0] <= t1]
        core = next(t for t, k, f in mine if k == 'alloc' and f['area'] == 'module')
        coming = next(t for t, k, f in mine if k == 'state' and f['to'] == 'coming')
        i0 = next(t for t, k, f in mine if k == 'init' and f['phase'] == 'start')
        i1 = next(t for t, k, f in mine if k == 'init' and f['phase'] == 'end')
        hs = [(a, g, r) for p, _, a, g, r in holds if p == pid and t0 <= a <= t1]
        bs = [(ns, a, b, lk) for p, ns, a, b, lk in bursts if p == pid and t0 <= a <= t1]
        rwx0 = min((a for a, g, r in hs if a >= core), default=coming)
        def split(lo, hi):
            h = [(a, g, r) for a, g, r in hs if lo <= a and r <= hi]
            return sum(g - a for a, g, r in h), sum(r - g for a, g, r in h)
        lw, held = split(rwx0, coming)
        alw, aheld = split(i1, t1)
        ns = 1e-9
        out[mod] = {k: v * ns for k, v in dict(total=t1 - t0, pre=core - t0, layout=rwx0 - core, rwx=coming - rwx0, lockwait=lw, flush=held,
                                                  rest=(coming - rwx0) - lw - held, coming=i0 - coming, init=i1 - i0, after=t1 - i1,
                                                  **{'a.lockwait': alw, 'a.flush': aheld}).items()}
        def cpu_in(lo, hi):
            b = [(n, a, e) for n, a, e, lk in bs if lo <= a < hi]
            return sum(n for n, a, e in b) * ns, sum((e - a) - n for n, a, e in b) * ns
        cpu[mod] = {ph: cpu_in(lo, hi) for ph, lo, hi in (('pre', t0, core), ('layout', core, rwx0), ('rwx', rwx0, coming), ('init', i0, i1), ('after', i1, t1 + 1))}
    return out, cpu


def seeds(s):
    if '-' in s:
        a, b = s.split('-'); return list(range(int(a), int(b) + 1))
    return [int(x) for x in s.split(',')]


def table(label, runs):
    print('\n%s (%d runs), median seconds' % (label, len(runs)))
    print('%-18s' % 'module', ' '.join('%10s' % p for p in PHASES))
    for mod in MODS:
        vs = [r[mod] for r in runs if mod in r]
        if not vs: continue
        print('%-18s' % mod, ' '.join('%10.3f' % st.median(v[p.strip()] for v in vs) for p in PHASES))


real = []
for f in A.logs:
    r = real_runs(f); real.append(r)
    if A.per_run: table('real ' + f, [r])
if real: table('real: ' + ' '.join(sorted({os.path.basename(os.path.dirname(os.path.dirname(f))) for f in A.logs})), real)
if A.sim:
    sims, cpus = [], []
    for s in seeds(A.seeds):
        r, c = sim_runs(A.sim, A.cpus, s); sims.append(r); cpus.append(c)
        if A.per_run: table('sim seed %d' % s, [r])
    table('sim %s --cpus %d seeds %s' % (os.path.basename(A.sim), A.cpus, A.seeds), sims)
    print('\nsim CPU bursts of those phases: CPU asked / wait for one of the pool\'s CPUs (queue), median seconds')
    print('%-18s' % 'module', ' '.join('%17s' % p for p in ('pre', 'layout', 'rwx', 'init', 'after')))
    for mod in MODS:
        vs = [c[mod] for c in cpus if mod in c]
        if not vs: continue
        print('%-18s' % mod, ' '.join('%8.3f/%8.3f' % (st.median(v[p][0] for v in vs), st.median(v[p][1] for v in vs)) for p in ('pre', 'layout', 'rwx', 'init', 'after')))
