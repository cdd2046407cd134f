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
 * `--compare` runs the same kmod.sh invocation on the simulated kernel the real one corresponds
 * to (kernels.ts: simPreset) with the qemu-tcg machine profile and the same CPU count, and
 * prints both per-test tables side by side (src/experiments/compare.ts); a run whose tests passed
 * exits 1 when the two disagree in a way nothing explains (compareSelftest: the only
 * timing-dependent outcome is the kmod limiter's 5-second wait, explained from the kernel log).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compareTables, type Comparison, type OutcomeTable } from '../../experiments/compare.js';
import {
  KmodShReporter,
  KtapReporter,
  NEWEST_KMOD_SH,
  runSelftest,
  type KmodShEra,
  type KmodTest,
  type RunOutcome,
  type SelftestReporter,
  type SelftestResult,
  type Stream,
  type TestOutcome,
} from '../../selftest/index.js';
import { createSimTarget } from '../sim.js';
import type { Target } from '../../selftest/target.js';
import { kernelSpec } from './kernels.js';
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
  /** run the same plan on the matching sim preset and print both tables */
  compare?: boolean;
  /** sim preset for --compare (default: the kernel's simPreset) */
  comparePreset?: string;
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
  testStart(test: KmodTest): void {
    this.started = this.clock();
    this.inner.testStart?.(test);
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
  notRun(test: KmodTest): void {
    this.inner.notRun?.(test);
  }
  skip(reason: readonly string[]): void {
    this.inner.skip?.(reason);
  }
  finish(result: SelftestResult): void {
    this.result = result;
    this.inner.finish?.(result);
  }
}

/** A reporter that prints nothing (the sim side of --compare). */
const SILENT: SelftestReporter = { line: () => {} };

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

/** A selftest report as an outcome table: status and results compared, time shown. */
export function selftestTable(r: SelftestReport): OutcomeTable {
  return {
    keyColumns: ['test'],
    valueColumns: ['status', 'results'],
    infoColumns: ['s'],
    rows: r.tests.map((t) => ({
      key: [t.id],
      values: [`${t.status} ${t.okRuns}/${t.runs}`, t.results.map((x) => x.replace(/^kmod_test_\d{4}_?/, '')).join(' ')],
      info: [t.seconds === null ? '' : t.seconds.toFixed(1)],
    })),
  };
}

/** "kmod busy with 50 threads for more than 5 seconds now": a request_module that timed out */
const LIMITER_TIMEOUT_RE = /request_module: modprobe \S+ cannot be processed, kmod busy with \d+ threads for more than \d+ seconds now/g;

/** How often the kernel log shows the kmod limiter's wait expiring (-ETIME). */
export function limiterTimeouts(kernelLog: string): number {
  return kernelLog.match(LIMITER_TIMEOUT_RE)?.length ?? 0;
}

export function limiterNote(n: number): string {
  return (
    `timing-dependent: the real kernel's kmod limiter wait (5 s for one of 50 slots) expired ${n} times ` +
    '("kmod busy with 50 threads for more than 5 seconds" in its log), so throttled requests failed with -ETIME ' +
    '(a driver test sees -62; get_fs_type returns NULL and an fs test sees -22). Whether the throttled threads get a slot in ' +
    "time depends on how fast the guest's 50 concurrent modprobes finish; the sim's qemu-tcg timings come from a run where they always did"
  );
}

/**
 * The selftest comparison. Outcomes do not depend on timing except through the kmod limiter's
 * 5-second wait: a failure with -ETIME (-62) or, for an fs test, -EINVAL (-22) is explained when
 * the real kernel's log shows that wait expiring; every other difference is a finding.
 */
export function compareSelftest(real: SelftestReport, sim: SelftestReport, evidence: { limiterTimeouts?: number } = {}): Comparison {
  const n = evidence.limiterTimeouts ?? 0;
  const byId = new Map(real.tests.map((t) => [t.id, t]));
  return compareTables({ label: `real ${real.kernel}`, table: selftestTable(real) }, { label: `sim ${sim.kernel}`, table: selftestTable(sim) }, (key) => {
    const t = byId.get(key[0]!);
    if (n === 0 || !t || t.status !== 'fail') return null;
    return t.results.some((r) => /=(-62|-22)$/.test(r)) && !t.results.some((r) => r.startsWith('kmod_check_visibility')) ? limiterNote(n) : null;
  });
}

/** The same kmod.sh invocation on the simulator (for --compare). */
export async function runSimSelftest(o: {
  preset: string;
  cpus: number;
  args: string[];
  env: QemuSelftestIo['env'];
  era?: KmodShEra;
  keepGoing?: boolean;
}): Promise<SelftestReport> {
  const target = createSimTarget({ kernel: o.preset, machine: 'qemu-tcg', cpus: o.cpus, ...(o.env.DIR ? { dir: o.env.DIR } : {}) });
  // time the sim's tests by its virtual clock (ns → ms), not by how fast the host simulates
  const clock = () => target.system.sim.now / 1e6;
  const rep = new TimingReporter(SILENT, clock);
  const r = await runSelftest({ target, args: o.args, env: o.env, era: o.era ?? NEWEST_KMOD_SH, reporter: rep, keepGoing: o.keepGoing ?? false });
  await target.close();
  return {
    target: `sim:${o.preset}`,
    kernel: o.preset,
    outcome: { state: 'ran', detail: 'completed' },
    exitCode: r.exitCode,
    tests: testRecords(r, rep.seconds),
    seconds: clock() / 1000,
  };
}

function writeText(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Boot, run kmod.sh, keep the logs, classify; resolves to the process exit code. */
export async function runQemuSelftest(o: QemuSelftestOptions, io: QemuSelftestIo): Promise<number> {
  const name = parseQemuTargetName(o.spec);
  const open = o.open ?? ((s: string, opts: QemuTargetOptions) => QemuTarget.open(s, opts));
  const t0 = Date.now();
  let target: Awaited<ReturnType<typeof open>>;
  try {
    target = await open(o.spec, o);
  } catch (e) {
    if (!(e instanceof GuestSessionError)) throw e;
    io.stderr(`kmodlab: qemu:${name}: ${e.outcome.state}: ${e.outcome.detail}\n`);
    return exitCodeFor(e.outcome, false);
  }
  const rep = new TimingReporter(o.ktap ? new KtapReporter(io.stdout) : new KmodShReporter(io.stdout, io.stderr));
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
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
      signal: ac.signal,
    });
    if (o.dmesg !== undefined || o.compare) kernelLog = await target.kernelLog();
    if (o.dmesg !== undefined) writeText(o.dmesg, kernelLog);
  } catch (e) {
    if (!(e instanceof GuestSessionError)) throw e;
    failure = e;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await target.close();
  }
  const outcome = failure ? failure.outcome : target.outcome();
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

  // an interrupted run (Ctrl-C, exit 130) ran only part of its plan: nothing to set beside it
  if (o.compare && result?.exitCode === 130) io.stderr('kmodlab: --compare: skipped, the run was interrupted\n');
  else if (o.compare && outcome.state === 'ran' && result && !result.skipped) {
    const preset = o.comparePreset ?? kernelSpec(name).simPreset;
    const cpus = target instanceof QemuTarget ? target.guest.cpus : (o.cpus ?? 2);
    const sim = await runSimSelftest({ preset, cpus, args: o.args, env: io.env, era: o.era ?? NEWEST_KMOD_SH, keepGoing: o.keepGoing ?? false });
    const cmp = compareSelftest(report, sim, { limiterTimeouts: limiterTimeouts(kernelLog) });
    io.stdout(`\n# --compare: ${target.name} (${target.kernel}, ${cpus} vCPUs) vs sim ${preset} on qemu-tcg, ${cpus} CPUs (times: host wall s vs virtual s)\n\n${cmp.text}`);
    if (o.logDir) writeText(join(o.logDir, 'compare.txt'), cmp.text);
    // a disagreement with the model is a failed check even when every test passed
    if (cmp.unexplained > 0 && exitCode === 0) return 1;
  }
  return exitCode;
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
