#!/usr/bin/env node
// DOC: regenerate the committed simulator baseline (data/baselines/, or the DIR given) with
// `--results`: the selftest on three presets (KTAP and kmod.sh text), a small coldplug storm and
// a small duplicate-load storm. A change in the model's behaviour then shows in review as a diff
// of data/baselines, and test/experiments/baseline-data.test.ts fails until it is regenerated.
// Runs are seeded (deterministic run ids) and leave the git commit out (KMODLAB_RESULTS_COMMIT=off),
// so regenerating an unchanged model gives the same bytes. Needs `npm run build` first.
import { spawn } from 'node:child_process';
import process from 'node:process';
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/kmodlab.js');

/** the baseline's runs: small enough to regenerate in a test (a few seconds) */
export const BASELINE_RUNS = [
  ...['newest', 'v6.1-stable', 'v4.9'].map((k) => ['selftest', 'all', '--keep-going', '--ktap', '--kernel', k, '--seed', '1']),
  ['storm', '--machine', 'kvm-guest', '--cpus', '8,32', '--kernel', 'v4.9,v6.1-stable,newest', '--seed', '1', '--inline', '--no-progress', '--format', 'csv'],
  ['storm', '--parallel', '1,4', '--module', 'kml_slow,kml_fail', '--path', 'finit,init', '--kernel', 'v6.1-stable,newest', '--seed', '1'],
];

function run(args, results) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args, '--results', results], {
      cwd: root,
      env: { ...process.env, KMODLAB_RESULTS_COMMIT: 'off' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    // the selftest's own verdict (1 when a test fails on an old preset) is a result, not an error
    child.on('close', (code) => (code === 0 || code === 1 ? resolve() : reject(new Error(`kmodlab ${args.join(' ')}: exit ${code}\n${err}`))));
  });
}

const out = path.resolve(process.argv[2] ?? path.join(root, 'data/baselines'));
const tmp = mkdtempSync(path.join(path.dirname(out), '.baselines-'));
try {
  await Promise.all(BASELINE_RUNS.map((a) => run(a, tmp)));
  // the simulated kernel log (~0.5 MB a preset) is not what the diff reads: not committed
  for (const e of readdirSync(tmp, { recursive: true })) if (path.basename(e) === 'dmesg.txt') rmSync(path.join(tmp, e));
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  process.stderr.write(`baseline-update: wrote ${path.relative(process.cwd(), out) || out}\n`);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(`baseline-update: ${e.message}\n`);
  process.exitCode = 1;
}
