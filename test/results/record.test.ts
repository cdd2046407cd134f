/**
 * The record check without zod (results/record.ts's isRecordShaped) stands in for the schema on
 * the sweep's hot path, so it must never accept what the schema refuses: checked here on real
 * records, on fake ones, and on many values made from them by changing, removing or adding one
 * part at any depth. And a storm run in this thread, with its record checked, loads no zod.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { isRecordShaped, recordSchemas, validateRecord } from '../../src/results/record.js';
import { fakeParams, fakeRecords } from '../fixtures/report/records.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const real = JSON.parse(readFileSync(path.join(root, 'data/calibration/coldplug/debian-6.1.records.json'), 'utf8')) as Record<string, unknown>[];
const fake = fakeRecords(fakeParams({ cpus: [1, 64], kernels: ['v6.1', 'v6.5'], seeds: [1, 2] })) as unknown as Record<string, unknown>[];
const zodAccepts = (v: unknown): boolean => recordSchemas().stormRunRecordSchema.safeParse(v).success;

test('valid records pass the check without zod, and the schema agrees', () => {
  for (const r of [...real, ...fake]) {
    assert.ok(zodAccepts(r));
    assert.ok(isRecordShaped(r), JSON.stringify(r).slice(0, 200));
    assert.equal(validateRecord(r, 'x'), r, 'the value itself comes back');
  }
});

/** every path to a value inside v (objects' keys and arrays' indices), the root included */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

const odd = fc.oneof(
  fc.constantFrom(undefined, null, -1, -0, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 53, '', 'x', 'simulated', 'estimate', true, [], {}, [1], ['a'], { a: 1 }, { a: -1 }, new Date(0)),
  fc.integer(),
  fc.string(),
  fc.anything(),
);

test('a record changed in one place at any depth: the check accepts it only where the schema does', () => {
  const base = [real[0]!, fake[0]!, real.at(-1)!];
  fc.assert(
    fc.property(fc.nat(base.length - 1), fc.nat(), odd, fc.constantFrom('set', 'delete', 'add'), (bi, pi, value, how) => {
      const r = structuredClone(base[bi]!);
      const all = paths(r);
      const at = all[pi % all.length]!;
      let target: unknown = r;
      for (const k of at.slice(0, -1)) target = (target as Record<string | number, unknown>)[k];
      const last = at.at(-1);
      let v: unknown = r;
      if (last === undefined) v = value;
      else if (how === 'set') (target as Record<string | number, unknown>)[last] = value;
      else if (how === 'delete') delete (target as Record<string | number, unknown>)[last];
      else if (typeof target === 'object' && target !== null) (target as Record<string, unknown>)[`extra${String(last)}`] = value;
      if (isRecordShaped(v)) assert.ok(zodAccepts(v), `accepted without zod, refused by the schema: ${String(at.join('.'))} ${how} ${fc.stringify(value)}`);
    }),
    { numRuns: 3000 },
  );
});

test('an invalid record is still refused with the schema’s message', () => {
  const r = { ...real[0]!, cpus: 0 };
  assert.equal(isRecordShaped(r), false);
  assert.throws(() => validateRecord(r, 'run.json'), /^InputError: run\.json: not a storm record \(cpus: /);
  assert.throws(() => validateRecord({ ...real[0]!, duplicates: [{ module: 'x', count: -1, reason: 'Load' }] }, 'w'), /w: not a storm record \(duplicates\.0\.count: /);
});

test('a storm run and its record check in one thread load no zod', () => {
  const hook = pathToFileURL(path.join(root, 'test/fixtures/cli/module-trace.mjs')).href;
  const storm = pathToFileURL(path.join(root, 'dist/src/experiments/storm.js')).href;
  const record = pathToFileURL(path.join(root, 'dist/src/results/record.js')).href;
  const report = pathToFileURL(path.join(root, 'dist/src/report/index.js')).href;
  const code = `const { runPoint } = await import(${JSON.stringify(storm)}); const { validateRecord } = await import(${JSON.stringify(record)}); const { renderReport } = await import(${JSON.stringify(report)});
const p = { machine: 'kvm-guest', cpus: 4, kernel: 'v6.1-stable', seed: 1 };
const r = validateRecord(await runPoint(p), 'r');
await renderReport('text', [r], { machine: 'kvm-guest', cpus: [4], kernels: ['v6.1-stable'], seeds: [1], command: 'x' });\nawait renderReport('csv', [r]);
process.stdout.write(String(r.loadAttempts));`;
  const res = spawnSync(process.execPath, ['--import', hook, '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /^\d+$/);
  const mods = res.stderr.split('\n').filter((l) => l.startsWith('module-trace '));
  assert.ok(mods.some((m) => m.includes('/dist/src/sim/')), 'the trace saw the simulator load');
  assert.deepEqual(
    mods.filter((m) => /node_modules\/zod\//.test(m)),
    [],
    'no zod',
  );
});
