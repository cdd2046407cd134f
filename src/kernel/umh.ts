/**
 * DOC: the usermode helper (kernel/umh.c, spec §3.3) — how request_module runs modprobe.
 *
 * The kernel does not run modprobe itself: call_usermodehelper_exec() queues work on
 * system_unbound_wq, a worker forks a kernel thread that execs the program, and the caller
 * sleeps until exec succeeded (UMH_WAIT_EXEC, request_module_nowait) or the program exited
 * (UMH_WAIT_PROC, request_module). The value that comes back is not an errno convention but the
 * raw wait(2) status: exit 1 → 256, killed by signal s → s; a failed exec leaves the exec errno
 * (-ENOENT for a missing modprobe). The caller's sleep is killable (UMH_KILLABLE): SIGKILL returns
 * -ERESTARTSYS while the helper keeps running on its own. While helpers are disabled (early boot,
 * suspend) nothing runs and the call returns -EBUSY.
 *
 * The program itself is userspace's business: a UsermodeHelperHost (api.ts) starts it as a
 * simulated process. Until a host is set, every exec fails with -ENOENT.
 */
import { Completion, type Proc, type WaitOptions } from '../sim/index.js';
import type { Task, UsermodeHelperHost } from './api.js';
import { EBUSY, ENOENT, ERESTARTSYS } from './errno.js';
import type { KernelInternal } from './internal.js';

/** UMH wait flags (spec §1) */
export const UMH_NO_WAIT = 0;
export const UMH_WAIT_EXEC = 1;
export const UMH_WAIT_PROC = 2;
export const UMH_KILLABLE = 4;

/** the caller's sleep (made once: the engine only reads a wait's options) */
const KILLABLE: WaitOptions = { mode: 'killable' };

export class UsermodeHelper {
  /** usermodehelper_enable() has run (false: every call returns -EBUSY) */
  enabled = true;
  host: UsermodeHelperHost | null = null;
  /** helper processes started so far */
  started = 0;

  constructor(private readonly k: KernelInternal) {}

  /** call_usermodehelper_setup() + call_usermodehelper_exec(info, wait | UMH_KILLABLE) */
  *call_usermodehelper_exec(task: Task, path: string, argv: string[], envp: string[], wait: number): Proc<number> {
    const k = this.k;
    const sim = k.sim;
    if (!this.enabled) return -EBUSY;
    if (path === '') return 0;
    const info = { retval: 0 };
    const done = new Completion(sim, 'umh');
    const waitProc = (wait & UMH_WAIT_PROC) !== 0;
    const host = this.host;
    const delay = k.timings.umhQueueDelayNs;
    this.started++;
    sim.spawn(`kworker/u:umh-${argv[argv.length - 1] ?? ''}`, (function* (): Proc<void> {
      if (delay > 0) yield sim.delay(delay);
      const r = host === null ? -ENOENT : host.exec(path, argv, envp);
      if (sim.log.wants('umh')) sim.log.emit('umh', { path, argv, phase: 'exec', ret: typeof r === 'number' ? r : 0, pid: typeof r === 'number' ? 0 : r.pid });
      if (typeof r === 'number') {
        info.retval = r;
      } else if (waitProc) {
        const status = yield* r.join();
        // kernel_wait() only overwrites retval when the wait status is non-zero
        if (status !== undefined && status !== 0) info.retval = status;
        if (sim.log.wants('umh')) sim.log.emit('umh', { path, argv, phase: 'exit', ret: info.retval });
      }
      done.complete();
    })());
    if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'umh', name: argv[argv.length - 1], phase: 'begin' }, task.proc);
    const r = yield* done.wait(KILLABLE);
    if (sim.log.wants('wait')) sim.log.emit('wait', { on: 'umh', name: argv[argv.length - 1], phase: 'end', status: r.status }, task.proc);
    if (r.status !== 'ok') return -ERESTARTSYS;
    return info.retval;
  }
}
