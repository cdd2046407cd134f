/**
 * DOC: how a guest session ended — the four outcomes the qemu target keeps apart.
 *
 *   ran           the guest booted, the agent answered, the plan ran to its end; the tests
 *                 themselves passed or failed (exit 0 / 1, as kselftest)
 *   timeout       the guest booted but a request or the whole session ran past its deadline
 *                 (exit 124, as timeout(1))
 *   kernel-panic  the console showed "Kernel panic - not syncing", or the guest died after it
 *                 booted without saying why (machine reset, agent killed) (exit 5)
 *   boot-failure  the agent never said hello: QEMU would not start, the kernel did not boot, or
 *                 the initramfs did not reach the agent in time (exit 3)
 * Exit 2 stays the CLI's usage error and 4 kselftest's skip, so all six are distinct.
 *
 * Precedence: a panic wins over everything (a panic during boot is a panic, and a request that
 * timed out because the kernel was dying is a panic); then a missing hello; then a deadline.
 */

import { EXIT_BOOT_FAILURE, EXIT_FAIL, EXIT_KERNEL_PANIC, EXIT_PASS, EXIT_TIMEOUT } from '../../errors.js';
export { EXIT_BOOT_FAILURE, EXIT_FAIL, EXIT_KERNEL_PANIC, EXIT_PASS, EXIT_TIMEOUT };

export type SessionState = 'ran' | 'timeout' | 'kernel-panic' | 'boot-failure';

export interface SessionFacts {
  /** everything the kernel console printed */
  console: string;
  /** the agent's hello arrived */
  booted: boolean;
  /** a request or the session deadline expired */
  deadlineHit: boolean;
  /** the VM or the agent channel went away before we asked it to power off */
  diedUnexpectedly: boolean;
}

export interface SessionOutcome {
  state: SessionState;
  /** one line: why */
  detail: string;
}

const PANIC_RE = /Kernel panic - not syncing:?[^\n]*/;

/** The panic line of a console log, or null. */
export function panicLine(console: string): string | null {
  const m = PANIC_RE.exec(console);
  return m ? m[0].trim() : null;
}

export function classifySession(f: SessionFacts): SessionOutcome {
  const panic = panicLine(f.console);
  if (panic) return { state: 'kernel-panic', detail: panic };
  if (!f.booted) {
    const last = f.console.trim().split('\n').slice(-1)[0]?.trim() ?? '';
    return {
      state: 'boot-failure',
      detail: f.deadlineHit ? `no agent hello before the boot deadline (last console line: ${last || 'none'})` : `guest exited before the agent started (last console line: ${last || 'none'})`,
    };
  }
  if (f.diedUnexpectedly) return { state: 'kernel-panic', detail: 'the guest died without a panic message (reset or agent killed)' };
  if (f.deadlineHit) return { state: 'timeout', detail: 'a request or the session ran past its deadline' };
  return { state: 'ran', detail: 'completed' };
}

/** The process exit code for an outcome; `passed` only matters for "ran". */
export function exitCodeFor(o: SessionOutcome, passed: boolean): number {
  switch (o.state) {
    case 'ran':
      return passed ? EXIT_PASS : EXIT_FAIL;
    case 'timeout':
      return EXIT_TIMEOUT;
    case 'kernel-panic':
      return EXIT_KERNEL_PANIC;
    case 'boot-failure':
      return EXIT_BOOT_FAILURE;
  }
}
