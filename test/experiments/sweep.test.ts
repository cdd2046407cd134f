import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { etaMs, progressWanted, runSweep, SIGINT_EXIT_CODE, startOrder } from '../../src/experiments/sweep.js';
import { runPoints } from '../../src/experiments/points.js';
import { listDone, runFileName, runKey } from '../../src/results/store.js';
import { fakeParams, fakeRecord } from '../fixtures/report/records.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '../fixtures/report');
const worker = path.join(fixtures, 'sleepy-worker.js');
const child = path.join(fixtures, 'sweep-child.js');

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'kmodlab-sweep-'));
}

const params = fakeParams({ cpus: [1, 8, 64, 128], kernels: ['v6.1', 'v6.4'], seeds: [1, 2] });

for (const mode of ['inline', 'pool'] as const) {
  test(`${mode}: records come back in run-list order, are stored, and a re-run resumes`, async () => {
    const dir = await tmp();
    // Later points finish first: completion order must not leak into the result.
    const points = runPoints(params).map((p, i) => ({ ...p, delayMs: mode === 'pool' ? 40 - i : 0 }));
    const res = await runSweep({ points, worker, mode, outDir: dir, params, threads: 2, progress: false, handleSigint: false });
    assert.equal(res.interrupted, false);
    assert.equal(res.ran, points.length);
    assert.equal(res.skipped, 0);
    assert.deepEqual(
      res.records,
      points.map((p) => fakeRecord(p)),
    );
    const stored = await listDone(dir);
    assert.equal(stored.size, points.length);
    for (const p of points) assert.deepEqual(stored.get(runKey(p)), fakeRecord(p));

    const again = await runSweep({ points, worker, mode, outDir: dir, params, progress: false, handleSigint: false });
    assert.equal(again.ran, 0);
    assert.equal(again.skipped, points.length);
    assert.deepEqual(again.records, res.records);
    await rm(dir, { recursive: true });
  });
}

test('the pool starts the smallest run of each kernel first, then the largest CPU counts first', () => {
  const points = runPoints(fakeParams({ cpus: [1, 8, 64], kernels: ['v6.4', 'v6.1'], seeds: [1, 2] }));
  // the sweep's run list, largest CPU counts first (stable): what a failure is ranked by
  const todo = [...points].sort((a, b) => b.cpus - a.cpus);
  const order = startOrder(todo);
  assert.deepEqual([...order].sort((a, b) => a - b), todo.map((_, i) => i), 'every run once');
  const started = order.map((i) => `c${todo[i]!.cpus} ${todo[i]!.kernel} s${todo[i]!.seed}`);
  assert.deepEqual(started, [
    'c1 v6.4 s1',
    'c1 v6.1 s1',
    'c64 v6.4 s1',
    'c64 v6.4 s2',
    'c64 v6.1 s1',
    'c64 v6.1 s2',
    'c8 v6.4 s1',
    'c8 v6.4 s2',
    'c8 v6.1 s1',
    'c8 v6.1 s2',
    'c1 v6.4 s2',
    'c1 v6.1 s2',
  ]);
  assert.deepEqual(startOrder([]), []);
});

for (const mode of ['inline', 'pool'] as const) {
  test(`${mode}: the records do not depend on the order the runs were started in`, async () => {
    // the same sweep, resumed from different halves: each order of execution, the same records in run-list order
    const points = runPoints(params);
    const all = await runSweep({ points, worker, mode, threads: 2, progress: false, handleSigint: false });
    for (const half of [points.filter((_, i) => i % 2 === 0), points.filter((p) => p.cpus >= 64)]) {
      const dir = await tmp();
      await runSweep({ points: half, worker, mode, outDir: dir, params, threads: 2, progress: false, handleSigint: false });
      const rest = await runSweep({ points, worker, mode, outDir: dir, params, threads: 2, progress: false, handleSigint: false });
      assert.equal(rest.skipped, half.length);
      assert.equal(rest.ran, points.length - half.length);
      assert.deepEqual(rest.records, all.records);
      await rm(dir, { recursive: true });
    }
  });
}

test('without a store: records only, nothing written', async () => {
  const points = runPoints(params);
  const res = await runSweep({ points, worker, mode: 'inline', progress: false, handleSigint: false });
  assert.equal(res.records.length, points.length);
});

test('a failing run stops the sweep with an error naming the run; finished runs are kept', async () => {
  const dir = await tmp();
  const points = runPoints(params).map((p, i) => ({ ...p, fail: i === 5 }));
  await assert.rejects(runSweep({ points, worker, mode: 'inline', outDir: dir, params, progress: false, handleSigint: false }), (err: unknown) => {
    assert.match((err as Error).message, /^run run_kvm-guest_c\d+_v6\.\d_s\d \(machine kvm-guest, cpus \d+, kernel v6\.\d, seed \d\) failed: simulated failure$/);
    return true;
  });
  const done = await listDone(dir);
  assert.ok(done.size >= 1 && done.size < points.length);
  for (const [, r] of done) assert.deepEqual(r, fakeRecord(r));
  await rm(dir, { recursive: true });
});

test('a worker answering for another run is refused', async () => {
  const points = runPoints(params).slice(0, 1);
  await assert.rejects(
    runSweep({ points, worker, exportName: 'wrongPoint', mode: 'inline', progress: false, handleSigint: false }),
    /the worker returned a record for another run/,
  );
  await assert.rejects(runSweep({ points, worker, exportName: 'nope', mode: 'inline', progress: false, handleSigint: false }), /no function export "nope"/);
});

test('an AbortSignal stops the sweep like SIGINT: finished runs kept, the rest reported missing', async () => {
  const dir = await tmp();
  const points = runPoints(params).map((p) => ({ ...p, delayMs: 30 }));
  const ac = new AbortController();
  let n = 0;
  const res = await runSweep({
    points,
    worker,
    mode: 'pool',
    threads: 2,
    outDir: dir,
    params,
    progress: false,
    handleSigint: false,
    signal: ac.signal,
    onRecord: () => {
      if (++n === 3) ac.abort();
    },
  });
  assert.equal(res.interrupted, true);
  assert.ok(res.ran >= 3 && res.ran < points.length, `ran ${res.ran}`);
  assert.equal(res.records.length + res.missing.length, points.length);
  assert.equal((await listDone(dir)).size, res.records.length);
  await rm(dir, { recursive: true });
});

test('oneRunInline: a sweep with one run left to compute computes it on this thread; with more, the pool does', async () => {
  const here = (await import(pathToFileURL(worker).href)) as { mainThreadRuns: number };
  const points = runPoints(params).slice(0, 2);
  const count = async (opts: Partial<Parameters<typeof runSweep>[0]>): Promise<number> => {
    const before = here.mainThreadRuns;
    const res = await runSweep({ points: points.slice(0, 1), worker, mode: 'pool', progress: false, handleSigint: false, ...opts });
    assert.equal(res.ran + res.skipped, res.total);
    return here.mainThreadRuns - before;
  };
  assert.equal(await count({ oneRunInline: () => true }), 1);
  assert.equal(await count({ oneRunInline: (p) => p.cpus > 1e6 }), 0, 'a run it says no for: in a worker thread');
  assert.equal(await count({}), 0, 'without it, in a worker thread as before');
  assert.equal(await count({ points, oneRunInline: () => true }), 0, 'two runs: the pool');
  const dir = await tmp();
  try {
    await runSweep({ points: points.slice(0, 1), worker, mode: 'pool', outDir: dir, params, progress: false, handleSigint: false });
    assert.equal(await count({ points, outDir: dir, params, oneRunInline: () => true }), 1, 'resumed with one run left');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('progress bar only on a TTY outside CI', () => {
  assert.equal(progressWanted({}, { isTTY: true }), true);
  assert.equal(progressWanted({ CI: 'true' }, { isTTY: true }), false);
  assert.equal(progressWanted({}, { isTTY: false }), false);
  assert.equal(progressWanted({}, {}), false);
});

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the child sweep; send SIGINT once `interruptAfter` records are stored (if given). */
function runChild(dir: string, count: number, delayMs: number, mode: string, interruptAfter?: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const cp = spawn(process.execPath, [child, dir, String(count), String(delayMs), mode], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    let stdout = '';
    let stderr = '';
    let sent = false;
    cp.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const stored = stdout.split('\n').filter((l) => l.startsWith('stored ')).length;
      if (interruptAfter !== undefined && !sent && stored >= interruptAfter) {
        sent = true;
        cp.kill('SIGINT');
      }
    });
    cp.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    cp.on('error', reject);
    cp.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

for (const mode of ['pool', 'inline']) {
  test(`SIGINT mid-sweep (${mode}): exit 130, no partial files, finished runs intact; re-run completes only the rest`, async () => {
    const dir = await tmp();
    const count = 12;
    const first = await runChild(dir, count, 120, mode, 3);
    assert.equal(first.code, SIGINT_EXIT_CODE, `exit code; stderr: ${first.stderr}`);
    assert.equal(first.stderr, '');
    const storedKeys = first.stdout
      .split('\n')
      .filter((l) => l.startsWith('stored '))
      .map((l) => l.slice('stored '.length));
    assert.match(first.stdout, /^interrupted ran=\d+ skipped=0 total=12$/m);

    const names = await readdir(dir);
    assert.deepEqual(
      names.filter((n) => !/^run_.*\.json$/.test(n) && n !== 'manifest.json'),
      [],
      'no temp or partial files',
    );
    const runFiles = names.filter((n) => n.startsWith('run_')).sort();
    assert.deepEqual(runFiles, storedKeys.map((k) => `${k}.json`).sort(), 'every finished run, and only those, is on disk');
    assert.ok(runFiles.length >= 3 && runFiles.length < count, `${runFiles.length} runs stored`);
    for (const f of runFiles) {
      const r = JSON.parse(await readFile(path.join(dir, f), 'utf8'));
      assert.deepEqual(r, fakeRecord(r), `${f} intact`);
      assert.equal(runFileName(r), f);
    }

    const second = await runChild(dir, count, 5, mode);
    assert.equal(second.code, 0, second.stderr);
    const rerun = second.stdout.split('\n').filter((l) => l.startsWith('stored ')).map((l) => l.slice(7));
    assert.equal(rerun.length, count - runFiles.length, 'only the missing runs ran');
    assert.ok(rerun.every((k) => !storedKeys.includes(k)));
    assert.match(second.stdout, new RegExp(`^done ran=${count - runFiles.length} skipped=${runFiles.length} total=${count}$`, 'm'));
    assert.equal((await listDone(dir)).size, count);
    await rm(dir, { recursive: true });
  });
}

test('a record breaking the contract (fractional bytes) is refused before it is stored', async () => {
  const dir = await tmp();
  const points = runPoints(params).slice(0, 1);
  await assert.rejects(
    runSweep({ points, worker, exportName: 'fractionalPoint', mode: 'inline', outDir: dir, params, progress: false, handleSigint: false }),
    /the worker returned an invalid record: not a storm record \(peakVmallocBytes: /,
  );
  assert.equal((await listDone(dir)).size, 0);
  await rm(dir, { recursive: true });
});

test('ETA: a thread\'s start-up is not taken for the speed of the runs (wide sweeps were off several times over)', () => {
  // a sweep 1-255:16 × 2 kernels on 2 threads, runs cost their weight (cpus + 8) in ms × 3, and
  // each thread's first run pays 1500 ms more to start it — the shape measured on this project
  const weights = [1, 17, 33, 49, 65, 81, 97, 113, 129, 145, 161, 177, 193, 209, 225, 241]
    .flatMap((c) => [c + 8, c + 8])
    .sort((a, b) => b - a);
  const threads = 2;
  const cost = (w: number, first: boolean) => w * 3 + (first ? 1500 : 0);
  const free = Array.from({ length: threads }, () => 0);
  const ends: { t: number; w: number; first: boolean; ms: number }[] = [];
  weights.forEach((w, i) => {
    const th = free.indexOf(Math.min(...free));
    const first = i < threads;
    const ms = cost(w, first);
    free[th]! += ms;
    ends.push({ t: free[th]!, w, first, ms });
  });
  ends.sort((a, b) => a.t - b.t);
  const finish = Math.max(...free);
  const weightTotal = weights.reduce((a, b) => a + b, 0);
  let weightDone = 0;
  let warmWeight = 0;
  let warmMs = 0;
  let checked = 0;
  ends.forEach((e, k) => {
    weightDone += e.w;
    if (!e.first) {
      warmWeight += e.w;
      warmMs += e.ms;
    }
    const left = finish - e.t;
    const state = { elapsedMs: e.t, weightTotal, weightDone, warmWeight, warmMs, threads, runsLeft: weights.length - k - 1 };
    const eta = etaMs(state)!;
    if (warmWeight > 0 && left > finish * 0.2) {
      checked++;
      assert.ok(Math.abs(eta - left) <= 0.25 * left, `after ${k + 1} runs: ETA ${Math.round(eta)} ms, ${Math.round(left)} ms left`);
    }
    // what elapsed time over work done said at the first runs without the thread's start
    if (k === threads) {
      const naive = (e.t * (weightTotal - weightDone)) / weightDone;
      assert.equal(etaMs({ ...state, warmWeight: 0, warmMs: 0 }), null, 'no guess from the threads\' first runs alone, this early');
      assert.ok(naive > 2 * left, `the estimate this replaces: ${Math.round(naive)} ms for ${Math.round(left)} ms`);
    }
  });
  assert.ok(checked >= 10, `${checked} estimates checked`);
  assert.equal(etaMs({ elapsedMs: 10, weightTotal: 10, weightDone: 0, warmWeight: 0, warmMs: 0, threads: 1, runsLeft: 3 }), null);
  // a long sweep of first runs only: elapsed over work done, once the start-up is small beside it
  assert.equal(etaMs({ elapsedMs: 60_000, weightTotal: 30, weightDone: 10, warmWeight: 0, warmMs: 0, threads: 2, runsLeft: 2 }), 120_000);
});
