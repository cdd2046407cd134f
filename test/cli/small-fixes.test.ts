/**
 * Issue 12's smaller items, each as the user meets it: a policy's answers are checked (one line
 * naming the plug-in, the hook and the value, exit 2), `selftest --kernel FILE.json` runs the
 * preset file like the built-in it copies, the duplicate-load options are refused on the coldplug
 * storm instead of being ignored, and a .ts plug-in's compiled module does not outlive the command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-small-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

for (const [name, body, what] of [
  ['banana', "*check(ctx) { return 'banana'; }", 'check returned "banana"'],
  ['big', '*check(ctx) { return 12345; }', 'check returned 12345'],
  ['positive', '*check(ctx) { return 17; }', 'check returned 17'],
  ['nothing', '*check(ctx) { }', 'check returned undefined'],
  ['plain', 'check(ctx) { return 0; }', 'check must be a generator function (function*), returned 0'],
] as const) {
  test(`a policy whose check answers wrongly (${name}) is one line naming it, exit 2`, async () => {
    const file = path.join(tmp, `${name}.mjs`);
    writeFileSync(file, `export default { name: '${name}', ${body} };\n`);
    const r = await runCli(['storm', '--cpus', '2', '--kernel', 'v6.4', '--no-progress', '--policy', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    const why = what.startsWith('check must') ? what : `${what}: want 0 or a negative errno (-EEXIST, -EBUSY, …)`;
    assert.equal(r.stderr, `kmodlab: run run_kvm-guest_c2_v6.4%2B${name}_s1 (seed 1): policy ${file}: ${why}\n`);
  });
}

test('a policy named with characters that cannot label results is refused before any run', async () => {
  const file = path.join(tmp, 'spaced.mjs');
  writeFileSync(file, "export default { name: 'a b/c', *check(ctx) { return 0; } };\n");
  const r = await runCli(['storm', '--cpus', '2', '--kernel', 'v6.4', '--no-progress', '--policy', file]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `kmodlab: policy ${file}: name "a b/c": want 1 to 64 letters, digits, '.', '_' or '-' (it labels the results)\n`);
});

test('selftest --kernel FILE.json runs the preset file, like the built-in preset it copies', async () => {
  const file = path.join(tmp, 'old.json');
  writeFileSync(file, JSON.stringify({ name: 'old', basedOn: 'v4.9' }));
  const args = ['selftest', '-s', '0009', '--machine', 'sr950', '--keep-going'];
  const fromFile = await runCli([...args, '--kernel', file]);
  const builtin = await runCli([...args, '--kernel', 'v4.9']);
  assert.equal(fromFile.stderr, builtin.stderr);
  assert.equal(fromFile.status, builtin.status);
  assert.equal(fromFile.stdout.replace(/^.*date.*$/gm, ''), builtin.stdout.replace(/^.*date.*$/gm, ''));
  assert.match(fromFile.stdout, /kmod_test_0009/);
});

for (const [argv, line] of [
  [['--module', 'xfs'], '--module: only with --parallel (the duplicate-load storm) or --target qemu:NAME'],
  [['--path', 'finit'], '--path: only with --parallel (the duplicate-load storm) or --target qemu:NAME'],
  [['--mem', '512'], '--mem: only with --parallel (the duplicate-load storm) or --target qemu:NAME'],
  [['--compare'], '--compare: only with --parallel (the duplicate-load storm) or --target qemu:NAME'],
  [['--target', 'sim:v6.4'], '--target sim:v6.4: without --parallel, want sim or qemu:NAME'],
] as const) {
  test(`storm ${argv.join(' ')} without --parallel is refused, not ignored`, async () => {
    const r = await runCli(['storm', '--cpus', '2', '--kernel', 'v6.4', ...argv]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `kmodlab: ${line}\n`);
    assert.equal(r.stdout, '');
  });
}

test("a .ts plug-in's compiled module is removed when the command ends", async () => {
  const file = path.join(tmp, 'pass.ts');
  writeFileSync(file, "export default { name: 'pass', *check(ctx: { builtin(): Generator<unknown, number> }) { return yield* ctx.builtin(); } };\n");
  const before = new Set(readdirSync(os.tmpdir()).filter((n) => n.startsWith('kmodlab-policy-')));
  const r = await runCli(['storm', '--cpus', '2', '--kernel', 'v6.4', '--no-progress', '--format', 'csv', '--policy', file]);
  assert.equal(r.status, 0, r.stderr);
  const left = readdirSync(os.tmpdir()).filter((n) => n.startsWith('kmodlab-policy-') && !before.has(n));
  assert.deepEqual(left, []);
});
