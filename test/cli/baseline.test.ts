/**
 * DOC: `kmodlab baseline diff` as a command: its output lines and exit codes (0 no regression,
 * 1 regression, 2 bad input in one line, no stack trace).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli.js';

test('baseline diff: same seed empty (0), injected regression one line (1), bad input one line (2)', async () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-bcli-'));
  try {
    const a = path.join(base, 'a');
    const b = path.join(base, 'b');
    for (const d of [a, b]) assert.equal((await runCli(['selftest', '-t', '0001', '--kernel', 'v4.9', '--seed', '1', '--results', d])).status, 0);
    const same = await runCli(['baseline', 'diff', a, b]);
    assert.deepEqual([same.status, same.stdout, same.stderr], [0, '', '']);
    const rel = path.join(b, 'sim-v4.9');
    const ktap = path.join(rel, readdirSync(rel)[0]!, 'ktap.txt');
    writeFileSync(ktap, readFileSync(ktap, 'utf8').replace(/^ok 1 kmod_test_0001$/m, 'not ok 1 kmod_test_0001'));
    const c = path.join(base, 'c');
    cpSync(b, c, { recursive: true });
    const reg = await runCli(['baseline', 'diff', a, c]);
    assert.deepEqual([reg.status, reg.stdout], [1, 'REGRESSED sim-v4.9 selftest 0001: ok -> not ok\n']);
    const imp = await runCli(['baseline', 'diff', c, a]);
    assert.deepEqual([imp.status, imp.stdout], [0, 'IMPROVED sim-v4.9 selftest 0001: not ok -> ok\n']);
    for (const bad of [path.join(base, 'missing'), ktap, os.tmpdir() + '/' + path.basename(base) + '/a/sim-v4.9/nope']) {
      const r = await runCli(['baseline', 'diff', a, bad]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, new RegExp(`^kmodlab: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
