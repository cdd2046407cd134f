/**
 * DOC: the committed simulator baseline (data/baselines/) is what the model does today: it is
 * regenerated into a temp directory (scripts/baseline-update.mjs) and diffed against the committed
 * one. A change of the model's behaviour fails here until `npm run baseline:update` is committed
 * with it, so the change shows in review as a diff of data/baselines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { baselineDiff, formatLine } from '../../src/experiments/baseline-diff.js';
import { readResults } from '../../src/results/results-dir.js';
import { root } from '../cli/run-cli.js';

test('data/baselines regenerates with no change', { timeout: 60_000 }, () => {
  const committed = path.join(root, 'data/baselines');
  const runs = readResults(committed);
  // the selftest on newest, v6.1-stable and v4.9; coldplug and duplicate-load storms
  assert.deepEqual(
    [...new Set(runs.filter((r) => r.command.kind === 'selftest').map((r) => r.release))].sort(),
    ['sim-newest', 'sim-v4.9', 'sim-v6.1-stable'],
  );
  assert.ok(runs.some((r) => r.command.kind === 'storm') && runs.some((r) => r.command.kind === 'dupstorm'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-baseline-'));
  try {
    const out = path.join(tmp, 'b');
    const r = spawnSync(process.execPath, [path.join(root, 'scripts/baseline-update.mjs'), out], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const d = baselineDiff(committed, out);
    assert.deepEqual(d.lines.map(formatLine), [], 'the model changed: run `npm run baseline:update` and commit data/baselines');
    assert.equal(readResults(out).length, runs.length);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
