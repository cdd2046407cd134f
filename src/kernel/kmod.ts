/**
 * DOC: kernel module auto-loading — request_module() (kernel/module/kmod.c, spec §3).
 *
 * Kernel code that needs a driver, filesystem or algorithm asks for it by alias
 * ("fs-xfs", "crypto-aes", a plain module name) and the kernel runs `modprobe -q -- NAME` through
 * the usermode helper. Nothing here knows which module an alias means; modprobe resolves it.
 *
 * What this file adds on top of the helper is the prologue (empty modprobe path, name length),
 * the concurrency limiter — the part that changed most between releases:
 *   - K0 (≤ v4.12) `fail-fast`: a counter; above min(max_threads/2, 50) callers fail at once with
 *     -ENOMEM and the first 5 print "request_module: runaway loop modprobe NAME";
 *   - K1+K2 (v4.13 – v6.3) `killable-wake-all`: kmod_concurrent_max = 50 free slots; a caller
 *     without a slot prints "throttling..." and sleeps killable for up to 5 s on kmod_wq, retrying
 *     on every wake-up; a release wakes all sleepers, who race (and newcomers may barge);
 *     timeout → -ETIME, SIGKILL → -ERESTARTSYS;
 *   - K13 (v6.4+) `fifo-semaphore`: down_timeout(5 s) on a semaphore of 50, FIFO hand-off,
 *     uninterruptible, -ETIME;
 * and (v6.4+, debug config) the duplicate suppressor of dups.ts, consulted after the slot is
 * taken. The slot is held until the helper returns.
 */
import { Semaphore, SlotCounter, type Proc } from '../sim/index.js';
import type { Task } from './api.js';
import { ENAMETOOLONG, ENOENT, ENOMEM, ERESTARTSYS, ETIME } from './errno.js';
import type { KernelInternal } from './internal.js';
import { UMH_KILLABLE, UMH_WAIT_EXEC, UMH_WAIT_PROC } from './umh.js';

/** envp of the modprobe helper */
export const MODPROBE_ENVP = ['HOME=/', 'TERM=linux', 'PATH=/sbin:/usr/sbin:/bin:/usr/bin'];

export class Kmod {
  /** K0: kmod_concurrent (callers inside) */
  kmod_concurrent = 0;
  /** K0: max_modprobes = min(max_threads / 2, MAX_KMOD_CONCURRENT) */
  readonly max_modprobes: number;
  /** K1+K2: kmod_concurrent_max (free slots) + kmod_wq */
  readonly slots: SlotCounter | null;
  /** K13: the semaphore */
  readonly sem: Semaphore | null;
  private runawayPrinted = 0;
  /** calls that got a limiter slot / failed at the limiter */
  requests = 0;
  limiterFailures = 0;

  constructor(
    private readonly k: KernelInternal,
    maxThreads: number,
  ) {
    const c = k.preset.constants;
    this.max_modprobes = Math.min(Math.floor(maxThreads / 2), c.maxKmodConcurrent);
    const lim = k.preset.flags.limiter;
    this.slots = lim === 'killable-wake-all' ? new SlotCounter(k.sim, 'kmod_concurrent_max', c.maxKmodConcurrent) : null;
    this.sem = lim === 'fifo-semaphore' ? new Semaphore(k.sim, 'kmod_concurrent_max', c.maxKmodConcurrent) : null;
  }

  /** free limiter slots right now (for tests and reports) */
  get freeSlots(): number {
    if (this.slots !== null) return this.slots.free;
    if (this.sem !== null) return this.sem.count;
    return this.max_modprobes - this.kmod_concurrent;
  }

  /** __request_module(wait, name) */
  *__request_module(task: Task, name: string, wait: boolean): Proc<number> {
    const k = this.k;
    const sim = k.sim;
    const c = k.preset.constants;
    if (sim.log.wants('request_module')) sim.log.emit('request_module', { name, wait, phase: 'start' }, task.proc);
    const ret = yield* this.request(task, name, wait, c.moduleNameLen);
    if (sim.log.wants('request_module')) sim.log.emit('request_module', { name, wait, phase: 'end', ret }, task.proc);
    return ret;
  }

  private *request(task: Task, name: string, wait: boolean, nameLen: number): Proc<number> {
    const k = this.k;
    if (k.modprobe_path === '') return k.preset.flags.emptyModprobePath === 'zero' ? 0 : -ENOENT;
    if (name.length >= nameLen) return -ENAMETOOLONG;
    const lsm = k.securityKernelModuleRequest;
    if (lsm !== null) {
      const r = lsm(name);
      if (r !== 0) return r;
    }
    // a free slot (the common case) is taken without a generator of its own
    const now = this.acquireNow(task, name);
    const got = now !== null ? now : yield* this.acquire(task, name);
    if (got !== 0) {
      this.limiterFailures++;
      return got;
    }
    this.requests++;
    let ret: number;
    try {
      if (k.dups !== null) {
        const d = yield* k.dups.kmod_dup_request_exists_wait(task, name, wait);
        if (d.dup) return d.ret;
      }
      ret = yield* this.call_modprobe(task, name, wait ? UMH_WAIT_PROC : UMH_WAIT_EXEC);
    } finally {
      this.release();
    }
    return ret;
  }

  /** call_modprobe(): argv, then the helper, then the dups announcement */
  *call_modprobe(task: Task, name: string, wait: number): Proc<number> {
    const k = this.k;
    const path = k.modprobe_path;
    const argv = [path, '-q', '--', name];
    const ret = yield* k.umh.call_usermodehelper_exec(task, path, argv, MODPROBE_ENVP, wait | UMH_KILLABLE);
    if (k.dups !== null) k.dups.kmod_dup_request_announce(name, ret);
    return ret;
  }

  /**
   * The limiter's answer when it needs no sleep: the fail-fast counter's (0 or -ENOMEM), or 0 for a
   * free slot of the other two; null when the caller has to wait (acquire()).
   */
  private acquireNow(task: Task, name: string): number | null {
    const k = this.k;
    switch (k.preset.flags.limiter) {
      case 'fail-fast': {
        this.kmod_concurrent++;
        if (this.kmod_concurrent > this.max_modprobes) {
          this.kmod_concurrent--;
          const c = k.preset.constants;
          if (this.runawayPrinted < c.runawayLoopPrints) {
            this.runawayPrinted++;
            k.printk.printk(`request_module: runaway loop modprobe ${name}`, 'err');
          }
          if (k.sim.log.wants('limiter')) k.sim.log.emit('limiter', { name, action: 'fail', ret: -ENOMEM }, task.proc);
          return -ENOMEM;
        }
        return 0;
      }
      case 'killable-wake-all':
        return this.slots!.tryTake() ? 0 : null;
      case 'fifo-semaphore':
        return this.sem!.tryDown() ? 0 : null;
    }
  }

  /** no free slot (acquireNow() said null): sleep for one, as the preset's limiter does */
  private *acquire(task: Task, name: string): Proc<number> {
    const k = this.k;
    const sim = k.sim;
    const c = k.preset.constants;
    const timeoutNs = c.kmodAllBusyTimeoutS * 1e9;
    if (k.preset.flags.limiter === 'killable-wake-all') {
      const slots = this.slots!;
      k.printk.ratelimited('kmod-throttle', '__request_module',
        `request_module: kmod_concurrent_max (${slots.free}) close to 0 (max_modprobes: ${c.maxKmodConcurrent}), for module ${name}, throttling...`);
      if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'kmod_limiter', name, phase: 'begin' }, task.proc);
      const r = yield* slots.acquire({ mode: 'killable', timeoutNs });
      if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'kmod_limiter', name, phase: 'end', status: r.status }, task.proc);
      if (r.status === 'ok') return 0;
      if (r.status === 'timeout') return this.kmodBusy(name);
      k.printk.ratelimited('kmod-sigkill', '__request_module', `request_module: sigkill sent for modprobe ${name}, giving up`);
      return -ERESTARTSYS;
    }
    // 'fifo-semaphore' ('fail-fast' never sleeps)
    const sem = this.sem!;
    if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'kmod_limiter', name, phase: 'begin' }, task.proc);
    const r = yield* sem.down({ mode: 'uninterruptible', timeoutNs });
    if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'kmod_limiter', name, phase: 'end', status: r }, task.proc);
    if (r === 'ok') return 0;
    return this.kmodBusy(name);
  }

  /** a limiter wait that timed out (both sleeping limiters say it the same way): -ETIME */
  private kmodBusy(name: string): number {
    const c = this.k.preset.constants;
    this.k.printk.ratelimited('kmod-busy', '__request_module',
      `request_module: modprobe ${name} cannot be processed, kmod busy with ${c.maxKmodConcurrent} threads for more than ${c.kmodAllBusyTimeoutS} seconds now`);
    return -ETIME;
  }

  private release(): void {
    switch (this.k.preset.flags.limiter) {
      case 'fail-fast':
        this.kmod_concurrent--;
        break;
      case 'killable-wake-all':
        this.slots!.release();
        break;
      case 'fifo-semaphore':
        this.sem!.up();
        break;
    }
  }
}
