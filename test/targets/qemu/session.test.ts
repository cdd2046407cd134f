/**
 * DOC: GuestSession against a fake guest (fake-guest.ts): requests and answers, garbage on the
 * line, timeouts, a guest that dies mid-test, a panic, a guest that never boots, and the
 * outcome each one ends in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestSession, GuestSessionError } from '../../../src/targets/qemu/session.js';
import { encodeFrame } from '../../../src/targets/qemu/protocol.js';
import { FakeGuest, type FakeGuestBehaviour } from './fake-guest.js';

const KNOB = '/sys/devices/virtual/misc/test_kmod0/config_num_threads';

function open(b: FakeGuestBehaviour = {}, opts: ConstructorParameters<typeof GuestSession>[2] = {}) {
  const g = new FakeGuest(b);
  let killed = 0;
  const s = new GuestSession(g.host, g.console, { bootTimeoutMs: 2000, requestTimeoutMs: 2000, panicGraceMs: 50, ...opts, kill: () => killed++ });
  return { g, s, killed: () => killed };
}

async function rejectsWith(p: Promise<unknown>, state: string): Promise<GuestSessionError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof GuestSessionError, String(e));
    assert.equal(e.outcome.state, state, e.message);
    return e;
  }
  assert.fail(`expected ${state}`);
}

test('hello, read, write with the kernel’s return value, exec, poweroff → ran', async () => {
  const { g, s } = open();
  assert.equal(await s.ready(), '6.1.0-fake');
  assert.deepEqual(await s.readFile(KNOB), { errno: 0, data: '50\n' });
  assert.deepEqual(await s.readFile('/nope'), { errno: -2, data: '' });
  assert.equal(await s.writeFile(KNOB, '0'), -22);
  assert.equal(await s.writeFile(KNOB, '4'), 1);
  assert.equal(g.files.get(KNOB), '4');
  const r = await s.exec(['modprobe', 'test_kmod']);
  assert.deepEqual(r, { status: 'exit', code: 0, stdout: 'modprobe test_kmod\n', stderr: '' });
  assert.equal((await s.exec(['false'])).code, 1);
  await s.poweroff();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.outcome().state, 'ran');
  s.dispose();
});

test('garbage and printk noise before every frame do not disturb the session', async () => {
  const noise = Buffer.concat([Buffer.from('[  5.1] random: crng init done\r\n\x00\xff@@KML1 R 1 5 deadbeef\nhello'), Buffer.from('@@KML1 ')]);
  const { g, s } = open({ noiseBefore: noise });
  await s.ready();
  for (let i = 0; i < 20; i++) assert.deepEqual(await s.readFile(KNOB), { errno: 0, data: '50\n' });
  assert.ok(s.noise > 20 * 30, `noise ${s.noise}`);
  assert.ok(s.rejectedFrames >= 20);
  g.raw('\x1b[2J garbage at the end');
  await s.ping();
  s.dispose();
});

test('answers matched by id: concurrent requests, answered late and out of order', async () => {
  const { s } = open({ delayMs: 30 });
  await s.ready();
  const rs = await Promise.all([s.readFile(KNOB), s.writeFile(KNOB, '7'), s.readFile('/proc/sys/kernel/modprobe')]);
  assert.equal(rs[1], 1);
  assert.equal(rs[2]!.data, '/sbin/modprobe\n');
  s.dispose();
});

test('a stray answer with an unknown id is ignored', async () => {
  const { g, s } = open();
  await s.ready();
  g.raw(encodeFrame('R', 999, ['0', 'stale']));
  assert.equal((await s.readFile(KNOB)).data, '50\n');
  s.dispose();
});

test('a request that is never answered → timeout; the VM is killed and later requests fail the same way', async () => {
  const { s, killed } = open({ silentOps: ['exec'] }, { requestTimeoutMs: 100 });
  await s.ready();
  await rejectsWith(s.request(['exec', '1000', 'sleep', '99'], 100), 'timeout');
  assert.equal(killed(), 1);
  await rejectsWith(s.readFile(KNOB), 'timeout');
  assert.equal(s.outcome().state, 'timeout');
  s.dispose();
});

test('the whole-session deadline → timeout even while requests are answered', async () => {
  const { s } = open({ delayMs: 40 }, { sessionTimeoutMs: 150 });
  await s.ready();
  const e = await rejectsWith(
    (async () => {
      for (;;) await s.ping();
    })(),
    'timeout',
  );
  assert.match(e.message, /deadline/);
});

test('a guest that dies mid-request (no panic text) → guest-died (not a panic) with the reason', async () => {
  const { s } = open({ dieOnOps: ['write'] });
  await s.ready();
  const e = await rejectsWith(s.writeFile(KNOB, '4'), 'guest-died');
  assert.match(e.outcome.detail, /died without a panic message/);
  s.dispose();
});

test('interrupt(SIGTERM), then the guest powered off or gone → interrupted with the signal; a panic still says panic', async () => {
  const a = open();
  await a.s.ready();
  a.s.interrupt('SIGTERM');
  await a.s.poweroff();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(a.s.outcome(), { state: 'interrupted', detail: 'kmodlab received SIGTERM and shut the guest down', signal: 'SIGTERM' });
  a.s.dispose();
  const b = open({ dieOnOps: ['write'] });
  await b.s.ready();
  b.s.interrupt('SIGINT');
  await rejectsWith(b.s.writeFile(KNOB, '4'), 'interrupted');
  b.s.dispose();
  const c = open({ panicOnOps: ['exec'] });
  await c.s.ready();
  c.s.interrupt('SIGINT');
  await rejectsWith(c.s.exec(['sh', '-c', 'echo c > /proc/sysrq-trigger']), 'kernel-panic');
  c.s.dispose();
});

test('a panic on the console → kernel-panic with the panic line', async () => {
  const { s, killed } = open({ panicOnOps: ['exec'] });
  await s.ready();
  const e = await rejectsWith(s.exec(['sh', '-c', 'echo c > /proc/sysrq-trigger']), 'kernel-panic');
  assert.match(e.outcome.detail, /Kernel panic - not syncing: Fatal exception/);
  assert.ok(killed() <= 1);
  s.dispose();
});

test('a panic even when the channel stays open is noticed', async () => {
  const { g, s } = open({ silentOps: ['read'] }, { requestTimeoutMs: 5000 });
  await s.ready();
  const p = s.readFile(KNOB);
  g.console.write('[ 9.9] Kernel panic - not syncing: ');
  g.console.write('softlockup: hung tasks\n');
  await rejectsWith(p, 'kernel-panic');
  s.dispose();
});

test('no hello before the boot deadline → boot-failure', async () => {
  const { g, s } = open({ hello: false }, { bootTimeoutMs: 100 });
  g.console.write('SeaBIOS (version 1.16.2)\nBooting from ROM...\n');
  const e = await rejectsWith(s.ready(), 'boot-failure');
  assert.match(e.outcome.detail, /Booting from ROM/);
  s.dispose();
});

test('the guest exits before the agent starts → boot-failure', async () => {
  const { g, s } = open({ hello: false });
  g.console.write('/init: line 3: mount: not found\n');
  g.die();
  await rejectsWith(s.ready(), 'boot-failure');
  s.dispose();
});
