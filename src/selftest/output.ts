/**
 * DOC: the two output formats of the kmod.sh port.
 *
 * * `KmodShReporter`: exactly what kmod.sh prints, each line on the stream the script uses.
 * * `KtapReporter`: KTAP version 1 — one top-level test point per test ID, each a subtest with
 *   one test point per run ("run N"); everything kmod.sh would print becomes a `#` diagnostic
 *   line inside the subtest it belongs to. A planned test that never ran (kmod.sh stops at the
 *   first failure) is `ok N kmod_test_NNNN # SKIP …`; a precondition skip is a `1..0 # SKIP`
 *   plan; the last line is the kselftest `# Totals:` line. Output is written per finished test,
 *   so a subtest's plan is the number of runs that really happened.
 */
import type { KmodTest } from './tests.js';
import type { RunOutcome, SelftestReporter, SelftestResult, Stream, TestOutcome } from './runner.js';

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

export class KtapReporter implements SelftestReporter {
  private planned: readonly KmodTest[] | null = null;
  private preamble: string[] = [];
  private sub: string[] | null = null;
  private runsOk = 0;
  private number = new Map<string, number>();
  private counts = { pass: 0, fail: 0, skip: 0 };

  constructor(private readonly stdout: Write) {}

  private emit(l: string): void {
    this.stdout(`${l}\n`);
  }

  line(_stream: Stream, text: string): void {
    if (this.sub !== null) this.sub.push(diag('    ', text));
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

  testStart(): void {
    this.sub = [];
    this.runsOk = 0;
  }

  runEnd(_test: KmodTest, run: RunOutcome): void {
    if (this.sub === null) return;
    this.sub.push(`    ${run.ok ? 'ok' : 'not ok'} ${run.run + 1} run ${run.run}`);
    if (run.ok) this.runsOk++;
  }

  testEnd(test: KmodTest, outcome: TestOutcome): void {
    const lines = this.sub ?? [];
    this.sub = null;
    this.emit('    KTAP version 1');
    this.emit(`    # Subtest: kmod_test_${test.id}`);
    this.emit(`    1..${outcome.runs.length}`);
    for (const l of lines) this.emit(l);
    const n = this.number.get(test.id) ?? 0;
    const ok = outcome.status === 'pass';
    if (ok) this.counts.pass++;
    else this.counts.fail++;
    this.emit(`${ok ? 'ok' : 'not ok'} ${n} kmod_test_${test.id}`);
  }

  notRun(test: KmodTest): void {
    this.counts.skip++;
    this.emit(`ok ${this.number.get(test.id) ?? 0} kmod_test_${test.id} # SKIP not run: kmod.sh stops at the first failure`);
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
    this.emit(`# Totals: pass:${c.pass} fail:${c.fail} xfail:0 xpass:0 skip:${c.skip} error:0`);
  }
}
