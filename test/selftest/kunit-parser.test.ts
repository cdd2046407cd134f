/**
 * DOC: kmodlab's KTAP read by the kernel's own KTAP parser (tools/testing/kunit, `kunit.py
 * parse`, unmodified from Debian's linux-source): a full suite, a failing run, a run ended by
 * `--timeout` and one interrupted by SIGINT all parse with no error, and the cut-short ones show
 * the runs and tests that never happened as skipped (not run), the open one as failed.
 * Skips with the reason when the tools cannot be had (scripts/ci/kselftest-tools.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { bin, root, runCli } from '../cli/run-cli.js';
import { kunitParse, kunitTools } from '../fixtures/kselftest/tools.js';

const tools = kunitTools();
const skip = 'skip' in tools ? tools.skip : false;

/** the run lines of one test's subtest */
function runLines(ktap: string, id: string): string[] {
  const from = ktap.indexOf(`    # Subtest: kmod_test_${id}\n`);
  const to = ktap.search(new RegExp(`^(not )?ok \\d+ kmod_test_${id}\\b`, 'm'));
  return ktap.slice(from, to).split('\n').filter((l) => /^ {4}(not )?ok /.test(l));
}

test('kunit.py parse: the full suite passes with no parse error', { skip, timeout: 120_000 }, async () => {
  if ('skip' in tools) return;
  const r = await runCli(['selftest', '--ktap', '--test-modules', 'in-tree']);
  assert.equal(r.status, 0, r.stderr);
  const p = await kunitParse(tools, r.stdout);
  assert.deepEqual(p.errors, []);
  // one leaf per run kmod.sh planned: the default counts of 0001–0013
  const planned = [...r.stdout.matchAll(/^ {4}1\.\.(\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
  assert.ok(planned > 300, `planned runs ${planned}`);
  assert.equal(p.ran, planned);
  assert.equal(p.passed, planned);
  assert.equal(p.status, 0);
});

test('kunit.py parse: a failing run (0012 on Debian 6.1) parses, the runs and tests after it are skipped', { skip, timeout: 120_000 }, async () => {
  if ('skip' in tools) return;
  const r = await runCli(['selftest', '--ktap', '--kernel', 'v6.1-stable']);
  assert.equal(r.status, 1);
  const p = await kunitParse(tools, r.stdout);
  assert.deepEqual(p.errors, []);
  assert.equal(p.failed, 1, 'the one failing run of 0012');
  assert.match(p.out, /\[FAILED\] kmod_test_0012/);
  assert.match(p.out, /\[SKIPPED\] kmod_test_0013/);
  assert.equal(p.status, 1, 'kunit.py exits 1 for a failed test');
  // the plan is kmod.sh's count; the runs after the failure are there, as not run
  const c = await runCli(['selftest', '--ktap', '--kernel', 'v6.1-stable', '-c', '0012', '5']);
  assert.equal(c.status, 1);
  assert.match(c.stdout, /^ {4}1\.\.5$/m);
  const lines = runLines(c.stdout, '0012');
  assert.deepEqual(lines, ['    not ok 1 run 0', ...[2, 3, 4, 5].map((k) => `    ok ${k} run ${k - 1} # SKIP not run: kmod.sh stops at the first failure`)]);
  const q = await kunitParse(tools, c.stdout);
  assert.deepEqual(q.errors, []);
  assert.deepEqual([q.ran, q.failed, q.skipped], [5, 1, 4]);
});

test('kunit.py parse: a run ended by --timeout closes every level; the missing runs are not run', { skip, timeout: 120_000 }, async () => {
  if ('skip' in tools) return;
  // far more runs of 0009 than fit in a second
  const r = await runCli(['selftest', '--ktap', '-c', '0009', '5000', '--timeout', '1']);
  assert.equal(r.status, 124, r.stderr);
  assert.match(r.stdout, /^ {4}1\.\.5000$/m, 'the plan announces the count kmod.sh planned');
  assert.match(r.stdout, /^not ok 1 kmod_test_0009 # TIMEOUT --timeout 1 s$/m);
  assert.match(r.stdout, /^# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1$/m);
  const lines = runLines(r.stdout, '0009');
  assert.deepEqual(lines.map((l, i) => (l.startsWith(`    ok ${i + 1} run ${i} `) || l === `    ok ${i + 1} run ${i}` || l.startsWith(`    not ok ${i + 1} run ${i} `) ? '' : `${i}: ${l}`)).filter((x) => x !== ''), [], 'one line per planned run, in order');
  assert.equal(lines.length, 5000);
  const notRun = lines.filter((l) => l.endsWith('# SKIP not run: timed out (--timeout 1 s)'));
  assert.ok(notRun.length > 0 && notRun.length < 5000, `${notRun.length} runs not run`);
  const p = await kunitParse(tools, r.stdout);
  assert.deepEqual(p.errors, []);
  // every planned run is there; newer parsers (7.x) also count the cut-short test itself as failed
  assert.equal(p.passed + p.skipped, 5000);
  assert.equal(p.skipped, notRun.length);
  assert.ok(p.ran === 5000 || (p.ran === 5001 && p.failed === 1), `ran ${p.ran}, failed ${p.failed}`);
  assert.match(p.out, /\[FAILED\] kmod_test_0009/);
});

test('kunit.py parse: a run interrupted by SIGINT closes every level, exit 130; the tests after it are not run', { skip, timeout: 120_000 }, async () => {
  if ('skip' in tools) return;
  const child = spawn(process.execPath, [bin, 'selftest', '--ktap'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let sent = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    // streamed: 0006's header is out while 0006 runs
    if (!sent && out.includes('    # Subtest: kmod_test_0006\n')) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.ok(sent, 'the signal was sent while 0006 ran');
  assert.equal(code, 130);
  assert.match(out, /^not ok 6 kmod_test_0006 # ERROR interrupted by SIGINT$/m);
  assert.match(out, /^ok 13 kmod_test_0013 # SKIP not run: interrupted by SIGINT$/m);
  assert.match(out, /^# Test completed$/m, "kmod.sh's EXIT trap ran");
  const p = await kunitParse(tools, out);
  assert.deepEqual(p.errors, []);
  for (const id of ['0007', '0008', '0009', '0010', '0011', '0012', '0013']) assert.match(p.out, new RegExp(`\\[SKIPPED\\] kmod_test_${id}`));
  assert.match(p.out, /\[FAILED\] kmod_test_0006/);
  assert.match(p.out, /\[PASSED\] kmod_test_0005/);
});
