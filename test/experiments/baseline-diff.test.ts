/**
 * DOC: `baseline diff` on real simulator results: the same seed twice is no change, an injected
 * regression in a copy is exactly one line (and exit 1), its reverse an improvement (exit 0),
 * storm rows report their changed counts, and real-kernel race rows are marked (timing).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { baselineDiff, formatLine } from '../../src/experiments/baseline-diff.js';
import { InputError } from '../../src/errors.js';
import { runCli } from '../cli/run-cli.js';

let base: string;
const A = () => path.join(base, 'a');
const B = () => path.join(base, 'b');

async function fill(dir: string): Promise<void> {
  for (const args of [
    // two selftest runs of one release: their rows join (kmod.sh takes one -t per run)
    ['selftest', '-t', '0001', '--kernel', 'v6.1-stable', '--seed', '1'],
    ['selftest', '-t', '0002', '--kernel', 'v6.1-stable', '--seed', '1'],
    ['storm', '--cpus', '8', '--kernel', 'v6.1-stable', '--inline', '--no-progress', '--format', 'csv'],
    ['storm', '--parallel', '1,4', '--module', 'kml_slow', '--path', 'finit', '--kernel', 'v6.1-stable'],
  ]) {
    const r = await runCli([...args, '--results', dir]);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
  }
}

/** the run directory of KIND under DIR (of test ID for a selftest) */
function runDir(dir: string, kind: string, id = '0001'): string {
  for (const rel of readdirSync(dir))
    for (const run of readdirSync(path.join(dir, rel))) {
      const d = path.join(dir, rel, run);
      const c = JSON.parse(readFileSync(path.join(d, 'command.json'), 'utf8')) as { kind: string; argv: string[] };
      if (c.kind === kind && (kind !== 'selftest' || c.argv.includes(id))) return d;
    }
  throw new Error(`no ${kind} run in ${dir}`);
}

function copy(name: string): string {
  const d = path.join(base, name);
  cpSync(B(), d, { recursive: true });
  return d;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test edits of stored JSON, any shape
type Json = any;

function editJson(file: string, f: (v: Json) => void): void {
  const v = JSON.parse(readFileSync(file, 'utf8')) as Json;
  f(v);
  writeFileSync(file, JSON.stringify(v));
}

before(async () => {
  base = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-bdiff-'));
  await Promise.all([fill(A()), fill(B())]);
});
after(() => rmSync(base, { recursive: true, force: true }));

test('two runs with the same seed: no line, exit 0', () => {
  assert.deepEqual(baselineDiff(A(), B()), { lines: [], exitCode: 0 });
});

test('a test made to fail in a copy: exactly one REGRESSED line, exit 1; the reverse is an improvement, exit 0', () => {
  const c = copy('injected');
  const ktap = path.join(runDir(c, 'selftest', '0002'), 'ktap.txt');
  const text = readFileSync(ktap, 'utf8');
  assert.match(text, /^ok 1 kmod_test_0002$/m);
  writeFileSync(ktap, text.replace(/^ok 1 kmod_test_0002$/m, 'not ok 1 kmod_test_0002'));
  const d = baselineDiff(A(), c);
  assert.deepEqual(d.lines.map(formatLine), ['REGRESSED sim-v6.1-stable selftest 0002: ok -> not ok']);
  assert.equal(d.exitCode, 1);
  const back = baselineDiff(c, A());
  assert.deepEqual(back.lines.map(formatLine), ['IMPROVED sim-v6.1-stable selftest 0002: not ok -> ok']);
  assert.equal(back.exitCode, 0);
});

test('a changed return value is a CHANGED line of its step', () => {
  const c = copy('retval');
  editJson(path.join(runDir(c, 'selftest'), 'record.json'), (v) => {
    v.tests[0].results = v.tests[0].results.map((s: string) => s.replace(/^kmod_test_0001_fs=-22$/, 'kmod_test_0001_fs=0'));
  });
  const d = baselineDiff(A(), c);
  assert.deepEqual(d.lines.map(formatLine), ['CHANGED sim-v6.1-stable selftest 0001 kmod_test_0001_fs: return value -22 -> 0']);
  assert.equal(d.exitCode, 0);
});

test('storm rows: more load attempts and a new errno regress; fewer improve', () => {
  const c = copy('storm');
  const file = path.join(runDir(c, 'storm'), 'record.json');
  const rec = JSON.parse(readFileSync(file, 'utf8'));
  const la = rec[0].loadAttempts as number;
  rec[0].loadAttempts = la + 5;
  rec[0].failuresByModule.xfs = { ...(rec[0].failuresByModule.xfs ?? {}), ENOMEM: 5 };
  writeFileSync(file, JSON.stringify(rec));
  const d = baselineDiff(A(), c);
  assert.equal(d.lines.length, 1);
  assert.match(formatLine(d.lines[0]!), new RegExp(`^REGRESSED sim-v6.1-stable storm kvm-guest c8 s1: loadAttempts ${la} -> ${la + 5}, failures .*ENOMEM:5`));
  assert.equal(d.exitCode, 1);
  assert.equal(baselineDiff(c, A()).lines[0]!.verdict, 'IMPROVED');
});

test('a duplicate-load row on a real kernel with N > 1 is marked (timing) and does not fail the diff', () => {
  const c = copy('timing');
  const old = copy('timing-old');
  const dir = runDir(c, 'dupstorm');
  for (const d of [dir, runDir(old, 'dupstorm')]) editJson(path.join(d, 'command.json'), (v) => void (v.target = 'qemu:debian-6.1'));
  editJson(path.join(dir, 'record.json'), (v) => {
    const row = v.rows.find((r: { n: number }) => r.n === 4);
    row.counts = { '0': 1, EBUSY: 3 };
  });
  const d = baselineDiff(old, c);
  assert.deepEqual(d.lines.map(formatLine), ['REGRESSED sim-v6.1-stable dupstorm kml_slow finit n=4: 0:1 EEXIST:3 -> 0:1 EBUSY:3 (timing)']);
  assert.equal(d.exitCode, 0);
  // the same change on the simulator is deterministic: a regression
  const s = copy('sim-change');
  editJson(path.join(runDir(s, 'dupstorm'), 'record.json'), (v) => void (v.rows.find((r: { n: number }) => r.n === 4).counts = { '0': 1, EBUSY: 3 }));
  assert.equal(baselineDiff(A(), s).exitCode, 1);
});

test('release directories diff like whole results directories', () => {
  const d = baselineDiff(path.join(A(), 'sim-v6.1-stable'), path.join(B(), 'sim-v6.1-stable'));
  assert.deepEqual(d.lines, []);
});

test('bad input: a path that is not a results directory is one InputError', () => {
  assert.throws(() => baselineDiff(A(), base + '/nope'), InputError);
  assert.throws(() => baselineDiff(A(), path.join(runDir(A(), 'selftest'), 'ktap.txt')), (e) => e instanceof InputError && /not a results directory/.test(e.message));
  const empty = mkdtempSync(path.join(base, 'empty-'));
  assert.throws(() => baselineDiff(A(), empty), (e) => e instanceof InputError && /not a results directory/.test(e.message));
});
