/**
 * DOC: `kmodlab selftest` end to end on the simulator: the golden output of `-t 0001` in
 * kmod.sh's format, KTAP output accepted by a TAP parser (tap-parser, strict after mapping the
 * KTAP version line to TAP 14), and the command's own option errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Parser, type FinalResults } from 'tap-parser';
import { runSelftestCli } from '../../src/cli/commands/selftest.js';
import { register } from '../../src/cli/declare/selftest.js';
import { InputError } from '../../src/errors.js';
import { runCommand } from '../capture-stdout.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/selftest/', import.meta.url));

async function cli(args: string[], opts: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runSelftestCli(args, { target: 'sim', ...opts }, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
  return { code, stdout, stderr };
}

interface Parsed {
  result: FinalResults;
  children: FinalResults[];
  extra: string[];
}

function parseTap(text: string, strict: boolean): Promise<Parsed> {
  return new Promise((resolve) => {
    const children: FinalResults[] = [];
    const extra: string[] = [];
    const p = new Parser({ strict }, (result) => resolve({ result, children, extra }));
    p.on('child', (c: Parser) => c.on('complete', (r: FinalResults) => children.push(r)));
    p.on('extra', (e: string) => extra.push(e));
    p.end(text);
  });
}

/** KTAP is TAP 14 with its own version line: check both ways */
async function assertKtap(text: string): Promise<Parsed> {
  assert.match(text, /^KTAP version 1\n/);
  const loose = await parseTap(text, false);
  assert.deepEqual(
    loose.extra.filter((e) => e.trim() !== 'KTAP version 1'),
    [],
    'only KTAP version lines are unknown to a TAP 14 parser',
  );
  const strict = await parseTap(text.replace(/^(\s*)KTAP version 1$/gm, '$1TAP version 14'), true);
  assert.deepEqual(
    strict.result.failures.filter((f) => !!f.tapError).map((f) => f.tapError),
    [],
    'strict TAP 14 parse errors',
  );
  return strict;
}

test('golden: `kmodlab selftest -t 0001` prints exactly what kmod.sh prints', async () => {
  const r = await cli(['-t', '0001']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, readFileSync(`${FIXTURES}t0001.golden`, 'utf8'));
});

test('the command line through commander: kmod.sh arguments pass through, -h is kmod.sh usage', async () => {
  const prevCode = process.exitCode;
  const out = await runCommand(register, ['selftest', '-h', '--kernel', 'v4.13']);
  assert.equal(process.exitCode, 1);
  process.exitCode = prevCode;
  assert.match(out, /^Usage: kmod\.sh /);
  assert.match(out, /Valid tests: 0001-0009/);
  assert.doesNotMatch(out, /Test completed/); // the 4.13 script has no EXIT trap
});

test('KTAP: passing run is valid KTAP/TAP with one test point per ID and a subtest per run', async () => {
  const r = await cli(['-t', '0001'], { ktap: true });
  assert.equal(r.code, 0);
  const p = await assertKtap(r.stdout);
  assert.equal(p.result.ok, true);
  assert.equal(p.result.count, 1);
  assert.equal(p.children.length, 1);
  assert.equal(p.children[0]!.count, 3);
  assert.equal(p.children[0]!.pass, 3);
  assert.match(r.stdout, /^# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0$/m);
  assert.match(r.stdout, /^ {4}# kmod_test_0001_fs: OK! - Return value: -22 \(-EINVAL\), expected -EINVAL$/m);
});

test('KTAP: a failing test, and the tests kmod.sh never reached as SKIP', async () => {
  // v4.9 on a big machine: 0008 fails at its first run (-ENOMEM for 8 of 58 threads); 0009 is never reached
  const r = await cli(['all'], { ktap: true, kernel: 'v4.9', machine: 'sr950' });
  assert.equal(r.code, 1);
  const p = await assertKtap(r.stdout);
  assert.equal(p.result.ok, false);
  assert.equal(p.result.count, 9);
  assert.equal(p.result.fail, 1);
  assert.equal(p.result.skip, 1);
  assert.match(r.stdout, /^not ok 8 kmod_test_0008$/m);
  assert.match(r.stdout, /^ {4}# kmod_test_0008: FAIL, test expects SUCCESS \(0\) - got invalid \(-12\)$/m);
  assert.match(r.stdout, /^ok 9 kmod_test_0009 # SKIP not run: kmod\.sh stops at the first failure$/m);
  assert.match(r.stdout, /^# Totals: pass:7 fail:1 xfail:0 xpass:0 skip:1 error:0$/m);
});

test('KTAP: a precondition skip is an empty plan with SKIP, exit 4', async () => {
  const r = await cli(['-t', '0001'], { ktap: true }, { DIR: '/nonexistent/' });
  assert.equal(r.code, 4);
  const p = await assertKtap(r.stdout);
  assert.equal(p.result.plan?.skipAll, true);
  assert.match(r.stdout, /^1\.\.0 # SKIP kmod\.sh: \/nonexistent\/ not present$/m);
});

test('kmodlab options: bad values are one-line InputErrors', async () => {
  await assert.rejects(cli(['-t', '0001'], { kernel: 'v9.9' }), InputError);
  await assert.rejects(cli(['-t', '0001'], { cpus: '0' }), /--cpus 0: want an integer >= 1/);
  await assert.rejects(cli(['-t', '0001'], { seed: 'x' }), /--seed x/);
  await assert.rejects(cli(['-t', '0001'], { target: 'nope' }), /--target nope: want sim, sysfs or qemu:NAME/);
  await assert.rejects(cli(['-t', '0001'], { target: 'sysfs', kernel: 'v6.1' }), /--kernel: only for --target sim/);
  await assert.rejects(cli(['-w', '0001'], { ktap: true }), /--ktap: not with -w/);
  await assert.rejects(cli(['-t', '0001'], { kmodSh: 'v3' }), /--kmod-sh v3/);
  await assert.rejects(cli(['-t', '0001'], { testModules: 'x' }), /--test-modules x/);
});

test('--target qemu:NAME answers through the qemu target, never a fake result', async () => {
  await assert.rejects(cli(['-t', '0001'], { target: 'qemu:no-such-kernel' }), InputError);
});
