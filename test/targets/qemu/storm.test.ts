/**
 * DOC: the guest side of the duplicate-load storm (src/targets/qemu/storm.ts) against a fake
 * guest whose kml-storm answers like the real helper: the requests it sends, in order (deps
 * first, rmmod before every storm and after every path), the rows it reads back, and the same
 * through runDupStorm with the guest as its target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestSession } from '../../../src/targets/qemu/session.js';
import type { Guest } from '../../../src/targets/qemu/boot.js';
import { stormProgressLine } from '../../../src/experiments/dupstorm/format.js';
import { runDupStorm } from '../../../src/experiments/dupstorm/run.js';
import { guestDupStormTarget, runGuestStorm } from '../../../src/targets/qemu/storm.js';
import { FakeGuest } from './fake-guest.js';

/** kml-storm's output for N loads: the first gets `first`, the rest `dup` (or modprobe lines) */
function kmlStorm(argv: string[]): { stdout: string } {
  const [, mode, nText] = argv as [string, string, string];
  const n = Number(nText);
  const lines = ['V 1000 1200'];
  for (let i = 0; i < n; i++) {
    if (mode === 'modprobe') lines.push(i === 0 ? `P ${i} 0 ${1000 + i}` : `P ${i} 1 ${2000 + i} modprobe: ERROR: could not insert 'kml_slow': Device or resource busy`);
    else lines.push(`R ${i} x ${i === 0 ? '0' : 'EEXIST'} ${1000 * (i + 1)}`);
  }
  return { stdout: lines.join('\n') + '\n' };
}

function fakeGuest(): { guest: Guest; argvs: string[][]; close: () => void } {
  const argvs: string[][] = [];
  const g = new FakeGuest({
    exec: (argv) => {
      argvs.push(argv);
      return argv[0] === 'kml-storm' ? kmlStorm(argv) : { stdout: '' };
    },
  });
  const session = new GuestSession(g.host, g.console, { bootTimeoutMs: 2000, requestTimeoutMs: 2000, panicGraceMs: 50, kill: () => {} });
  const guest = { session, accel: 'tcg', cpus: 2, memMiB: 2048, bootMs: 1, qemuStderr: () => '', shutdown: async () => session.outcome(), kill: () => {} } as Guest;
  return { guest, argvs, close: () => session.dispose() };
}

const prepared = {
  stormFiles: { xfs: { plain: '/lib/kml/xfs.ko', xz: '/lib/kml/xfs.ko.xz' }, kml_slow: { plain: '/lib/kml/kml_slow.ko', xz: '/lib/kml/kml_slow.ko.xz' } },
  moduleDeps: { xfs: ['libcrc32c'], kml_slow: [] },
  kmodVersion: 30,
};

test('guest storm: deps first, rmmod before every storm and after every path, kml-storm argv per path', async () => {
  const { guest, argvs, close } = fakeGuest();
  await guest.session.ready();
  const logs: string[] = [];
  const r = await runGuestStorm(guest, prepared, { parallel: [1, 2], modules: ['xfs', 'kml_slow'], modes: ['finit-compressed', 'modprobe'], onRow: (row) => logs.push(stormProgressLine(row)) });
  close();
  assert.deepEqual(argvs, [
    ['modprobe', 'libcrc32c'],
    ['rmmod', 'xfs'],
    ['kml-storm', 'finit-compressed', '1', '/lib/kml/xfs.ko.xz', ''],
    ['rmmod', 'xfs'],
    ['kml-storm', 'finit-compressed', '2', '/lib/kml/xfs.ko.xz', ''],
    ['rmmod', 'xfs'],
    ['rmmod', 'xfs'],
    ['kml-storm', 'modprobe', '1', 'xfs'],
    ['rmmod', 'xfs'],
    ['kml-storm', 'modprobe', '2', 'xfs'],
    ['rmmod', 'xfs'],
    ['rmmod', 'kml_slow'],
    ['kml-storm', 'finit-compressed', '1', '/lib/kml/kml_slow.ko.xz', 'msecs=1000'],
    ['rmmod', 'kml_slow'],
    ['kml-storm', 'finit-compressed', '2', '/lib/kml/kml_slow.ko.xz', 'msecs=1000'],
    ['rmmod', 'kml_slow'],
    ['rmmod', 'kml_slow'],
    ['kml-storm', 'modprobe', '1', 'kml_slow', 'msecs=1000'],
    ['rmmod', 'kml_slow'],
    ['kml-storm', 'modprobe', '2', 'kml_slow', 'msecs=1000'],
    ['rmmod', 'kml_slow'],
  ]);
  assert.equal(r.kernel, '6.1.0-fake');
  assert.equal(r.kmodVersion, 30);
  assert.deepEqual(
    r.rows.map((x) => [x.module, x.mode, x.n, x.counts]),
    [
      ['xfs', 'finit-compressed', 1, { '0': 1 }],
      ['xfs', 'finit-compressed', 2, { '0': 1, EEXIST: 1 }],
      ['xfs', 'modprobe', 1, { 'exit 0': 1 }],
      ['xfs', 'modprobe', 2, { 'exit 0': 1, 'exit 1 EBUSY': 1 }],
      ['kml_slow', 'finit-compressed', 1, { '0': 1 }],
      ['kml_slow', 'finit-compressed', 2, { '0': 1, EEXIST: 1 }],
      ['kml_slow', 'modprobe', 1, { 'exit 0': 1 }],
      ['kml_slow', 'modprobe', 2, { 'exit 0': 1, 'exit 1 EBUSY': 1 }],
    ],
  );
  assert.deepEqual(r.rows[1], { module: 'xfs', mode: 'finit-compressed', n: 2, counts: { '0': 1, EEXIST: 1 }, baselineVmallocKiB: 1000, peakVmallocKiB: 1200, spanUs: 2000, calls: [{ result: '0', us: 1000 }, { result: 'EEXIST', us: 2000 }] });
  assert.equal(logs[1], 'xfs finit-compressed N=2: 0 ×1, EEXIST ×1; VmallocUsed peak +200 KiB; 2 ms');
  assert.equal(logs.length, 8);
});

test('guest storm: a module the prepared kernel lacks is an InputError before any request', async () => {
  const { guest, argvs, close } = fakeGuest();
  await guest.session.ready();
  await assert.rejects(runGuestStorm(guest, prepared, { parallel: [1], modules: ['kml_fail'] }), /storm module kml_fail: not in the prepared kernel \(xfs, kml_slow\)/);
  close();
  assert.deepEqual(argvs, []);
});

test('runDupStorm on the guest target: the same requests and rows as runGuestStorm, rows heard as they come', async () => {
  const plan = { parallel: [2], modules: ['kml_slow'], modes: ['finit' as const, 'modprobe' as const] };
  const direct = fakeGuest();
  await direct.guest.session.ready();
  const want = await runGuestStorm(direct.guest, prepared, plan);
  direct.close();
  const viaPlan = fakeGuest();
  await viaPlan.guest.session.ready();
  const heard: string[] = [];
  const got = await runDupStorm(plan, guestDupStormTarget(viaPlan.guest, prepared), (r) => heard.push(`${r.module} ${r.mode} ${r.n}`));
  viaPlan.close();
  assert.deepEqual(got, want);
  assert.deepEqual(viaPlan.argvs, direct.argvs);
  assert.deepEqual(heard, ['kml_slow finit 2', 'kml_slow modprobe 2']);
});
