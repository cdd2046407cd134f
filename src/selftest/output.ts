/**
 * DOC: the two output formats of the kmod.sh port.
 *
 * * `KmodShReporter`: exactly what kmod.sh prints, each line on the stream the script uses.
 * * `KtapReporter`: KTAP version 1 — one top-level test point per test ID, each a subtest with
 *   one test point per run ("run N"); everything kmod.sh would print becomes a `#` diagnostic
 *   line inside the subtest it belongs to. A planned test that never ran (kmod.sh stops at the
 *   first failure) is `ok N kmod_test_NNNN # SKIP …`; a precondition skip is a `1..0 # SKIP`
 *   plan; the last line is the kselftest `# Totals:` line. Every line is written as it happens
 *   (a run of 0009 on a real kernel takes minutes: nothing waits for the test to end). A
 *   subtest's plan is the count kmod.sh planned; runs that never happened (after a failure, or
 *   a stop from outside) are `ok N run N-1 # SKIP not run: <why>`, so the plan adds up and a
 *   parser sees what ran and what did not. A run stopped by `--timeout` ends `not ok N … #
 *   TIMEOUT <reason>`, one stopped by a signal or a dead target `not ok N … # ERROR <reason>`,
 *   and so does its test's line: every open level is closed.
 */
import type { KmodTest } from './tests.js';
import type { Interruption, RunOutcome, SelftestReporter, SelftestResult, Stream, TestOutcome } from './runner.js';

export type Write = (text: string) => void;

export class KmodShReporter implements SelftestReporter {
  constructor(
    private readonly stdout: Write,
    private readonly stderr: Write,
  ) {}

  line(stream: Stream, text: string): void {
    (stream === 'stdout' ? this.stdout : this.stderr)(`${text}\n`);
  }

  clear(): void {
    this.stdout('\x1b[H\x1b[2J\x1b[3J');
  }
}

/** turn any text into a KTAP diagnostic line (no '#' directive confusion, no empty lines) */
function diag(indent: string, text: string): string {
  return text === '' ? `${indent}#` : `${indent}# ${text}`;
}

/** the directive of a result line a stop from outside ended: ` # TIMEOUT …` or ` # ERROR …` */
function directive(i: Interruption): string {
  return ` # ${i.directive} ${i.reason}`;
}

/** why a planned run or test never ran */
function notRunWhy(i: Interruption | null | undefined): string {
  if (!i) return 'not run: kmod.sh stops at the first failure';
  return i.directive === 'TIMEOUT' ? `not run: timed out (${i.reason})` : `not run: ${i.reason}`;
}

export class KtapReporter implements SelftestReporter {
  private planned: readonly KmodTest[] | null = null;
  private preamble: string[] = [];
  /** the test whose subtest is open: its plan, and the runs it printed */
  private open: { count: number; printed: number } | null = null;
  private number = new Map<string, number>();
  private counts = { pass: 0, fail: 0, skip: 0, error: 0 };

  constructor(private readonly stdout: Write) {}

  private emit(l: string): void {
    this.stdout(`${l}\n`);
  }

  line(_stream: Stream, text: string): void {
    if (this.open !== null) this.emit(diag('    ', text));
    else if (this.planned !== null) this.emit(diag('', text));
    else this.preamble.push(text);
  }

  plan(tests: readonly KmodTest[]): void {
    this.planned = tests;
    tests.forEach((t, i) => this.number.set(t.id, i + 1));
    this.emit('KTAP version 1');
    this.emit(`1..${tests.length}`);
    for (const l of this.preamble) this.emit(diag('', l));
    this.preamble = [];
  }

  testStart(test: KmodTest, count: number = test.count): void {
    // the subtest's header and plan go out before its first run, so every line streams as it
    // happens; the plan is what kmod.sh planned, so a test cut short shows as incomplete
    this.emit('    KTAP version 1');
    this.emit(`    # Subtest: kmod_test_${test.id}`);
    this.emit(`    1..${count}`);
    this.open = { count, printed: 0 };
  }

  runEnd(_test: KmodTest, run: RunOutcome): void {
    if (this.open === null) return;
    this.open.printed = run.run + 1;
    const tail = run.interrupted ? directive(run.interrupted) : '';
    this.emit(`    ${run.ok ? 'ok' : 'not ok'} ${run.run + 1} run ${run.run}${tail}`);
  }

  testEnd(test: KmodTest, outcome: TestOutcome): void {
    const open = this.open;
    this.open = null;
    if (open === null) return;
    // the planned runs that never happened: not run, and said why, so the plan adds up
    for (let k = open.printed + 1; k <= open.count; k++) this.emit(`    ok ${k} run ${k - 1} # SKIP ${notRunWhy(outcome.interrupted)}`);
    const n = this.number.get(test.id) ?? 0;
    const ok = outcome.status === 'pass';
    if (ok) this.counts.pass++;
    else if (outcome.interrupted) this.counts.error++;
    else this.counts.fail++;
    this.emit(`${ok ? 'ok' : 'not ok'} ${n} kmod_test_${test.id}${outcome.interrupted ? directive(outcome.interrupted) : ''}`);
  }

  notRun(test: KmodTest, interrupted?: Interruption): void {
    this.counts.skip++;
    this.emit(`ok ${this.number.get(test.id) ?? 0} kmod_test_${test.id} # SKIP ${notRunWhy(interrupted)}`);
  }

  skip(reason: readonly string[]): void {
    // precondition skip: an empty plan with the reason
    this.emit('KTAP version 1');
    for (const l of this.preamble) this.emit(diag('', l));
    this.preamble = [];
    this.emit(`1..0 # SKIP ${reason[0] ?? 'preconditions not met'}`);
    this.planned = [];
  }

  finish(result: SelftestResult): void {
    if (this.planned === null) {
      // -l, -h, usage: nothing was tested; print the script's text as is
      for (const l of this.preamble) this.emit(l);
      this.preamble = [];
      return;
    }
    if (result.skipped) return;
    const c = this.counts;
    this.emit(`# Totals: pass:${c.pass} fail:${c.fail} xfail:0 xpass:0 skip:${c.skip} error:${c.error}`);
  }
}
