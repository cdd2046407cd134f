/**
 * What a command loads decides how fast it starts (issue 15): `kmodlab --help`, `kernels` and
 * `machines` load commander and their own few modules, never zod, the simulator, the reports or
 * the qemu target; a user's preset or profile file still loads zod to be validated. The modules
 * a process loads are named by a --import hook (test/fixtures/cli/module-trace.mjs). Timings
 * are in bench/startup.ts, not here.
 * A plain storm loads the simulator and the text report only: the other formats, the selftest,
 * --results, --policy and write-file-atomic are imported when asked for, and only the command
 * run is declared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bin, root } from './run-cli.js';

const hook = pathToFileURL(path.join(root, 'test/fixtures/cli/module-trace.mjs')).href;

function loaded(args: string[]): { status: number | null; modules: string[]; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', hook, bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  const modules = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('module-trace '))
    .map((l) => l.slice('module-trace '.length));
  return { status: r.status, modules, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('module-trace ')).join('\n') };
}

const packages = (mods: string[]): Set<string> => new Set(mods.flatMap((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1] ?? []));
const ours = (mods: string[], dir: string): string[] => mods.filter((m) => m.includes(`/dist/src/${dir}/`));

for (const args of [['--help'], ['kernels'], ['kernels', 'show', 'v6.1-stable'], ['machines'], ['machines', 'show', 'sr950']]) {
  test(`kmodlab ${args.join(' ')} loads commander and no zod, simulator, report or qemu code`, () => {
    const r = loaded(args);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([...packages(r.modules)], ['commander'], 'the only package');
    for (const dir of ['sim', 'system', 'report', 'experiments', 'selftest', 'targets/qemu/boot.js']) assert.deepEqual(ours(r.modules, dir), [], `nothing of src/${dir}`);
  });
}

test('a user preset or profile file is still validated with zod, with its one-line error', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-startup-'));
  try {
    const preset = path.join(dir, 'p.json');
    fs.writeFileSync(preset, JSON.stringify({ name: 'mine', basedOn: 'v6.4', flags: { limiter: 'lifo' } }));
    const p = loaded(['kernels', '--preset-file', preset]);
    assert.equal(p.status, 2);
    assert.match(p.stderr, new RegExp(`^kmodlab: preset file ${preset.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: flags\\.limiter: .*\n?$`));
    assert.ok(packages(p.modules).has('zod'), 'zod validated the preset file');
    const machine = path.join(dir, 'm.json');
    fs.writeFileSync(machine, fs.readFileSync(path.join(root, 'data/machines/kvm-guest.json'), 'utf8').replace('"cpus": 8', '"cpus": 0'));
    const m = loaded(['machines', 'show', machine]);
    assert.equal(m.status, 2);
    assert.equal(m.stderr.trim(), `kmodlab: ${machine}: cpus: Too small: expected number to be >=1`);
    assert.ok(packages(m.modules).has('zod'), 'zod validated the profile');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a plain storm loads the simulator and the text report, not the other formats, the selftest, --results, --policy or write-file-atomic', () => {
  const r = loaded(['storm', '--cpus', '1', '--kernel', 'v6.1-stable']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(ours(r.modules, 'sim').length > 0, 'the trace saw the simulator load');
  assert.ok(r.modules.some((m) => m.endsWith('/dist/src/report/table.js')), 'the text report');
  assert.deepEqual(ours(r.modules, 'selftest'), [], 'nothing of src/selftest');
  const unused = ['report/html.js', 'report/svg.js', 'report/markdown.js', 'report/data.js', 'results/results-dir.js', 'cli/results-option.js', 'io/policy.js', 'io/presets.js'];
  assert.deepEqual(
    r.modules.filter((m) => unused.some((u) => m.endsWith(`/dist/src/${u}`))),
    [],
    'no renderer of another format, no --results, --policy or preset-file code',
  );
  assert.ok(!packages(r.modules).has('write-file-atomic'), 'no write-file-atomic: nothing is written');
  assert.deepEqual(ours(r.modules, 'cli/declare').map((m) => path.basename(m)).sort(), ['index.js', 'lazy.js', 'storm.js'], 'only the storm command is declared');
});
