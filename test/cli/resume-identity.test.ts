/**
 * Resume trusts what a run was made from, not its file name: re-running into the same --out
 * after changing an input that decides the results recomputes the runs made from the old one
 * (one line on stderr saying what changed), and prints what a fresh run into an empty directory
 * prints; unchanged inputs reuse every stored run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root, runCli } from './run-cli.js';

const base = ['storm', '--cpus', '1,8', '--no-progress', '--format', 'csv', '--inline'];

async function fresh(args: string[], tmp: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmp, 'fresh-'));
  const r = await runCli([...base, ...args, '--out', dir]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('--out resume: a changed input recomputes; an unchanged one reuses', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-resume-'));
  const out = path.join(tmp, 'out');
  const policy = path.join(tmp, 'pol.mjs');
  writeFileSync(policy, "export default { name: 'pol', *check(ctx) { return yield* ctx.builtin(); } };\n");
  const machine = path.join(tmp, 'kvm-guest.json');
  writeFileSync(machine, readFileSync(path.join(root, 'data/machines/kvm-guest.json')));
  const presetFile = path.join(tmp, 'v6.4.json');
  writeFileSync(presetFile, JSON.stringify({ name: 'v6.4', basedOn: 'v4.9' }));
  try {
    const first = await runCli([...base, '--kernel', 'v6.4', '--out', out]);
    assert.equal(first.status, 0, first.stderr);
    const again = await runCli([...base, '--kernel', 'v6.4', '--out', out]);
    assert.equal(again.stderr, '', 'nothing recomputed');
    assert.equal(again.stdout, first.stdout);

    const steps: { args: string[]; what: string; edit?: () => void }[] = [
      { args: ['--kernel', 'v6.4', '--module-area', '2M'], what: 'the module area size' },
      { args: ['--kernel', 'v6.4', '--kmod-version', '20'], what: 'the kmod version, the module area size' },
      // a preset file named like the built-in preset: same run names, another kernel
      { args: ['--kernel', presetFile], what: 'the kmod version, the preset' },
      { args: ['--kernel', presetFile, '--snapshot', 'debian-6.12'], what: 'the module set' },
    ];
    for (const s of steps) {
      const r = await runCli([...base, ...s.args, '--out', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, `kmodlab: --out ${out}: recomputing 2 stored runs (changed since they were stored: ${s.what})\n`, s.args.join(' '));
      assert.equal(r.stdout, await fresh(s.args, tmp), `${s.args.join(' ')}: the output of a fresh run`);
    }

    // a machine JSON and a policy whose contents change under the same path
    const mOut = path.join(tmp, 'm');
    const withFiles = ['--kernel', 'v6.4', '--machine', machine, '--policy', policy];
    assert.equal((await runCli([...base, ...withFiles, '--out', mOut])).status, 0);
    const prof = JSON.parse(readFileSync(machine, 'utf8'));
    prof.timings.modprobeStartNs *= 3;
    writeFileSync(machine, JSON.stringify(prof));
    let r = await runCli([...base, ...withFiles, '--out', mOut]);
    assert.equal(r.stderr, `kmodlab: --out ${mOut}: recomputing 2 stored runs (changed since they were stored: the machine profile)\n`);
    assert.equal(r.stdout, await fresh(withFiles, tmp));
    writeFileSync(policy, "export default { name: 'pol', *check(ctx) { return ctx.reason === 'load' ? -16 : yield* ctx.builtin(); } };\n");
    r = await runCli([...base, ...withFiles, '--out', mOut]);
    assert.equal(r.stderr, `kmodlab: --out ${mOut}: recomputing 2 stored runs (changed since they were stored: the policy)\n`);
    assert.equal(r.stdout, await fresh(withFiles, tmp));

    // a record edited by hand (valid JSON, a valid record) is not served
    const file = path.join(mOut, readdirSync(mOut).find((n) => /^run_.*_c8_v6\.4%2Bpol_s1\.json$/.test(n))!);
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...rec, wastedBytes: rec.wastedBytes + 4096 }, null, 2));
    r = await runCli([...base, ...withFiles, '--out', mOut]);
    assert.equal(r.stderr, `kmodlab: --out ${mOut}: recomputing 1 stored run (a record edited by hand (checksum mismatch))\n`);
    assert.equal(r.stdout, await fresh(withFiles, tmp));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('--out resume: a --modules tree whose module file changed under the same path recomputes', async () => {
  const { buildKo, DEFAULT_SECTIONS } = await import('../fixtures/modules/build-ko.js');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-resume-'));
  const tree = path.join(tmp, 'tree');
  const write = (textSize: number): void => {
    mkdirSync(path.join(tree, 'kernel'), { recursive: true });
    writeFileSync(path.join(tree, 'kernel/foo.ko'), buildKo(DEFAULT_SECTIONS.map((s) => (s.name === '.text' ? { ...s, size: textSize } : s))));
    writeFileSync(path.join(tree, 'modules.dep'), 'kernel/foo.ko:\n');
    // every CPU's modalias matches: each cpu uevent loads foo, so duplicates happen
    writeFileSync(path.join(tree, 'modules.alias'), 'alias cpu:type:x86,ven*fam*mod*:feature:* foo\n');
  };
  try {
    const args = [...base, '--kernel', 'v6.4', '--modules', tree, '--out', path.join(tmp, 'out')];
    write(100);
    const first = await runCli(args);
    assert.equal(first.status, 0, first.stderr);
    const again = await runCli(args);
    assert.equal(again.stderr, '', 'the same tree: nothing recomputed');
    assert.equal(again.stdout, first.stdout);
    write(5000);
    const changed = await runCli(args);
    assert.equal(changed.status, 0, changed.stderr);
    assert.equal(changed.stderr, `kmodlab: --out ${path.join(tmp, 'out')}: recomputing 2 stored runs (changed since they were stored: the module set)\n`);
    assert.notEqual(changed.stdout, first.stdout, 'a bigger module wastes more');
    assert.equal(changed.stdout, await fresh(['--kernel', 'v6.4', '--modules', tree], tmp));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
