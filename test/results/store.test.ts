import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runPoints, shardPoints } from '../../src/experiments/points.js';
import { listDone, merge, openStore, readStore, runFileName, runKey, writeRecord, MANIFEST_FILE } from '../../src/results/store.js';
import { InputError } from '../../src/errors.js';
import { fakeParams, fakeRecord, fakeRecords } from '../fixtures/report/records.js';

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'kmodlab-store-'));
}

test('run file names are deterministic and unambiguous', () => {
  const p = { machine: 'kvm-guest', cpus: 64, kernel: 'v6.5+', seed: 3 };
  assert.equal(runFileName(p), 'run_kvm-guest_c64_v6.5%2B_s3.json');
  assert.equal(runFileName(p), runFileName({ ...p }));
  // "_" is encoded, so machine/kernel boundaries cannot be confused.
  assert.notEqual(runKey({ ...p, machine: 'a_c1', kernel: 'k' }), runKey({ ...p, machine: 'a', kernel: 'c1_k' }));
  assert.equal(runFileName({ ...p, machine: 'ö/x' }), 'run_%C3%B6%2Fx_c64_v6.5%2B_s3.json');
});

test('records are written atomically and read back for resume', async () => {
  const dir = await tmp();
  const params = fakeParams({ cpus: [1, 8], kernels: ['v6.1'] });
  await openStore(dir, params);
  const recs = fakeRecords(params);
  for (const r of recs) await writeRecord(dir, r);
  const names = (await readdir(dir)).sort();
  assert.deepEqual(names, [MANIFEST_FILE, ...recs.map(runFileName)].sort());
  const done = await listDone(dir);
  assert.equal(done.size, 2);
  assert.deepEqual(done.get(runKey(recs[0]!)), recs[0]);
  // The stored JSON keeps record.ts's key order.
  const text = await readFile(path.join(dir, runFileName(recs[0]!)), 'utf8');
  assert.deepEqual(Object.keys(JSON.parse(text)).slice(0, 4), ['machine', 'cpus', 'kernel', 'seed']);
  await rm(dir, { recursive: true });
});

test('resume ignores half-written temp files and broken records, and cleans stale temps', async () => {
  const dir = await tmp();
  const params = fakeParams({ cpus: [1, 8, 64], kernels: ['v6.1'] });
  await openStore(dir, params);
  const [a, b, c] = fakeRecords(params);
  await writeRecord(dir, a!);
  // A killed writer's temp file (recent, and an old one), and a truncated record.
  const fresh = path.join(dir, `${runFileName(b!)}.123456`);
  const stale = path.join(dir, `${runFileName(c!)}.987654`);
  await writeFile(fresh, '{"machine": "kvm-gu');
  await writeFile(stale, '{"machine": "kvm-gu');
  const old = new Date(Date.now() - 3600_000);
  await utimes(stale, old, old);
  await writeFile(path.join(dir, runFileName(c!)), '{"machine": "kvm-guest", "cpus": 64');
  // A record in a file whose name says another run.
  await writeFile(path.join(dir, runFileName(b!)), JSON.stringify(c));
  const done = await listDone(dir);
  assert.deepEqual([...done.keys()], [runKey(a!)]);
  const names = await readdir(dir);
  assert.ok(names.includes(path.basename(fresh)), 'a fresh temp file may belong to a live writer: kept');
  assert.ok(!names.includes(path.basename(stale)), 'a stale temp file is removed');
  await rm(dir, { recursive: true });
});

test('a different sweep into the same --out is refused; the same one (other command) is accepted', async () => {
  const dir = await tmp();
  await openStore(dir, fakeParams());
  await openStore(dir, fakeParams({ command: 'kmodlab storm … --shard 1/2', cpus: [255, 128, 64, 8, 1] }));
  await assert.rejects(openStore(dir, fakeParams({ cpus: [1, 2] })), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /holds results of a different sweep/);
    return true;
  });
  await rm(dir, { recursive: true });
});

test('merge joins shard directories into one sorted set', async () => {
  const params = fakeParams({ cpus: [1, 8, 64], kernels: ['v6.4', 'v6.1'], seeds: [1, 2] });
  const points = runPoints(params);
  const dirs = [await tmp(), await tmp(), await tmp()];
  for (let i = 0; i < 3; i++) {
    await openStore(dirs[i]!, params);
    for (const p of shardPoints(points, { index: i + 1, count: 3 })) await writeRecord(dirs[i]!, fakeRecord(p));
  }
  // The same run stored twice, identically (e.g. a retried shard): fine.
  await writeRecord(dirs[2]!, fakeRecord(points[0]!));
  const m = await merge([dirs[2]!, dirs[0]!, dirs[1]!], 'kmodlab storm merge');
  assert.equal(m.records.length, points.length);
  assert.deepEqual(
    m.records.map((r) => runKey(r)),
    points.map((p) => runKey(p)),
    'sorted by cpus, kernels in the manifest order, seed',
  );
  assert.deepEqual(m.params.kernels, ['v6.4', 'v6.1']);
  assert.deepEqual(m.params.cpus, [1, 8, 64]);
  assert.deepEqual(m.params.seeds, [1, 2]);
  // Merge order does not matter.
  const again = await merge([dirs[1]!, dirs[0]!, dirs[2]!]);
  assert.deepEqual(again.records, m.records);
  for (const d of dirs) await rm(d, { recursive: true });
});

test('merge rejects conflicting results for the same run, naming both files', async () => {
  const a = await tmp();
  const b = await tmp();
  const p = { machine: 'kvm-guest', cpus: 8, kernel: 'v6.1', seed: 1 };
  await writeRecord(a, fakeRecord(p));
  await writeRecord(b, { ...fakeRecord(p), wastedBytes: 1 });
  await assert.rejects(merge([a, b]), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /^merge: conflicting results for run_kvm-guest_c8_v6.1_s1: /);
    assert.ok(err.message.includes(path.join(a, runFileName(p))) && err.message.includes(path.join(b, runFileName(p))));
    return true;
  });
  await rm(a, { recursive: true });
  await rm(b, { recursive: true });
});

test('merge: bad inputs are one-line errors', async () => {
  const empty = await tmp();
  await assert.rejects(merge([]), /no result directories/);
  await assert.rejects(merge([path.join(empty, 'nope')]), /no such directory/);
  await assert.rejects(merge([empty]), /no storm results here/);
  await writeFile(path.join(empty, 'f'), 'x');
  await assert.rejects(merge([path.join(empty, 'f')]), /not a directory/);
  const bad = path.join(empty, 'bad');
  await mkdir(bad);
  await writeFile(path.join(bad, 'run_x_c1_k_s1.json'), '{"machine":"x"}');
  await assert.rejects(merge([bad]), (err: unknown) => err instanceof InputError && /not a storm record \(cpus: /.test(err.message));
  const { records } = await readStore(empty);
  assert.deepEqual(records, []);
  await rm(empty, { recursive: true });
});

test('a store file that cannot be written or read names the option, the directory and that file, never Node\'s text', async () => {
  const dir = await tmp();
  const params = fakeParams({ cpus: [1, 8], kernels: ['v6.1'] });
  await openStore(dir, params);
  const [a, b] = fakeRecords(params);
  // a directory where a record goes: the record is the culprit, not --out (which is a directory)
  await mkdir(path.join(dir, runFileName(b!)));
  await writeRecord(dir, a!);
  await assert.rejects(writeRecord(dir, b!), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.message, `--out ${dir}: ${path.join(dir, runFileName(b!))}: is a directory`);
    return true;
  });
  // a manifest that is a directory: its path and what is wrong, where Node said "EISDIR: illegal operation on a directory, read"
  const other = await tmp();
  await mkdir(path.join(other, MANIFEST_FILE));
  await assert.rejects(openStore(other, params), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.message, `${path.join(other, MANIFEST_FILE)}: cannot read: is a directory`);
    return true;
  });
  await rm(dir, { recursive: true });
  await rm(other, { recursive: true });
});
