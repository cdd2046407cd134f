import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShard, runPoints, shardPoints } from '../../src/experiments/points.js';
import { runKey } from '../../src/results/store.js';
import { InputError } from '../../src/errors.js';
import { fakeParams } from '../fixtures/report/records.js';

test('--shard parsing', () => {
  assert.deepEqual(parseShard('1/1'), { index: 1, count: 1 });
  assert.deepEqual(parseShard('3/8'), { index: 3, count: 8 });
  for (const bad of ['0/4', '5/4', '1/0', '1', 'a/b', '1/2/3', '-1/2', '']) {
    assert.throws(() => parseShard(bad), (err: unknown) => err instanceof InputError && /^--shard: bad shard/.test(err.message), bad);
  }
});

test('shards partition the run list exactly, deterministically and evenly', () => {
  const points = runPoints(fakeParams({ cpus: [1, 8, 16, 32, 64, 128, 255], kernels: ['v6.1', 'v6.4', 'v6.5'], seeds: [1, 2] }));
  assert.equal(points.length, 42);
  for (let n = 1; n <= 9; n++) {
    const seen = new Map<string, number>();
    const sizes: number[] = [];
    for (let i = 1; i <= n; i++) {
      const s = shardPoints(points, { index: i, count: n });
      assert.deepEqual(s, shardPoints(points, { index: i, count: n }), 'deterministic');
      sizes.push(s.length);
      for (const p of s) seen.set(runKey(p), (seen.get(runKey(p)) ?? 0) + 1);
    }
    assert.equal(seen.size, points.length, `N=${n}: every point in some shard`);
    assert.ok([...seen.values()].every((v) => v === 1), `N=${n}: no point in two shards`);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `N=${n}: balanced`);
  }
  assert.deepEqual(shardPoints(points, null), points);
});
