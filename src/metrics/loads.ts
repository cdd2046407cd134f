/**
 * DOC: load attempts — every finit_module/init_module call, per module, with its errnos.
 *
 * The counts the storm reports (and the system tests check): how often userspace asked the kernel
 * to load each module, how many of those calls failed and with what (EEXIST, EBUSY, ENOMEM, …),
 * and how long the callers were blocked inside the kernel. `callers` narrows it to some
 * processes (the storm counts udev workers only, not modprobe run by request_module).
 */
import { errnoName } from '../kernel/errno.js';
import type { MetricEvent } from './events.js';

export class LoadCounter {
  /** calls per module */
  readonly attempts: Record<string, number> = {};
  /** failed calls per module: errno name → count */
  readonly failures: Record<string, Record<string, number>> = {};
  total = 0;
  /** summed time from entry to return */
  blockedNs = 0;

  constructor(private readonly callers: (caller: string) => boolean = () => true) {}

  readonly observe = (e: MetricEvent): void => {
    if (e.type !== 'load' || !this.callers(e.caller)) return;
    this.total++;
    this.blockedNs += e.end - e.start;
    this.attempts[e.module] = (this.attempts[e.module] ?? 0) + 1;
    if (e.ret < 0) {
      const f = (this.failures[e.module] ??= {});
      const k = errnoName(e.ret);
      f[k] = (f[k] ?? 0) + 1;
    }
  };
}
