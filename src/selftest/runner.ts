/**
 * DOC: the kmod.sh port — the script's flow, helpers and tests, driven through a Target.
 *
 * This follows tools/testing/selftests/kmod/kmod.sh step by step (spec §7): test_reqs
 * (modprobe, kmod, a kmod without the ≤ 19 initstate bug, root → skip, exit 4),
 * allow_user_defaults (environment overrides), load_req_mod (`modprobe test_kmod` if test_kmod0 is missing; still missing → the
 * config fragment and exit 4), saving /proc/sys/kernel/modprobe and arming the EXIT trap that
 * restores it and prints "Test completed" (v5.7+ scripts), then parse_args.
 *
 * `set -e` is modelled by ShellExit: any failing step ends the whole run at once with its exit
 * status (the trap still runs), exactly where the script would stop. Each shell command maps to
 * one Target call: `echo -n X > $DIR/knob` → writeKnob, `cat $DIR/knob` → readKnob, `modprobe`
 * → modprobe, `echo P > /proc/sys/kernel/modprobe` → writeModprobePath, the CAP_SYSLOG readers
 * of 0012/0013 → readFile with and without dropCapSyslog, `date` → date().
 *
 * Output goes through a SelftestReporter: the plain one prints the script's own lines on the
 * script's own streams (a FAIL of config_expect_result and bash's write errors on stderr; the
 * config_trigger FAIL line and the config dump on stdout, as kmod.sh does); the KTAP one
 * (ktap.ts) turns the same events into KTAP. Two kmodlab extensions, both off by default:
 * `keepGoing` (after a failed run, restore the modprobe path and continue with the next test,
 * to get every test's outcome in one pass) and `watchRounds` (bound `-w`).
 */
import { strerror } from '../kernel/errno.js';
import { kmodRelease } from '../userspace/kmod-releases.js';
import { KnobError, type Target } from './target.js';
import {
  KMOD_CONFIG_FRAGMENT,
  NEWEST_KMOD_SH,
  errno_name_to_val,
  errno_val_to_name,
  kmodShScript,
  testsForEra,
  type KmodShEra,
  type KmodTest,
} from './tests.js';

export const SCRIPT = 'kmod.sh';
const DASHES = '-'.repeat(52);
const KMOD_FIX_URL =
  'http://git.kernel.org/cgit/utils/kernel/kmod/kmod.git/commit/libkmod/libkmod-module.c?id=fd44a98ae2eb5eb32161088954ab21e58e19dfc4';

export type Stream = 'stdout' | 'stderr';

/** one checked step of a run: a config_expect_result, a config_trigger, or a visibility check */
export interface StepOutcome {
  /** the bash function name kmod.sh prints, e.g. kmod_test_0001_driver */
  name: string;
  /** what the step expects: SUCCESS, MODULE_NOT_FOUND, -EINVAL, -ENOENT, "trigger", "visibility" */
  expected: string;
  /** what it got: test_result as read (e.g. "256"), the trigger's -errno, or "'priv' vs 'unpriv'" */
  value: string | null;
  ok: boolean;
}

export interface RunOutcome {
  run: number;
  ok: boolean;
  steps: StepOutcome[];
  /** the first line kmod.sh printed about the failure */
  failure: string | null;
  /** the run did not end by itself: a deadline, a signal or a dead target stopped it */
  interrupted?: Interruption;
}

/**
 * Why a run was stopped from outside (not by a test's own failure): `--timeout` (KTAP `# TIMEOUT`)
 * or a signal or a target that went away (`# ERROR <reason>`), with the process's exit code.
 */
export interface Interruption {
  directive: 'TIMEOUT' | 'ERROR';
  /** one line, e.g. "interrupted by SIGINT", "--timeout 40 s" */
  reason: string;
  /** 124 (timeout), 130 (SIGINT), 143 (SIGTERM), or the target's failure code */
  exitCode: number;
  /** the signal, when one stopped the run */
  signal?: NodeJS.Signals;
}

/** what an abort without a reason of its own means (a plain AbortController.abort()) */
const DEFAULT_INTERRUPTION: Interruption = { directive: 'ERROR', reason: 'interrupted', exitCode: 130 };

function isInterruption(v: unknown): v is Interruption {
  const i = v as Partial<Interruption> | null;
  return !!i && (i.directive === 'TIMEOUT' || i.directive === 'ERROR') && typeof i.reason === 'string' && typeof i.exitCode === 'number';
}

export interface TestOutcome {
  id: string;
  name: string;
  status: 'pass' | 'fail' | 'not-run';
  runs: RunOutcome[];
  /** the count of runs kmod.sh planned for this test (`-c NNNN K`'s K, the test's default count) */
  planned?: number;
  /** set when the test was stopped from outside while it ran (status is then 'fail') */
  interrupted?: Interruption;
}

export interface SelftestResult {
  exitCode: number;
  /** the run ended in a precondition skip (exit 4) */
  skipped: boolean;
  /** skip messages, if skipped */
  skipReason: string[];
  /** planned tests in order, with what happened to each */
  tests: TestOutcome[];
  /** runs that started */
  iterations: number;
  /** the whole run was stopped from outside (deadline, signal, dead target), or null */
  interrupted: Interruption | null;
}

/** Receives what the script prints, and the structure around it. */
export interface SelftestReporter {
  line(stream: Stream, text: string): void;
  /** the `clear` of watch mode */
  clear?(): void;
  /** the tests this invocation is going to run, in order (not called for -l/-h/usage/-w) */
  plan?(tests: readonly KmodTest[]): void;
  /** a test begins; `count` is the number of runs kmod.sh plans for it */
  testStart?(test: KmodTest, count: number): void;
  runStart?(test: KmodTest, run: number): void;
  runEnd?(test: KmodTest, run: RunOutcome): void;
  testEnd?(test: KmodTest, outcome: TestOutcome): void;
  /** a planned test that never ran (an earlier failure ended the script, or `interrupted` did) */
  notRun?(test: KmodTest, interrupted?: Interruption): void;
  skip?(reason: readonly string[]): void;
  finish?(result: SelftestResult): void;
}

export interface SelftestOptions {
  target: Target;
  /** kmod.sh's own arguments */
  args: readonly string[];
  /** the environment kmod.sh reads (DEFAULT_KMOD_DRIVER, DEFAULT_KMOD_FS, MODPROBE_LIMIT, …) */
  env?: Readonly<Record<string, string | undefined>>;
  /** which script: decides the test list and the restore trap (default the newest, v5.8) */
  era?: KmodShEra;
  reporter: SelftestReporter;
  /** kmodlab extension: continue with the next test after a failure (exit code still 1) */
  keepGoing?: boolean;
  /** kmodlab extension: stop `-w` after this many rounds (default: until a failure) */
  watchRounds?: number;
  /**
   * stop the run (a signal, a deadline): the step in flight is abandoned at once, the open test
   * and run are reported as interrupted, the trap runs; the abort's reason may be an Interruption
   * (its directive, reason and exit code), else it counts as "interrupted", exit 130
   */
  signal?: AbortSignal;
  /** an error a target call threw that ends the run as an interruption (a dead guest), or null
   *  to let it propagate as it is; the run is reported and closed first, then the error is rethrown */
  interruption?: (err: unknown) => Interruption | null;
}

/** `exit N` somewhere in the script (set -e included), or the run stopped from outside */
class ShellExit {
  constructor(
    readonly code: number,
    readonly interrupted?: Interruption,
  ) {}
}

/** the interruption an abort signal carries */
function abortInterruption(signal: AbortSignal): Interruption {
  return isInterruption(signal.reason) ? signal.reason : DEFAULT_INTERRUPTION;
}

/**
 * The target seen through an abort signal: every call that is still pending when the signal
 * fires rejects at once with the interruption, so a step that takes minutes on a real kernel (a
 * trigger of 0009, a modprobe) does not hold a Ctrl-C or a deadline back. The call itself goes
 * on in the target; its late answer is dropped.
 */
function abortable(target: Target, signal: AbortSignal | undefined): { target: Target; dispose(): void } {
  if (!signal) return { target, dispose: () => {} };
  // the pending calls' rejecters, in call order; one listener on the signal for all of them (an
  // AbortSignal listener added and removed per call cost more than the simulated call itself)
  const pending = new Set<(e: ShellExit) => void>();
  const onAbort = (): void => {
    for (const reject of pending) reject(new ShellExit(abortInterruption(signal).exitCode, abortInterruption(signal)));
    pending.clear();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const race = <T>(p: Promise<T>): Promise<T> => {
    if (signal.aborted) {
      p.catch(() => {});
      return Promise.reject(new ShellExit(abortInterruption(signal).exitCode, abortInterruption(signal)));
    }
    return new Promise<T>((resolve, reject) => {
      pending.add(reject);
      p.then(
        (v) => {
          pending.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          pending.delete(reject);
          reject(e);
        },
      );
    });
  };
  const proxy = new Proxy(target, {
    get(obj, prop, recv) {
      const v: unknown = Reflect.get(obj, prop, recv);
      if (typeof v !== 'function' || prop === 'close') return v;
      return (...args: unknown[]) => {
        const r: unknown = (v as (...a: unknown[]) => unknown).apply(obj, args);
        return r instanceof Promise ? race(r) : r;
      };
    },
  });
  return { target: proxy, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/** one turn of the event loop: lets a signal handler or a deadline timer run between runs on a
 *  target whose calls never wait for I/O (the simulator) */
const eventLoopTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** the environment after allow_user_defaults */
export interface KmodShDefaults {
  DEFAULT_KMOD_DRIVER: string;
  DEFAULT_KMOD_FS: string;
  PROC_DIR: string;
  MODPROBE_LIMIT: string;
  DIR: string;
  DEFAULT_NUM_TESTS: string;
  MODPROBE_LIMIT_FILE: string;
}

/** allow_user_defaults: unset or empty variables get the script's defaults */
export function allow_user_defaults(env: Readonly<Record<string, string | undefined>> = {}): KmodShDefaults {
  const v = (k: string, d: string): string => {
    const x = env[k];
    return x === undefined || x === '' ? d : x;
  };
  const PROC_DIR = v('PROC_DIR', '/proc/sys/kernel/');
  return {
    DEFAULT_KMOD_DRIVER: v('DEFAULT_KMOD_DRIVER', 'test_module'),
    DEFAULT_KMOD_FS: v('DEFAULT_KMOD_FS', 'xfs'),
    PROC_DIR,
    MODPROBE_LIMIT: v('MODPROBE_LIMIT', '50'),
    DIR: v('DIR', '/sys/devices/virtual/misc/test_kmod0/'),
    DEFAULT_NUM_TESTS: v('DEFAULT_NUM_TESTS', '150'),
    // the script always derives it from PROC_DIR; kmodlab also lets the environment set it
    MODPROBE_LIMIT_FILE: v('MODPROBE_LIMIT_FILE', `${PROC_DIR}/kmod-limit`),
  };
}

/** bash integer arithmetic on a variable's text: a number, or 0 for anything else */
function arith(s: string): number {
  const t = s.trim();
  return /^[+-]?\d+$/.test(t) ? Number.parseInt(t, 10) : 0;
}


/** What a parsed command line asks for. */
export type KmodShCommand =
  | { kind: 'all' }
  | { kind: 'case'; id: string; count: number }
  | { kind: 'watch'; id: string | null }
  | { kind: 'list' }
  | { kind: 'usage' };

/**
 * parse_args: `all`/nothing, `-t NNNN`, `-s NNNN`, `-c NNNN K`, `-w [NNNN]`, `-l`, `-h`/`--help`.
 * Non-numeric or unknown IDs, a non-numeric K and anything else → usage.
 */
export function parse_args(args: readonly string[], tests: readonly KmodTest[]): KmodShCommand {
  const numeric = (s: string | undefined): s is string => s !== undefined && /^[0-9]+$/.test(s);
  // field lookup by position with the leading zeros stripped, as v5.7+ does
  const find = (s: string | undefined): KmodTest | null => {
    if (!numeric(s)) return null;
    const n = Number.parseInt(s.replace(/^0*/, '') || '0', 10);
    return n >= 1 && n <= tests.length ? tests[n - 1]! : null;
  };
  if (args.length === 0 || args[0] === 'all') return { kind: 'all' };
  const [flag, a, b] = args;
  switch (flag) {
    case '-w': {
      if (args.length !== 2) return { kind: 'watch', id: null };
      const t = find(a);
      return t === null ? { kind: 'usage' } : { kind: 'watch', id: t.id };
    }
    case '-t': {
      const t = find(a);
      return t === null ? { kind: 'usage' } : { kind: 'case', id: t.id, count: t.count };
    }
    case '-c': {
      const t = find(a);
      if (t === null || !numeric(b)) return { kind: 'usage' };
      return { kind: 'case', id: t.id, count: Number.parseInt(b, 10) };
    }
    case '-s': {
      const t = find(a);
      return t === null ? { kind: 'usage' } : { kind: 'case', id: t.id, count: 1 };
    }
    case '-l':
      return { kind: 'list' };
    default:
      return { kind: 'usage' };
  }
}

/** list_tests */
export function list_tests(tests: readonly KmodTest[]): string[] {
  return [
    'Test ID list:',
    '',
    'TEST_ID x NUM_TEST',
    'TEST_ID:   Test ID',
    'NUM_TESTS: Number of recommended times to run the test',
    '',
    ...tests.map((t) => `${t.id} x ${t.count} - ${t.description}`),
  ];
}

/** usage (followed by list_tests; the script then exits 1) */
export function usage(tests: readonly KmodTest[], era: KmodShEra): string[] {
  const max = String(tests.length).padStart(4, '0');
  // the 4.13 script had the -s and -c descriptions swapped
  const swapped = kmodShScript(era).usageSwapsSC;
  const s = swapped ? 'Run test ID x test-count number of times' : 'Run test ID once';
  const c = swapped ? 'Run test ID once' : 'Run test ID x test-count number of times';
  return [
    `Usage: ${SCRIPT} [ -t <4-number-digit> ] | [ -w <4-number-digit> ] |`,
    '\t\t [ -s <4-number-digit> ] | [ -c <4-number-digit> <test- count>',
    '           [ all ] [ -h | --help ] [ -l ]',
    '',
    `Valid tests: 0001-${max}`,
    '',
    '    all     Runs all tests (default)',
    '    -t      Run test ID the number amount of times is recommended',
    '    -w      Watch test ID run until it runs into an error',
    `    -s      ${s}`,
    `    -c      ${c}`,
    '    -l      List all test ID list',
    ' -h|--help  Help',
    '',
    'If an error every occurs execution will immediately terminate.',
    'If you are adding a new test try using -w <test-ID> first to',
    'make sure the test passes a series of tests.',
    '',
    'Example uses:',
    '',
    'kmod.sh\t\t-- executes all tests',
    'kmod.sh -t 0008\t-- Executes test ID 0008 number of times is recommended',
    'kmod.sh -w 0008\t-- Watch test ID 0008 run until an error occurs',
    'kmod.sh -s 0008\t-- Run test ID 0008 once',
    'kmod.sh -c 0008 3\t-- Run test ID 0008 three times',
    '',
    ...list_tests(tests),
  ];
}

/** the tests a command will run, in order (for KTAP's plan) */
export function plannedTests(cmd: KmodShCommand, tests: readonly KmodTest[]): KmodTest[] {
  if (cmd.kind === 'all') return tests.filter((t) => t.enabled);
  if (cmd.kind === 'case') return tests.filter((t) => t.id === cmd.id);
  return [];
}

/** Run kmod.sh against a target. Never throws for test failures; returns the exit code. */
export async function runSelftest(opts: SelftestOptions): Promise<SelftestResult> {
  return new KmodSh(opts).main();
}

class KmodSh {
  private readonly t: Target;
  /** the target itself, for the EXIT trap, which runs after an abort too */
  private readonly raw: Target;
  private readonly disposeAbortable: () => void;
  private readonly r: SelftestReporter;
  private readonly era: KmodShEra;
  private readonly tests: KmodTest[];
  private d: KmodShDefaults;
  private MODPROBE = '';
  private trapArmed = false;
  private iterations = 0;
  /** outcome of the run in progress */
  private cur: RunOutcome | null = null;
  private outcomes = new Map<string, TestOutcome>();
  private planned: KmodTest[] = [];

  constructor(private readonly opts: SelftestOptions) {
    this.raw = opts.target;
    const a = abortable(opts.target, opts.signal);
    this.t = a.target;
    this.disposeAbortable = a.dispose;
    this.r = opts.reporter;
    this.era = opts.era ?? NEWEST_KMOD_SH;
    this.tests = testsForEra(this.era);
    this.d = allow_user_defaults(opts.env);
  }

  private out(text: string): void {
    this.r.line('stdout', text);
  }
  private err(text: string): void {
    this.r.line('stderr', text);
  }
  private fail(first: string): void {
    if (this.cur !== null && this.cur.failure === null) this.cur.failure = first;
  }
  private checkAbort(): void {
    const s = this.opts.signal;
    if (s?.aborted) throw new ShellExit(abortInterruption(s).exitCode, abortInterruption(s));
  }

  /** the interruption an error means: a stop from outside, or a target failure the caller
   *  classifies as one; null for kmod.sh's own exits and for anything else */
  private interruptionOf(e: unknown): Interruption | null {
    if (e instanceof ShellExit) return e.interrupted ?? null;
    return this.opts.interruption?.(e) ?? null;
  }

  async main(): Promise<SelftestResult> {
    try {
      return await this.script();
    } finally {
      this.disposeAbortable();
    }
  }

  private async script(): Promise<SelftestResult> {
    let code = 0;
    let skipped = false;
    let skipReason: string[] = [];
    let interrupted: Interruption | null = null;
    /** a target failure that ended the run: rethrown once the run is reported */
    let rethrow: { error: unknown } | null = null;
    try {
      const why = await this.test_reqs();
      if (why !== null) {
        skipped = true;
        skipReason = why;
        throw new ShellExit(4);
      }
      const missing = await this.load_req_mod();
      if (missing !== null) {
        skipped = true;
        skipReason = missing;
        throw new ShellExit(4);
      }
      if (kmodShScript(this.era).finishTrap) {
        this.MODPROBE = await this.t.readModprobePath();
        this.trapArmed = true;
      }
      await this.parse_args();
      if (this.keptGoingAfterFailure) code = 1;
    } catch (e) {
      interrupted = this.interruptionOf(e);
      if (!(e instanceof ShellExit)) {
        if (interrupted === null) throw e;
        rethrow = { error: e };
      }
      code = interrupted?.exitCode ?? (e as ShellExit).code;
    }
    if (skipped) {
      for (const l of skipReason) this.err(l);
      this.r.skip?.(skipReason);
    }
    // the trap runs on a signal too (bash runs EXIT traps then), never on a dead target
    if (this.trapArmed && rethrow === null) await this.test_finish();
    const tests = this.planned.map(
      (t) => this.outcomes.get(t.id) ?? { id: t.id, name: `kmod_test_${t.id}`, status: 'not-run' as const, runs: [] },
    );
    for (const t of this.planned) if (!this.outcomes.has(t.id)) this.r.notRun?.(t, interrupted ?? undefined);
    const result: SelftestResult = { exitCode: code, skipped, skipReason, tests, iterations: this.iterations, interrupted };
    this.r.finish?.(result);
    if (rethrow !== null) throw rethrow.error;
    return result;
  }

  // ------------------------------------------------------------------ setup

  private async test_reqs(): Promise<string[] | null> {
    const p = await this.t.preconditions();
    if (!p.modprobe) return [`${SCRIPT}: You need modprobe installed`];
    if (!p.kmod) return [`${SCRIPT}: You need kmod installed`];
    // the script's `-le 19`: the kmod releases that read a loading module as built in
    if (p.kmodVersion === null || kmodRelease(p.kmodVersion).missingInitstateIsBuiltin) {
      return [`${SCRIPT}: You need at least kmod 20`, 'kmod <= 19 is buggy, for details see:', KMOD_FIX_URL];
    }
    if (!p.root) return ['must be run as root'];
    return null;
  }

  /** the directory check of test_modprobe, after `modprobe test_kmod` if needed */
  private async load_req_mod(): Promise<string[] | null> {
    let p = await this.t.preconditions();
    if (!p.testKmodPresent) {
      const r = await this.t.loadTestKmod();
      this.passThrough(r.stdout, r.stderr);
      p = await this.t.preconditions();
    }
    if (p.testKmodPresent) return null;
    return [`${SCRIPT}: ${this.d.DIR} not present`, 'You must have the following enabled in your kernel:', ...KMOD_CONFIG_FRAGMENT];
  }

  private async test_finish(): Promise<void> {
    await this.raw.writeModprobePath(this.MODPROBE);
    this.out('Test completed');
  }

  private passThrough(stdout: string, stderr: string): void {
    for (const l of lines(stdout)) this.out(l);
    for (const l of lines(stderr)) this.err(l);
  }

  // ------------------------------------------------------------------ command line

  private async parse_args(): Promise<void> {
    const cmd = parse_args(this.opts.args, this.tests);
    switch (cmd.kind) {
      case 'list':
        for (const l of list_tests(this.tests)) this.out(l);
        return;
      case 'usage':
        for (const l of usage(this.tests, this.era)) this.out(l);
        throw new ShellExit(1);
      case 'watch':
        return this.watch_case(cmd.id);
      default:
        this.planned = plannedTests(cmd, this.tests);
        this.r.plan?.(this.planned);
        if (cmd.kind === 'all') return this.run_all_tests();
        return this.test_case(this.planned[0]!, cmd.count);
    }
  }

  private async run_all_tests(): Promise<void> {
    for (const t of this.tests) if (t.enabled) await this.test_case(t, t.count);
  }

  private async watch_log(run: number, name: string, clear: boolean): Promise<void> {
    if (clear) this.r.clear?.();
    this.out(await this.t.date());
    this.out(`Running test: ${name} - run #${run}`);
  }

  private async watch_case(id: string | null): Promise<void> {
    const rounds = this.opts.watchRounds ?? Infinity;
    for (let i = 0; i < rounds; i++) {
      await eventLoopTurn();
      this.checkAbort();
      if (id !== null) {
        await this.watch_log(i, `kmod_test_${id}`, true);
        this.iterations++;
        await this.kmod_test(id);
      } else {
        await this.watch_log(i, 'all', true);
        await this.run_all_tests();
      }
    }
  }

  private async test_case(test: KmodTest, count: number): Promise<void> {
    // a stop that arrives between two tests leaves the next one not run, not begun
    await eventLoopTurn();
    this.checkAbort();
    const outcome: TestOutcome = { id: test.id, name: `kmod_test_${test.id}`, status: 'pass', runs: [], planned: count };
    this.outcomes.set(test.id, outcome);
    this.r.testStart?.(test, count);
    try {
      for (let i = 0; i < count; i++) {
        if (i > 0) await eventLoopTurn();
        this.checkAbort();
        const run: RunOutcome = { run: i, ok: true, steps: [], failure: null };
        this.cur = run;
        outcome.runs.push(run);
        this.r.runStart?.(test, i);
        await this.watch_log(i, `kmod_test_${test.id}`, false);
        this.iterations++;
        try {
          await this.kmod_test(test.id);
        } catch (e) {
          run.ok = false;
          outcome.status = 'fail';
          const stop = this.interruptionOf(e);
          if (stop !== null) {
            run.interrupted = stop;
            outcome.interrupted = stop;
          }
          this.r.runEnd?.(test, run);
          throw e;
        } finally {
          this.cur = null;
        }
        this.r.runEnd?.(test, run);
      }
    } catch (e) {
      // stopped between two runs: the test is cut short all the same
      const stop = this.interruptionOf(e);
      if (stop !== null && outcome.interrupted === undefined) {
        outcome.status = 'fail';
        outcome.interrupted = stop;
      }
      this.r.testEnd?.(test, outcome);
      if (e instanceof ShellExit && e.interrupted === undefined && this.opts.keepGoing) {
        // what the EXIT trap would have done before the next test
        if (this.trapArmed) await this.t.writeModprobePath(this.MODPROBE);
        this.keptGoingAfterFailure = true;
        return;
      }
      throw e;
    }
    this.r.testEnd?.(test, outcome);
  }
  private keptGoingAfterFailure = false;

  // ------------------------------------------------------------------ helpers (kmod.sh's)

  /** `echo -n DATA > $DIR/KNOB` (or printf): a failed write prints bash's error, then MSG */
  private async write(knob: string, data: string, msg: string | null, builtin = 'echo'): Promise<void> {
    this.checkAbort();
    const n = await this.t.writeKnob(knob, data);
    if (n >= 0) return;
    this.err(`${SCRIPT}: ${builtin}: write error: ${strerror(n)}`);
    this.fail(msg ?? `${knob}: write error: ${strerror(n)}`);
    if (msg !== null) this.err(msg);
    throw new ShellExit(1);
  }

  /** `cat $DIR/KNOB` inside $(…): the content without trailing newlines; a failure exits */
  private async cat(knob: string): Promise<string> {
    this.checkAbort();
    try {
      return (await this.t.readKnob(knob)).replace(/\n+$/, '');
    } catch (e) {
      if (!(e instanceof KnobError)) throw e;
      const m = `cat: ${this.d.DIR}${knob}: ${strerror(e.errno)}`;
      this.err(m);
      this.fail(m);
      throw new ShellExit(1);
    }
  }

  private async modprobe(args: string[]): Promise<void> {
    this.checkAbort();
    const r = await this.t.modprobe(args);
    this.passThrough(r.stdout, r.stderr);
    if (r.exitCode !== 0) {
      this.fail(`modprobe ${args.join(' ')}: exit ${r.exitCode}${r.stderr ? `: ${lines(r.stderr)[0]}` : ''}`);
      throw new ShellExit(r.exitCode);
    }
  }

  private config_reset(): Promise<void> {
    return this.write('reset', '1', `${SCRIPT}: reset should have worked`);
  }
  private config_set_driver(name: string): Promise<void> {
    return this.write('config_test_driver', name, `${SCRIPT}: Unable to set driver`);
  }
  private config_set_fs(name: string): Promise<void> {
    return this.write('config_test_fs', name, `${SCRIPT}: Unable to set driver`);
  }
  private config_set_test_case_fs(): Promise<void> {
    return this.write('config_test_case', '2', `${SCRIPT}: Unable to set to test case to fs`);
  }
  private config_num_threads(n: string): Promise<void> {
    return this.write('config_num_threads', n, `${SCRIPT}: Unable to set to number of threads`);
  }

  private async config_get_modprobe_limit(): Promise<string> {
    try {
      return (await this.t.readFile(this.d.MODPROBE_LIMIT_FILE)).replace(/\n+$/, '');
    } catch {
      return this.d.MODPROBE_LIMIT;
    }
  }

  /** config_num_thread_limit_extra: LIMIT + extra threads */
  private async config_num_thread_limit_extra(extra: number): Promise<void> {
    const limit = arith(await this.config_get_modprobe_limit());
    await this.config_num_threads(String(limit + extra));
  }

  private async config_show_config(): Promise<void> {
    this.out(DASHES);
    let text: string;
    try {
      text = await this.t.readKnob('config');
    } catch (e) {
      if (!(e instanceof KnobError)) throw e;
      this.err(`cat: ${this.d.DIR}config: ${strerror(e.errno)}`);
      text = '';
    }
    for (const l of lines(text)) this.out(l);
    this.out(DASHES);
  }

  private async config_trigger(name: string): Promise<void> {
    this.checkAbort();
    const n = await this.t.writeKnob('trigger_config', '1');
    if (n < 0) {
      const m = `${name}: FAIL - loading should have worked`;
      this.cur?.steps.push({ name, expected: 'trigger', value: String(n), ok: false });
      this.fail(m);
      this.out(m);
      await this.config_show_config();
      throw new ShellExit(1);
    }
    this.out(`${name}: OK! - loading kmod test`);
  }

  private async config_expect_result(name: string, expected: string): Promise<void> {
    const RC = await this.cat('test_result');
    const RC_NAME = errno_val_to_name(RC);
    const ERRNO = errno_name_to_val(expected);
    let bad: string | null = null;
    if (expected === '-ERR_ANY') {
      if (arith(RC) >= 0) bad = `${name}: FAIL, test expects ${expected} - got ${RC_NAME} (${RC})`;
    } else if (RC !== ERRNO) {
      bad = `${name}: FAIL, test expects ${expected} (${ERRNO}) - got ${RC_NAME} (${RC})`;
    }
    this.cur?.steps.push({ name, expected, value: RC, ok: bad === null });
    if (bad !== null) {
      this.fail(bad);
      this.err(bad);
      await this.config_show_config();
      throw new ShellExit(1);
    }
    this.out(`${name}: OK! - Return value: ${RC} (${RC_NAME}), expected ${expected}`);
  }

  private async kmod_defaults_driver(): Promise<void> {
    await this.config_reset();
    await this.modprobe(['-r', this.d.DEFAULT_KMOD_DRIVER]);
    await this.config_set_driver(this.d.DEFAULT_KMOD_DRIVER);
  }

  private async kmod_defaults_fs(): Promise<void> {
    await this.config_reset();
    await this.modprobe(['-r', this.d.DEFAULT_KMOD_FS]);
    await this.config_set_fs(this.d.DEFAULT_KMOD_FS);
    await this.config_set_test_case_fs();
  }

  // ------------------------------------------------------------------ the tests

  private async kmod_test(id: string): Promise<void> {
    const name = `kmod_test_${id}`;
    const D = this.d;
    switch (id) {
      case '0001':
        await this.kmod_defaults_driver();
        await this.config_num_threads('1');
        await this.write('config_test_driver', '\0', null, 'printf');
        await this.config_trigger(`${name}_driver`);
        await this.config_expect_result(`${name}_driver`, 'MODULE_NOT_FOUND');
        await this.kmod_defaults_fs();
        await this.config_num_threads('1');
        await this.write('config_test_fs', '\0', null, 'printf');
        await this.config_trigger(`${name}_fs`);
        await this.config_expect_result(`${name}_fs`, '-EINVAL');
        return;
      case '0002':
        await this.kmod_defaults_driver();
        await this.config_set_driver(`nope-${D.DEFAULT_KMOD_DRIVER}`);
        await this.config_num_threads('1');
        await this.config_trigger(`${name}_driver`);
        await this.config_expect_result(`${name}_driver`, 'MODULE_NOT_FOUND');
        // the fs half leaves the thread count at reset's 50
        await this.kmod_defaults_fs();
        await this.config_set_fs(`nope-${D.DEFAULT_KMOD_FS}`);
        await this.config_trigger(`${name}_fs`);
        await this.config_expect_result(`${name}_fs`, '-EINVAL');
        return;
      case '0003':
      case '0004':
        await this.kmod_defaults_fs();
        await this.config_num_threads(id === '0003' ? '1' : '2');
        await this.config_trigger(name);
        await this.config_expect_result(name, 'SUCCESS');
        return;
      case '0005':
        await this.kmod_defaults_driver();
        await this.config_trigger(name);
        await this.config_expect_result(name, 'SUCCESS');
        return;
      case '0006':
        await this.kmod_defaults_fs();
        await this.config_trigger(name);
        await this.config_expect_result(name, 'SUCCESS');
        return;
      case '0007':
        await this.kmod_test('0005');
        await this.kmod_test('0006');
        return;
      case '0008':
      case '0009': {
        if (id === '0008') await this.kmod_defaults_driver();
        else await this.kmod_defaults_fs();
        const limit = arith(await this.config_get_modprobe_limit());
        // bash integer division: 50/6 = 8, 50/4 = 12
        const extra = Math.trunc(limit / (id === '0008' ? 6 : 4));
        await this.config_num_thread_limit_extra(extra);
        await this.config_trigger(name);
        await this.config_expect_result(name, 'SUCCESS');
        return;
      }
      case '0010':
      case '0011':
        await this.kmod_defaults_driver();
        await this.config_num_threads('1');
        await this.t.writeModprobePath(id === '0010' ? '/KMOD_TEST_NONEXISTENT' : '');
        await this.config_trigger(name);
        await this.config_expect_result(name, '-ENOENT');
        await this.t.writeModprobePath(this.MODPROBE);
        return;
      case '0012':
        return this.kmod_check_visibility('/proc/modules', 'proc-modules');
      case '0013':
        return this.kmod_check_visibility('/sys/module/*/sections/*', 'sections');
      default:
        throw new Error(`kmod.sh: no test ${id}`);
    }
  }

  /** what `eval $cmd` prints for 0012/0013, as root or with CAP_SYSLOG dropped */
  private async visibilityProbe(kind: 'proc-modules' | 'sections', dropCapSyslog: boolean): Promise<string> {
    const drv = this.d.DEFAULT_KMOD_DRIVER;
    if (kind === 'proc-modules') {
      // grep '^DRIVER\b' /proc/modules | awk '{print $NF}'
      let text: string;
      try {
        text = await this.t.readFile('/proc/modules', { dropCapSyslog });
      } catch (e) {
        this.err(`grep: /proc/modules: ${e instanceof Error ? e.message : String(e)}`);
        return '';
      }
      const re = new RegExp(`^${drv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`);
      return lines(text)
        .filter((l) => re.test(l))
        .map((l) => l.trim().split(/\s+/).at(-1) ?? '')
        .join('\n');
    }
    // cat /sys/module/DRIVER/sections/.*text | head -n1 — bash expands the glob in sorted (C
    // locale) order; an empty section has no file, so test_module's first match is often
    // .exit.text or .init.text, not .text
    const dir = `/sys/module/${drv}/sections`;
    const files = (await this.t.listDir(dir)).filter((n) => /^\..*text$/.test(n)).sort();
    if (files.length === 0) {
      this.err(`cat: '${dir}/.*text': No such file or directory`);
      return '';
    }
    let text = '';
    for (const f of files) {
      try {
        text += await this.t.readFile(`${dir}/${f}`, { dropCapSyslog });
      } catch (e) {
        this.err(`cat: ${dir}/${f}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return lines(text)[0] ?? '';
  }

  private async kmod_check_visibility(what: string, kind: 'proc-modules' | 'sections'): Promise<void> {
    await this.modprobe([this.d.DEFAULT_KMOD_DRIVER]);
    const priv = await this.visibilityProbe(kind, false);
    const unpriv = await this.visibilityProbe(kind, true);
    const bad = priv === unpriv || priv.slice(0, 3) === '0x0' || unpriv.slice(0, 3) !== '0x0';
    this.cur?.steps.push({ name: 'kmod_check_visibility', expected: 'visibility', value: `'${priv}' vs '${unpriv}'`, ok: !bad });
    if (bad) {
      const m = `kmod_check_visibility: FAIL, ${what} visible to unpriv: '${priv}' vs '${unpriv}'`;
      this.fail(m);
      this.err(m);
      throw new ShellExit(1);
    }
    this.out('kmod_check_visibility: OK!');
  }
}

/** a command's output as lines (no trailing empty line) */
function lines(text: string): string[] {
  if (text === '') return [];
  const ls = text.split('\n');
  if (ls.at(-1) === '') ls.pop();
  return ls;
}
