/**
 * DOC: what stops a selftest run from outside — SIGINT, SIGTERM and the `--timeout` deadline —
 * as one AbortSignal whose reason is the Interruption the runner reports.
 *
 * kselftest's runner ends a test that runs past its `settings` timeout with SIGTERM (timeout(1)),
 * a user ends one with Ctrl-C. Either way the run must say what it did: the runner abandons the
 * step in flight, reports the open run and test as `# ERROR interrupted by SIGTERM` (or `#
 * TIMEOUT` for our own deadline), runs kmod.sh's EXIT trap, and the process exits 128 + the
 * signal's number (130, 143) or 124 — never killed half-way by Node's default handler.
 */
import { EXIT_TIMEOUT, signalExitCode } from '../errors.js';
import type { Interruption } from './runner.js';

export interface RunStop {
  signal: AbortSignal;
  /** remove the signal handlers and the deadline timer */
  dispose(): void;
}

/** Listen for SIGINT and SIGTERM and, with `timeoutS` > 0, a deadline of that many seconds. */
export function runStop(opts: { timeoutS?: number; signals?: readonly NodeJS.Signals[] } = {}): RunStop {
  const ac = new AbortController();
  const signals = opts.signals ?? ['SIGINT', 'SIGTERM'];
  const handlers = signals.map((sig) => {
    const h = (): void => {
      const i: Interruption = { directive: 'ERROR', reason: `interrupted by ${sig}`, exitCode: signalExitCode(sig), signal: sig };
      if (!ac.signal.aborted) ac.abort(i);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  let timer: NodeJS.Timeout | null = null;
  if (opts.timeoutS !== undefined && opts.timeoutS > 0) {
    const s = opts.timeoutS;
    timer = setTimeout(() => {
      const i: Interruption = { directive: 'TIMEOUT', reason: `--timeout ${s} s`, exitCode: EXIT_TIMEOUT };
      if (!ac.signal.aborted) ac.abort(i);
    }, s * 1000);
  }
  return {
    signal: ac.signal,
    dispose() {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
      if (timer) clearTimeout(timer);
    },
  };
}
