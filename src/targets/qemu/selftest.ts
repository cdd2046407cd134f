/**
 * DOC: `kmodlab selftest --target qemu:NAME` — the kmod.sh port on a real kernel, with the
 * session's outcome kept apart from the tests' outcome.
 *
 * The runner itself never knows it talks to QEMU; what this adds is what only a real guest can
 * do wrong. A boot failure, a kernel panic and a deadline are not test failures: they end the run
 * with exit 3, 5 or 124 (outcome.ts), never 1, and the report says which tests ran before it
 * happened. The kernel log is kept beside the results: `--log-dir DIR` gets console.log,
 * dmesg.log, qemu.log, session.json and results.json (per-test status, values, host wall time);
 * `--dmesg FILE` gets dmesg alone (or the console, when the guest can no longer run dmesg).
 *
 * The session gives back its exit code, the report and what a comparison needs (the guest's CPU
 * count, the kernel log when asked for): `--compare` with the simulator is an experiment
 * (src/experiments/selftest-compare.ts), not part of the adapter.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  KmodShReporter,
  KtapReporter,
  NEWEST_KMOD_SH,
  runSelftest,
  runStop,
  type KmodShEra,
  type Interruption,
  type KmodTest,
  type RunOutcome,
  type SelftestReporter,
  type SelftestResult,
  type Stream,
  type TestOutcome,
} from '../../selftest/index.js';
import type { Target } from '../../selftest/target.js';
import { exitCodeFor, type SessionOutcome } from './outcome.js';
import { GuestSessionError } from './session.js';
import { parseQemuTargetName, QemuTarget, type QemuTargetOptions } from './target.js';

export interface QemuSelftestOptions extends QemuTargetOptions {
  /** "qemu:debian-6.1" */
  spec: string;
  /** kmod.sh's own arguments */
  args: string[];
  era?: KmodShEra;
  ktap?: boolean;
  keepGoing?: boolean;
  watchRounds?: number;
  /** write the kernel log here */
  dmesg?: string;
  /** also read the kernel log for the caller (the evidence --compare explains differences with) */
  keepKernelLog?: boolean;
  /** wrap the output reporter (--results keeps copies of the KTAP and kmod.sh text) */
  wrapReporter?: (r: SelftestReporter) => SelftestReporter;
  /** open the target (tests pass a fake) */
  open?: (spec: string, opts: QemuTargetOptions) => Promise<Pick<QemuTarget, 'outcome' | 'close' | 'kernelLog' | 'name' | 'kernel'> & Target>;
}

export interface QemuSelftestIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

export interface SelftestTestRecord {
  id: string;
  status: TestOutcome['status'];
  runs: number;
  okRuns: number;
  /** distinct "step=value" results over all runs, e.g. "kmod_test_0001_driver=256" */
  results: string[];
  /** kmod.sh's first failure line */
  failure: string | null;
  /** wall time of all runs (s): host time on a real target, virtual time on the simulator */
  seconds: number | null;
}

export interface SelftestReport {
  target: string;
  kernel: string;
  /** the session's end: "ran" unless the guest failed */
  outcome: SessionOutcome;
  exitCode: number;
  tests: SelftestTestRecord[];
  seconds: number;
}

/** Forwards to the chosen output reporter and times each test with `clock` (ms). */
export class TimingReporter implements SelftestReporter {
  readonly seconds = new Map<string, number>();
  private started = 0;
  result: SelftestResult | null = null;
  constructor(
    private readonly inner: SelftestReporter,
    private readonly clock: () => number = Date.now,
  ) {}
  line(stream: Stream, text: string): void {
    this.inner.line(stream, text);
  }
  clear(): void {
    this.inner.clear?.();
  }
  plan(tests: readonly KmodTest[]): void {
    this.inner.plan?.(tests);
  }
  testStart(test: KmodTest, count: number): void {
    this.started = this.clock();
    this.inner.testStart?.(test, count);
  }
  runStart(test: KmodTest, run: number): void {
    this.inner.runStart?.(test, run);
  }
  runEnd(test: KmodTest, run: RunOutcome): void {
    this.inner.runEnd?.(test, run);
  }
  testEnd(test: KmodTest, outcome: TestOutcome): void {
    this.seconds.set(test.id, (this.clock() - this.started) / 1000);
    this.inner.testEnd?.(test, outcome);
  }
  notRun(test: KmodTest, interrupted?: Interruption): void {
    this.inner.notRun?.(test, interrupted);
  }
  skip(reason: readonly string[]): void {
    this.inner.skip?.(reason);
  }
  finish(result: SelftestResult): void {
    this.result = result;
    this.inner.finish?.(result);
  }
}

/**
 * Load addresses differ between any two boots (KASLR, allocation order): what 0012/0013 check is
 * whether an address is visible, so a non-zero address compares as "0x<address>".
 */
export function comparableValue(v: string): string {
  return v.replace(/0x(?!0{16})[0-9a-f]{16}/g, '0x<address>');
}

export function testRecords(result: SelftestResult | null, seconds: ReadonlyMap<string, number>): SelftestTestRecord[] {
  if (!result) return [];
  return result.tests.map((t) => {
    const results = new Set<string>();
    for (const r of t.runs) for (const s of r.steps) results.add(`${s.name}=${comparableValue(s.value ?? 'none')}`);
    return {
      id: t.id,
      status: t.status,
      runs: t.runs.length,
      okRuns: t.runs.filter((r) => r.ok).length,
      results: [...results],
      failure: t.runs.find((r) => r.failure !== null)?.failure ?? null,
      seconds: seconds.get(t.id) ?? null,
    };
  });
}

function writeText(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** What one session gives back. */
export interface QemuSelftestRun {
  /** the process exit code: kmod.sh's, or the session's failure (outcome.ts) */
  exitCode: number;
  /** the report (results.json), or null when the guest never booted */
  report: SelftestReport | null;
  /** the runner's result, or null when the guest failed before kmod.sh finished */
  result: SelftestResult | null;
  /** the kernel log, read when --dmesg or keepKernelLog asked for it (else '') */
  kernelLog: string;
  /** the guest's CPU count */
  cpus: number;
}

/** after a signal or our own deadline: how long the guest gets to answer, give dmesg and power off */
const SHUTDOWN_GRACE_MS = 45_000;
/** the session's hard deadline is this much after --timeout: ours fires first and closes cleanly */
const HARD_DEADLINE_GRACE_S = 60;

/** a dead guest, a session past its hard deadline, a panic: the run ends, reported as interrupted */
function sessionInterruption(e: unknown): Interruption | null {
  if (!(e instanceof GuestSessionError)) return null;
  const o = e.outcome;
  return { directive: o.state === 'timeout' ? 'TIMEOUT' : 'ERROR', reason: `${o.state}: ${o.detail}`, exitCode: exitCodeFor(o, false), ...(o.signal ? { signal: o.signal } : {}) };
}

/** Boot, run kmod.sh, keep the logs, classify. */
export async function runQemuSelftest(o: QemuSelftestOptions, io: QemuSelftestIo): Promise<QemuSelftestRun> {
  const name = parseQemuTargetName(o.spec);
  const open = o.open ?? ((s: string, opts: QemuTargetOptions) => QemuTarget.open(s, opts));
  const t0 = Date.now();
  // SIGINT, SIGTERM and --timeout stop kmod.sh between (or in the middle of) steps; the guest is
  // then shut down by us, with its logs, instead of dying under us
  const stop = runStop(o.timeoutS ? { timeoutS: o.timeoutS } : {});
  let target: Awaited<ReturnType<typeof open>>;
  try {
    target = await open(o.spec, { ...o, ...(o.timeoutS ? { timeoutS: o.timeoutS + HARD_DEADLINE_GRACE_S } : {}) });
  } catch (e) {
    stop.dispose();
    if (!(e instanceof GuestSessionError)) throw e;
    io.stderr(`kmodlab: qemu:${name}: ${e.outcome.state}: ${e.outcome.detail}\n`);
    return { exitCode: exitCodeFor(e.outcome, false), report: null, result: null, kernelLog: '', cpus: o.cpus ?? 2 };
  }
  const out = o.ktap ? new KtapReporter(io.stdout) : new KmodShReporter(io.stdout, io.stderr);
  const rep = new TimingReporter(o.wrapReporter ? o.wrapReporter(out) : out);
  const session = target instanceof QemuTarget ? target.guest.session : null;
  let backstop: NodeJS.Timeout | null = null;
  const onStop = (): void => {
    const why = stop.signal.reason as Interruption | undefined;
    if (why?.signal) session?.interrupt(why.signal);
    // a guest that does not answer in time is killed: a stop must not hang
    backstop = setTimeout(() => (target instanceof QemuTarget ? target.guest.kill() : undefined), SHUTDOWN_GRACE_MS);
  };
  if (stop.signal.aborted) onStop();
  else stop.signal.addEventListener('abort', onStop, { once: true });
  let result: SelftestResult | null = null;
  let failure: GuestSessionError | null = null;
  let kernelLog = '';
  try {
    result = await runSelftest({
      target,
      args: o.args,
      env: io.env,
      era: o.era ?? NEWEST_KMOD_SH,
      reporter: rep,
      keepGoing: o.keepGoing ?? false,
      ...(o.watchRounds !== undefined ? { watchRounds: o.watchRounds } : {}),
      signal: stop.signal,
      interruption: sessionInterruption,
    });
    if (o.dmesg !== undefined || o.keepKernelLog) kernelLog = await target.kernelLog();
    if (o.dmesg !== undefined) writeText(o.dmesg, kernelLog);
  } catch (e) {
    if (!(e instanceof GuestSessionError)) throw e;
    failure = e;
  } finally {
    await target.close();
    if (backstop) clearTimeout(backstop);
    stop.signal.removeEventListener('abort', onStop);
    stop.dispose();
  }
  let outcome = failure ? failure.outcome : target.outcome();
  // our own deadline: the guest was shut down cleanly, but the run is a timeout
  if (!failure && result?.interrupted?.directive === 'TIMEOUT' && outcome.state !== 'kernel-panic') outcome = { state: 'timeout', detail: result.interrupted.reason };
  // a guest that died before dmesg could run: its console is the kernel log we have
  if (failure && o.dmesg !== undefined && target instanceof QemuTarget) writeText(o.dmesg, target.guest.session.consoleLog());
  const passed = result !== null && result.exitCode === 0;
  const exitCode = outcome.state === 'ran' && result ? result.exitCode : exitCodeFor(outcome, passed);
  const report: SelftestReport = {
    target: target.name,
    kernel: target.kernel,
    outcome,
    exitCode,
    tests: testRecords(result ?? rep.result, rep.seconds),
    seconds: (Date.now() - t0) / 1000,
  };
  if (o.logDir) writeText(join(o.logDir, 'results.json'), JSON.stringify(report, null, 2) + '\n');
  if (outcome.state !== 'ran') io.stderr(`kmodlab: ${target.name}: ${outcome.state}: ${outcome.detail} (exit ${exitCode})\n`);
  else io.stderr(`kmodlab: ${target.name} (${target.kernel}): ${summary(report)} in ${report.seconds.toFixed(0)} s\n`);

  const cpus = target instanceof QemuTarget ? target.guest.cpus : (o.cpus ?? 2);
  return { exitCode, report, result, kernelLog, cpus };
}

function summary(r: SelftestReport): string {
  const by = (s: string) => r.tests.filter((t) => t.status === s);
  const fail = by('fail');
  const notRun = by('not-run');
  return [
    `${by('pass').length} passed`,
    `${fail.length} failed${fail.length ? ` (${fail.map((t) => t.id).join(', ')})` : ''}`,
    ...(notRun.length ? [`${notRun.length} not run`] : []),
  ].join(', ');
}
