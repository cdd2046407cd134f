/**
 * DOC: how a guest session ended — the outcomes the qemu target keeps apart.
 *
 *   ran           the guest booted, the agent answered, the plan ran to its end; the tests
 *                 themselves passed or failed (exit 0 / 1, as kselftest)
 *   timeout       the guest booted but a request or the whole session ran past its deadline
 *                 (exit 124, as timeout(1))
 *   kernel-panic  the console showed "Kernel panic - not syncing" (exit 5) — only then: a
 *                 guest that merely went away is not a panic
 *   interrupted   kmodlab was told to stop (SIGINT, SIGTERM: kselftest's timeout, Ctrl-C) and shut
 *                 the guest down itself, or QEMU was killed by a signal from outside (exit 128 +
 *                 the signal: 130, 143)
 *   guest-died    the guest went away after it booted without a panic message and without a
 *                 signal (a machine reset, the agent killed): the run failed (exit 1)
 *   boot-failure  the agent never said hello: QEMU would not start, the kernel did not boot, or
 *                 the initramfs did not reach the agent in time (exit 3)
 * Exit 2 stays the CLI's usage error and 4 kselftest's skip, so all are distinct.
 *
 * Precedence: a panic wins over everything (a panic during boot is a panic, and a request that
 * timed out because the kernel was dying is a panic); then a stop kmodlab was told to make (a VM
 * that dies after the signal died of it); then a missing hello; then a QEMU killed from outside;
 * then a guest that died; then a deadline.
 */

import { EXIT_BOOT_FAILURE, EXIT_FAIL, EXIT_KERNEL_PANIC, EXIT_PASS, EXIT_TIMEOUT, signalExitCode } from '../../errors.js';
export { EXIT_BOOT_FAILURE, EXIT_FAIL, EXIT_KERNEL_PANIC, EXIT_PASS, EXIT_TIMEOUT };

export type SessionState = 'ran' | 'timeout' | 'kernel-panic' | 'boot-failure' | 'interrupted' | 'guest-died';

export interface SessionFacts {
  /** everything the kernel console printed */
  console: string;
  /** the agent's hello arrived */
  booted: boolean;
  /** a request or the session deadline expired */
  deadlineHit: boolean;
  /** the VM or the agent channel went away before we asked it to power off */
  diedUnexpectedly: boolean;
  /** kmodlab received this signal and stopped the session */
  interrupted?: NodeJS.Signals;
  /** the signal that ended the QEMU process, when one did */
  vmSignal?: NodeJS.Signals | null;
}

export interface SessionOutcome {
  state: SessionState;
  /** one line: why */
  detail: string;
  /** interrupted: the signal (its exit code is 128 + its number) */
  signal?: NodeJS.Signals;
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
  if (f.interrupted) return { state: 'interrupted', detail: `kmodlab received ${f.interrupted} and shut the guest down`, signal: f.interrupted };
  if (!f.booted) {
    const last = f.console.trim().split('\n').slice(-1)[0]?.trim() ?? '';
    return {
      state: 'boot-failure',
      detail: f.deadlineHit ? `no agent hello before the boot deadline (last console line: ${last || 'none'})` : `guest exited before the agent started (last console line: ${last || 'none'})`,
    };
  }
  if (f.diedUnexpectedly && f.vmSignal) return { state: 'interrupted', detail: `qemu was killed by ${f.vmSignal} from outside`, signal: f.vmSignal };
  if (f.diedUnexpectedly) return { state: 'guest-died', detail: 'the guest died without a panic message (reset or agent killed)' };
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
    case 'interrupted':
      return signalExitCode(o.signal ?? 'SIGINT');
    case 'guest-died':
      return EXIT_FAIL;
  }
}
