/**
 * `kmodlab storm --target qemu:NAME` (the real coldplug): bad input is one line and exit 2
 * before any boot; and, where debian-6.1 is prepared (or KMODLAB_QEMU_TESTS is set, when a
 * missing kernel fails), one real coldplug at 2 vCPUs with --compare, and a settle that cannot
 * finish in time ending with exit 124 and its logs kept. The boots take 1–3 minutes under TCG.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/run-cli.js';
import { readPrepared } from '../../../src/targets/qemu/prepare.js';
import { validateRecord } from '../../../src/results/record.js';

const haveQemu = existsSync('/usr/bin/qemu-system-x86_64');
const forced = !!process.env.KMODLAB_QEMU_TESTS;

const bad: [string[], RegExp][] = [
  [['--cpu-model', 'Bogus-CPU'], /^kmodlab: --cpu-model Bogus-CPU: unknown to QEMU/],
  [['--machine-type', 'nope'], /^kmodlab: --machine-type nope: unknown to QEMU/],
  [['--cpus', '300'], /^kmodlab: --cpus 300: machine type q35 boots at most 288 vCPUs/],
  [['--machine-type', 'pc', '--cpus', '256'], /^kmodlab: --cpus 256: machine type pc boots at most 255 vCPUs/],
  [["--format", "bogus"], /^kmodlab: --format: unknown format "bogus"/],
  [['--accel', 'warp'], /^kmodlab: --accel warp: want tcg or kvm/],
];

for (const [args, first] of bad)
  test(`storm --target qemu:debian-6.1 ${args.join(' ')}: one line, exit 2, no boot`, { skip: haveQemu ? false : 'qemu-system-x86_64 not installed' }, async () => {
    const r = await runCli(['storm', '--target', 'qemu:debian-6.1', ...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, first);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  });

test('storm --target qemu:nosuch: an unknown kernel is one line, exit 2', async () => {
  const r = await runCli(['storm', '--target', 'qemu:nosuch']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^kmodlab: kernel "nosuch": unknown/);
});

const prepared = readPrepared('debian-6.1');
const skipBoot = !haveQemu ? 'qemu-system-x86_64 not installed' : !prepared && !forced ? 'debian-6.1 not prepared (kmodlab kernel prepare debian-6.1)' : false;

test('a real coldplug of debian-6.1 at 2 vCPUs: a measured record, the capture, and the sim beside it', { skip: skipBoot, timeout: 900_000 }, async () => {
  assert.ok(prepared, 'KMODLAB_QEMU_TESTS is set but debian-6.1 is not prepared');
  const dir = mkdtempSync(path.join(tmpdir(), 'kmodlab-cp-'));
  try {
    const r = await runCli(['storm', '--target', 'qemu:debian-6.1', '--cpus', '2', '--compare', '--format', 'json', '--log-dir', dir, '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    const records = (JSON.parse(r.stdout) as { records?: unknown[] }).records ?? (JSON.parse(r.stdout) as unknown[]);
    const recs = (records as unknown[]).map((x, i) => validateRecord(x, `record ${i}`));
    const real = recs.find((x) => x.source === 'measured')!;
    const sim = recs.find((x) => x.source !== 'measured')!;
    assert.equal(real.target, 'qemu:debian-6.1');
    assert.equal(sim.kernel, 'v6.1-stable');
    // udev loads more than it keeps: per-CPU modules are tried once per vCPU, the rest fail -EEXIST/-EBUSY
    assert.ok(real.loadAttempts > real.modulesLoaded, `${real.loadAttempts} calls, ${real.modulesLoaded} loaded`);
    assert.ok(Object.values(real.failuresByModule).some((f) => (f.EEXIST ?? 0) > 0));
    assert.ok(real.settleNs > 0 && real.uevents > 100);
    const run = path.join(dir, 'c2-s1');
    const procModules = readFileSync(path.join(run, 'data.log'), 'utf8').replace(/\r/g, '').split('KML-BEGIN modules\n')[1]!.split('KML-END modules')[0]!.trim().split('\n');
    assert.equal(real.modulesLoaded, procModules.length);
    for (const f of ['console.log', 'data.log', 'qemu.cmd', 'record.json', 'profile.json']) assert.ok(existsSync(path.join(run, f)), f);
    assert.ok(existsSync(path.join(dir, 'sim-profile.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a settle that cannot finish in time ends with exit 124 and keeps the logs', { skip: skipBoot, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kmodlab-cp-'));
  try {
    const r = await runCli(['storm', '--target', 'qemu:debian-6.1', '--cpus', '2', '--settle-timeout', '1', '--log-dir', dir]);
    assert.equal(r.status, 124, r.stderr);
    assert.match(r.stderr, /udevadm settle timed out after 1 s; logs in /);
    assert.ok(existsSync(path.join(dir, 'c2-s1', 'console.log')));
    assert.match(readFileSync(path.join(dir, 'c2-s1', 'data.log'), 'utf8'), /KML-FACT settled timeout/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
