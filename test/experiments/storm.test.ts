/**
 * The storm's must-shows: idempotent finit (v6.5+) wastes nothing on any machine and CPU count;
 * before v6.4 waste grows with CPUs; v6.4's early check lowers it; the same seed gives the same
 * record; a record agrees with the kernel's own stats text; the CLI resumes an interrupted sweep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPoint, runStorm, stormRecord } from '../../src/experiments/storm.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin/kmodlab.js');

test('v6.5 and later waste nothing on duplicates that race the winner on kvm-guest (the upstream measurement kind) at every CPU count; at most one late arrival', async () => {
  for (const cpus of [1, 2, 8, 64, 255, 448]) {
    for (const kernel of ['v6.5', 'v6.11', 'newest']) {
      const r = await runPoint({ machine: 'kvm-guest', cpus, kernel, seed: 1 });
      // nothing that raced the winner costs memory; what may remain is a late arrival (a worker
      // that read initstate just before LIVE, spec §5.7): libkmod's probe list of nvme holds
      // crc64 twice (a dependency and a softdep), so the four NVMe drives' workers can produce one
      assert.equal(r.wastedBytes, r.wastedBytesByCategory.becoming, `kvm-guest ${cpus} CPUs ${kernel}`);
      assert.ok(r.failedBecoming <= 1 && r.failedLoad === 0, `kvm-guest ${cpus} CPUs ${kernel}: ${r.failedBecoming} late, ${r.failedLoad} rejected`);
      assert.ok(r.loadAttempts > r.modulesLoaded, 'there were concurrent duplicates to absorb');
    }
  }
});

test('v6.5+ on every profile and CPU count: no concurrent duplicate wastes; only rare late arrivals (spec §5.7)', async () => {
  // A udev worker that read initstate just before the module went LIVE calls finit_module after
  // the winner finished: it becomes a new winner, reads the file and gets -EEXIST at the early
  // check — a real "becoming" failure. Everything that raced the winner waited without memory.
  for (const machine of ['kvm-guest', 'sr950', 'qemu-tcg']) {
    for (const cpus of [1, 2, 8, 64, 255, 448]) {
      const r = await runPoint({ machine, cpus, kernel: 'newest', seed: 1 });
      const v64 = await runPoint({ machine, cpus, kernel: 'v6.4', seed: 1 });
      const at = `${machine} ${cpus} CPUs`;
      assert.equal(r.failedLoad, 0, `${at}: nothing is rejected after allocation`);
      assert.equal(r.wastedBytes, r.wastedBytesByCategory.becoming, at);
      for (const d of r.duplicates) assert.equal(d.reason, 'Becoming', `${at}: ${d.module}`);
      assert.ok(r.failedBecoming <= 5, `${at}: ${r.failedBecoming} late arrivals`);
      // a late arrival of a large module (scsi_mod on sr950 at 2 CPUs) is a few percent of v6.4's waste
      assert.ok(r.wastedBytes * 20 <= v64.wastedBytes, `${at}: ${r.wastedBytes} B vs v6.4's ${v64.wastedBytes} B`);
    }
  }
  // one such late arrival (which module depends on the interleaving: the trigger's devpath order)
  const r = await runPoint({ machine: 'kvm-guest', cpus: 4, kernel: 'v6.5', seed: 1 });
  assert.deepEqual(r.duplicates, [{ module: 'virtio_ring', count: 1, reason: 'Becoming' }]);
  // the record names the module set it booted with: the profile's snapshot, its release and size
  assert.match(r.moduleSet ?? '', /^snapshot debian-6\.1 \(6\.1\.\S+-amd64, \d{4} modules\)$/);
});

test('before v6.4 waste grows with the CPU count; v6.4 wastes less than v6.1 at each count', async () => {
  for (const kernel of ['v4.13', 'v5.3', 'v6.1', 'v6.1-stable']) {
    const w = [];
    for (const cpus of [1, 8, 32, 64]) w.push((await runPoint({ machine: 'kvm-guest', cpus, kernel, seed: 1 })).wastedBytes);
    for (let i = 1; i < w.length; i++) assert.ok(w[i]! > w[i - 1]!, `${kernel}: waste ${w.join(' ')} must grow`);
    // every duplicate is rejected after allocation before v6.4: all waste is "load"
    const r = await runPoint({ machine: 'kvm-guest', cpus: 8, kernel, seed: 1 });
    assert.equal(r.wastedBytesByCategory.becoming, 0);
    assert.equal(r.wastedBytes, r.wastedBytesByCategory.load);
  }
  for (const cpus of [8, 64]) {
    const before = await runPoint({ machine: 'kvm-guest', cpus, kernel: 'v6.1-stable', seed: 1 });
    const v64 = await runPoint({ machine: 'kvm-guest', cpus, kernel: 'v6.4', seed: 1 });
    assert.ok(v64.wastedBytes < before.wastedBytes, `${cpus} CPUs: v6.4 ${v64.wastedBytes} < v6.1 ${before.wastedBytes}`);
    assert.ok(v64.failedBecoming > 0, 'v6.4 rejects duplicates at the early (becoming) check');
  }
});

test('a record is a pure function of its point and agrees with the kernel stats text', async () => {
  const p = { machine: 'kvm-guest', cpus: 16, kernel: 'v6.4', seed: 7 };
  const a = JSON.stringify(await runPoint(p));
  const b = JSON.stringify(await runPoint(p));
  assert.equal(a, b);
  assert.notEqual(a, JSON.stringify(await runPoint({ ...p, seed: 8 })));
  const run = await runStorm(p);
  const r = stormRecord(p, run);
  const text = run.system.kernel.statsText();
  const field = (label: string) => Number(new RegExp(`^\\s*${label}\\t(\\d+)$`, 'm').exec(text)?.[1]);
  assert.equal(field('Virtual mem wasted bytes'), r.wastedBytes);
  assert.equal(field('Mods failed on becoming'), r.failedBecoming);
  assert.equal(field('Mods failed on load'), r.failedLoad);
  assert.equal(field('Failed becoming bytes'), r.wastedBytesByCategory.becoming);
  assert.equal(field('Failed kmod bytes'), r.wastedBytesByCategory.load);
  // in a coldplug every load rejected before init is a same-name duplicate
  assert.equal(r.duplicates.reduce((n, d) => n + d.count, 0), r.failedBecoming + r.failedLoad);
});

test('a module area too small for the storm makes legitimate loads fail, and says which', async () => {
  const area = 16 * 2 ** 20;
  const r = await runPoint({ machine: 'kvm-guest', cpus: 64, kernel: 'v6.1-stable', seed: 1, moduleAreaBytes: area });
  assert.ok(r.allocFailures > 0);
  assert.ok(r.peakModuleAreaBytes <= area);
  // duplicates of the per-CPU modules hold the area; device drivers lose their loads
  // (which ones depends on the interleaving: drm_ttm_helper with libkmod's lookups as they are)
  assert.ok(r.modulesFailedByAllocation.length > 0);
  // a device driver's attempts are its devices' events × libkmod's lookup entries (nvme: 4 NVMe
  // functions on kvm-guest), far below the per-CPU modules' one or more per CPU
  for (const m of r.modulesFailedByAllocation) assert.ok((r.loadAttemptsByModule[m] ?? 0) <= 8, `${m}: a device driver, not a per-CPU module: ${r.loadAttemptsByModule[m]} attempts`);
  for (const m of r.modulesFailedByAllocation) assert.deepEqual(Object.keys(r.failuresByModule[m] ?? {}), ['ENOMEM'], m);
  const ok = await runPoint({ machine: 'kvm-guest', cpus: 64, kernel: 'newest', seed: 1, moduleAreaBytes: area });
  assert.equal(ok.allocFailures, 0, 'without duplicates the same area is enough');
  assert.deepEqual(ok.modulesFailedByAllocation, []);
  assert.ok(ok.modulesLoaded > r.modulesLoaded, `${ok.modulesLoaded} > ${r.modulesLoaded}`);
});

test('CLI: SIGINT mid-sweep loses no finished run; re-running resumes to the same result', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kmodlab-storm-'));
  const args = ['storm', '--machine', 'kvm-guest', '--cpus', '8-64:8', '--kernel', 'v6.4', '--threads', '1', '--format', 'json', '--no-progress'];
  try {
    const child = spawn(process.execPath, [bin, ...args, '--out', path.join(dir, 'a')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // interrupt once some runs are stored
    const runFiles = () => {
      try {
        return readdirSync(path.join(dir, 'a')).filter((f) => /^run_.*\.json$/.test(f));
      } catch {
        return [];
      }
    };
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    let done = false;
    void exited.then(() => (done = true));
    const deadline = Date.now() + 60_000;
    while (runFiles().length < 2 && !done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, `the sweep ended before it could be interrupted: ${stderr}`);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const files = readdirSync(path.join(dir, 'a'));
    assert.equal(code, 130, stderr);
    assert.deepEqual(files.filter((f) => !/^run_.*\.json$/.test(f) && f !== 'manifest.json'), [], 'no temp or partial files');
    const kept = runFiles();
    assert.ok(kept.length >= 2 && kept.length < 8, `${kept.length} runs stored before the interrupt`);
    for (const f of kept) JSON.parse(readFileSync(path.join(dir, 'a', f), 'utf8'));
    const resumed = spawnSync(process.execPath, [bin, ...args, '--out', path.join(dir, 'a')], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const fresh = spawnSync(process.execPath, [bin, ...args, '--out', path.join(dir, 'b')], { encoding: 'utf8' });
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.equal(resumed.stdout, fresh.stdout, 'resumed sweep = uninterrupted sweep, byte for byte');
    assert.equal(JSON.parse(fresh.stdout).length, 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: stats prints the debugfs text byte-exact on stdout, its origin on stderr', () => {
  const r = spawnSync(process.execPath, [bin, 'stats', '--machine', 'kvm-guest', '--cpus', '8', '--kernel', 'v6.1-stable'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {9}Mods ever loaded\t\d+\n/);
  assert.match(r.stdout, /\n {8}Failed kmod bytes\t[1-9]\d*\n/);
  assert.match(r.stdout, /Duplicate failed modules:\n {14}Module-name\t How-many-times\t {19}Reason\n/);
  assert.match(r.stderr, /kvm-guest, 8 CPUs, v6.1-stable, seed 1 \(no MODULE_STATS in this release/);
});

test('CLI: bad storm input is one line and exit 2', () => {
  for (const [args, re] of [
    [['storm', '--cpus', '8-4'], /--cpus/],
    [['storm', '--kernel', 'v9.9'], /v9\.9/],
    [['storm', '--machine', 'nope'], /nope/],
    [['storm', '--format', 'pdf'], /--format/],
  ] as const) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});
