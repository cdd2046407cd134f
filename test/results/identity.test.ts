/**
 * Run identities and checksums in the result store: a stored record says what it was made from,
 * a record edited by hand is found out, and merge refuses both an edited record and one kernel
 * label run from two sets of inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runPoints } from '../../src/experiments/points.js';
import { runSweep } from '../../src/experiments/sweep.js';
import { changedInputs, hashValue, runIdentity } from '../../src/results/identity.js';
import { listDone, listStored, merge, openStore, runFileName, runKey, writeRecord, MANIFEST_FILE } from '../../src/results/store.js';
import { fakeParams, fakeRecord, fakeRecords } from '../fixtures/report/records.js';
import { fileURLToPath } from 'node:url';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/report/sleepy-worker.js');

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'kmodlab-identity-'));
}

const inputsA = { model: 'm1', preset: 'p1', machine: 'k1', modules: 's1', policy: 'none', kmod: 'v30', moduleArea: 'a1' };

test('hashValue is independent of key order and keeps Maps and Sets apart from plain objects', () => {
  assert.equal(hashValue({ a: 1, b: [1, 2] }), hashValue({ b: [1, 2], a: 1 }));
  assert.notEqual(hashValue({ a: 1 }), hashValue({ a: 2 }));
  assert.notEqual(hashValue(new Map([['a', 1]])), hashValue({ a: 1 }));
  assert.notEqual(hashValue(new Set(['x'])), hashValue(['x']));
  const p = { machine: 'kvm-guest', cpus: 8, kernel: 'v6.4', seed: 1 };
  assert.equal(runIdentity(inputsA, p).id, runIdentity({ ...inputsA }, { ...p }).id);
  assert.notEqual(runIdentity(inputsA, p).id, runIdentity(inputsA, { ...p, seed: 2 }).id);
  assert.notEqual(runIdentity(inputsA, p).id, runIdentity({ ...inputsA, modules: 's2' }, p).id);
  assert.deepEqual(changedInputs(inputsA, { ...inputsA, modules: 's2', preset: 'p2' }), ['modules', 'preset']);
});

test('a stored record keeps its identity in the manifest; the run file is the record alone', async () => {
  const dir = await tmp();
  const params = fakeParams({ cpus: [1, 8], kernels: ['v6.4'] });
  await openStore(dir, params);
  const [a, b] = fakeRecords(params);
  await Promise.all([writeRecord(dir, a!, runIdentity(inputsA, a!)), writeRecord(dir, b!, runIdentity(inputsA, b!))]);
  assert.deepEqual(JSON.parse(await readFile(path.join(dir, runFileName(a!)), 'utf8')), a);
  const stored = await listStored(dir);
  assert.equal(stored.size, 2);
  for (const r of [a!, b!]) {
    const s = stored.get(runKey(r))!;
    assert.equal(s.checksum, 'ok');
    assert.equal(s.identity?.id, runIdentity(inputsA, r).id);
    assert.deepEqual(s.identity?.inputs, inputsA);
  }
  const manifest = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8'));
  assert.equal(Object.keys(manifest.runs).length, 2, 'both entries, written in one or two batches');
  await rm(dir, { recursive: true });
});

test('a record edited by hand, still a valid record, fails its checksum: not done, and merge refuses it', async () => {
  const dir = await tmp();
  const params = fakeParams({ cpus: [1, 8], kernels: ['v6.4'] });
  await openStore(dir, params);
  const [a, b] = fakeRecords(params);
  await writeRecord(dir, a!, runIdentity(inputsA, a!));
  await writeRecord(dir, b!, runIdentity(inputsA, b!));
  const file = path.join(dir, runFileName(b!));
  const edited = { ...b!, wastedBytes: b!.wastedBytes + 1 };
  await writeFile(file, JSON.stringify(edited, null, 2) + '\n');
  assert.equal((await listStored(dir)).get(runKey(b!))?.checksum, 'bad');
  assert.deepEqual([...(await listDone(dir)).keys()], [runKey(a!)]);
  await assert.rejects(merge([dir]), (err: Error) => {
    assert.equal(err.message, `${file}: checksum mismatch: the record was changed after kmodlab wrote it`);
    return true;
  });
  await rm(dir, { recursive: true });
});

test('merge refuses one kernel label run from different inputs in two directories, naming the parts', async () => {
  const params = fakeParams({ cpus: [1, 8], kernels: ['v6.4'] });
  const [a, b] = fakeRecords(params);
  const d1 = await tmp();
  const d2 = await tmp();
  await openStore(d1, params);
  await openStore(d2, params);
  await writeRecord(d1, a!, runIdentity(inputsA, a!));
  await writeRecord(d2, b!, runIdentity({ ...inputsA, moduleArea: 'a2' }, b!));
  await assert.rejects(merge([d1, d2]), /^InputError: merge: .* and .*: kernel v6\.4 was run from different inputs \(moduleArea\); merge the results of one sweep$/);
  // the same inputs merge
  await writeRecord(d2, b!, runIdentity(inputsA, b!));
  assert.equal((await merge([d1, d2])).records.length, 2);
  await rm(d1, { recursive: true });
  await rm(d2, { recursive: true });
});

test('resume recomputes exactly the stored runs whose identity changed, and says which parts', async () => {
  const dir = await tmp();
  const params = fakeParams({ cpus: [1, 8, 64], kernels: ['v6.1', 'v6.4'], seeds: [1] });
  const points = runPoints(params);
  const base = { worker, mode: 'inline' as const, outDir: dir, params, progress: false, handleSigint: false };
  const first = await runSweep({ ...base, points, identity: (p) => runIdentity(inputsA, p) });
  assert.equal(first.ran, points.length);
  // same identities: nothing runs
  const stale: [number, string[]][] = [];
  const onStale = (n: number, why: readonly string[]): void => void stale.push([n, [...why]]);
  const same = await runSweep({ ...base, points, identity: (p) => runIdentity(inputsA, p), onStale });
  assert.equal(same.ran, 0);
  assert.deepEqual(stale, []);
  // v6.4's preset changed: its 3 runs again, v6.1's kept
  const changed = await runSweep({
    ...base,
    points,
    identity: (p) => runIdentity(p.kernel === 'v6.4' ? { ...inputsA, preset: 'p2' } : inputsA, p),
    onStale,
  });
  assert.equal(changed.ran, 3);
  assert.equal(changed.skipped, 3);
  assert.deepEqual(stale, [[3, ['preset']]]);
  assert.deepEqual(changed.records, points.map((p) => fakeRecord(p)));
  // an edited record is recomputed too, and reported as such
  const f = path.join(dir, runFileName(points[0]!));
  await writeFile(f, JSON.stringify({ ...fakeRecord(points[0]!), modulesLoaded: 1 }));
  stale.length = 0;
  const again = await runSweep({
    ...base,
    points,
    identity: (p) => runIdentity(p.kernel === 'v6.4' ? { ...inputsA, preset: 'p2' } : inputsA, p),
    onStale,
  });
  assert.equal(again.ran, 1);
  assert.deepEqual(stale, [[1, ['edited']]]);
  assert.deepEqual(JSON.parse(await readFile(f, 'utf8')), fakeRecord(points[0]!));
  await rm(dir, { recursive: true });
});
