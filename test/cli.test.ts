import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/kmodlab.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('--help lists every command', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  for (const c of ['selftest', 'storm', 'stats', 'trace', 'explore', 'kernels', 'machines', 'kernel', 'kselftest']) {
    assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'), c);
  }
});

test('unknown command: one line, exit 2', () => {
  const r = run('frobnicate');
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "kmodlab: unknown command 'frobnicate'\n");
});

test('unknown option: one line, exit 2', () => {
  const r = run('--frobnicate');
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
});
