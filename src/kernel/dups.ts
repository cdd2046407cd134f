/**
 * DOC: auto-load duplicate request suppressor (CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS, spec §3.6).
 *
 * Why it exists: kernel code asks for the same module alias many times at once (every CPU's
 * crypto or cpufreq lookup), and each request_module() runs its own modprobe, which races the
 * others into finit_module. This debug option, from v6.4, remembers in-flight *synchronous*
 * requests by their exact request string (the alias as asked for, not the module name). A second
 * synchronous request for the same string does not run modprobe: it sleeps (killable) until the
 * first one is announced and then returns the first request's exact result. A non-waiting
 * duplicate returns 0 at once. Each duplicate prints a warning, or a full WARN splat when
 * module.enable_dups_trace is set.
 *
 * The result is published asynchronously (complete_work on system_wq, so duplicates never run
 * ahead of the first caller), and the entry stays for 60 s after completion (delete_work). That
 * grace period is the hazard the spec marks [I]: within it *any* new request for the string gets
 * the cached result without running modprobe — even if the module was unloaded meanwhile, so
 * get_fs_type("xfs") can see 0 from request_module("fs-xfs") and still find no xfs.
 *
 * The check runs after the request has taken its limiter slot, and a waiting duplicate keeps it.
 */
import { Completion, type Proc } from '../sim/index.js';
import type { Task } from './api.js';
import { ERESTARTSYS } from './errno.js';
import type { DupResult, KernelInternal } from './internal.js';

interface DupEntry {
  name: string;
  first_req_done: Completion;
  dup_ret: number;
  /** complete_work queued and not yet run */
  completePending: boolean;
  /** delete_work queued and not yet run */
  deletePending: boolean;
}

const NOT_DUP: DupResult = Object.freeze({ dup: false, ret: 0 });

export class KmodDups {
  private entries = new Map<string, DupEntry>();
  /** module.enable_dups_trace (enable-only at runtime) */
  enable_dups_trace: boolean;

  constructor(private readonly k: KernelInternal) {
    this.enable_dups_trace = k.preset.flags.autoloadDupsTrace;
  }

  /** entries currently in the table (tracked or waiting for deletion) */
  get size(): number {
    return this.entries.size;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** kmod_dup_request_exists_wait(): track a first request, or wait as a duplicate */
  *kmod_dup_request_exists_wait(task: Task, name: string, wait: boolean): Proc<DupResult> {
    const k = this.k;
    const sim = k.sim;
    const e = this.entries.get(name);
    if (e === undefined) {
      if (!wait) return NOT_DUP; // a nowait first request is never tracked
      this.entries.set(name, { name, first_req_done: new Completion(sim, `dup:${name}`), dup_ret: 0, completePending: false, deletePending: false });
      if (sim.log.wants('dup')) sim.log.emit('dup', { name, action: 'track' }, task.proc);
      return NOT_DUP;
    }
    const msg = `module-autoload: duplicate request for module ${name}`;
    if (this.enable_dups_trace) k.printk.warnSplat(msg, 'kernel/module/dups.c kmod_dup_request_exists_wait', task.proc.pid);
    else k.printk.warn(msg);
    if (!wait) {
      if (sim.log.wants('dup')) sim.log.emit('dup', { name, action: 'duplicate', wait, ret: 0 }, task.proc);
      return { dup: true, ret: 0 };
    }
    if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'dups', name, phase: 'begin' }, task.proc);
    const r = yield* e.first_req_done.wait({ mode: 'killable' });
    const ret = r.status === 'ok' ? e.dup_ret : -ERESTARTSYS;
    if (sim.log.enabled) {
      sim.log.emit('wait', { on: 'dups', name, phase: 'end', status: r.status }, task.proc);
      sim.log.emit('dup', { name, action: 'duplicate', wait, ret }, task.proc);
    }
    return { dup: true, ret };
  }

  /** kmod_dup_request_announce(): every request reports its helper result here */
  kmod_dup_request_announce(name: string, ret: number): void {
    const e = this.entries.get(name);
    if (e === undefined) return;
    const k = this.k;
    e.dup_ret = ret;
    if (k.sim.log.wants('dup')) k.sim.log.emit('dup', { name, action: 'announce', ret });
    if (e.completePending) return; // queue_work on a pending work is a no-op
    e.completePending = true;
    k.sim.at(k.sim.now + k.timings.workqueueDelayNs, () => this.complete_work(e));
  }

  private complete_work(e: DupEntry): void {
    const k = this.k;
    e.completePending = false;
    e.first_req_done.completeAll();
    if (k.sim.log.wants('dup')) k.sim.log.emit('dup', { name: e.name, action: 'complete', ret: e.dup_ret }, null);
    if (e.deletePending) return;
    e.deletePending = true;
    k.sim.at(k.sim.now + k.preset.constants.dupsDeleteDelayS * 1e9, () => this.delete_work(e));
  }

  private delete_work(e: DupEntry): void {
    // unlink (the synchronize_rcu only delays the kfree, which nobody can observe)
    if (this.entries.get(e.name) === e) this.entries.delete(e.name);
    if (this.k.sim.log.wants('dup')) this.k.sim.log.emit('dup', { name: e.name, action: 'delete' }, null);
  }
}
