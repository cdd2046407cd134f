/**
 * The load pipeline, states and views (spec §2, §3.3–3.4, §4, §5.1–5.5): entry checks,
 * visibility of /sys/module and /proc/modules, delete_module rules, the usermode helper's return
 * values, get_fs_type's cases, and symbol resolution waiting for a COMING dependency.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EBADF, EBUSY, EINVAL, EKEYREJECTED, ENAMETOOLONG, ENOENT, ENOEXEC, EPERM, ERESTARTSYS, EWOULDBLOCK,
  MODULE_INIT_COMPRESSED_FILE, O_NONBLOCK, timestamp, type UsermodeHelperHost,
} from '../../src/kernel/index.js';
import type { Proc, Process } from '../../src/sim/index.js';
import { makeModuleFile, makeTask } from './testing/fixtures.js';
import { finitAt, MS, proc, requestAt, S, world } from './helpers.js';

test('finit_module/init_module entry checks', () => {
  const f = makeModuleFile({ name: 'm' });
  const w = world('v5.7', [f]);
  const nocap = w.sim.spawn('nocap', (function* () {
    return yield* w.k.finit_module(makeTask(w.sim.current!, 'x', { sysModule: false }), f, '', 0);
  })());
  const badflag = proc(w, 'a', 0, (t) => w.k.finit_module(t, f, '', MODULE_INIT_COMPRESSED_FILE));
  const nofile = proc(w, 'b', 0, (t) => w.k.finit_module(t, null, '', 0));
  const short = proc(w, 'c', 0, (t) => w.k.init_module(t, f, 10, ''));
  w.sim.run();
  assert.deepEqual([nocap.result, badflag.result, nofile.result, short.result], [-EPERM, -EINVAL, -EBADF, -ENOEXEC]);

  const w2 = world('v6.1', [], { sigEnforce: true });
  const unsigned = makeModuleFile({ name: 'u', signed: false });
  const bad = makeModuleFile({ name: 'b', badModinfo: true });
  const gz = makeModuleFile({ name: 'gz', compression: 'xz' });
  const r = [
    proc(w2, 'a', 0, (t) => w2.k.finit_module(t, unsigned, '', 0)),
    proc(w2, 'b', 0, (t) => w2.k.finit_module(t, bad, '', 0)),
    proc(w2, 'c', 0, (t) => w2.k.finit_module(t, gz, '', MODULE_INIT_COMPRESSED_FILE)),
    proc(w2, 'd', 1 * S, (t) => w2.k.finit_module(t, { ...gz, inode: 99999 }, '', 0)),
  ];
  w2.sim.run();
  // a compressed blob without the flag has no signature marker where the kernel looks: rejected
  assert.deepEqual(r.map((p) => p.result), [-EKEYREJECTED, -ENOEXEC, 0, -EKEYREJECTED]);
  assert.ok(w2.k.dmesg().some((l) => l.endsWith('Loading of unsigned module is rejected')));

  const w3 = world('v6.4', [f], { modulesDisabled: true });
  const d = finitAt(w3, f);
  w3.sim.run();
  assert.equal(d.result, -EPERM);
});

test('states: sysfs initstate and /proc/modules through a load and an unload', () => {
  const f = makeModuleFile({ name: 'test_module', signed: false, outOfTree: true, behaviour: { initSleepNs: 100 * MS } });
  const w = world('v6.1-stable', [f]);
  finitAt(w, f);
  w.sim.runUntil(() => w.k.moduleState('test_module') !== null);
  assert.equal(w.k.moduleState('test_module'), 'unformed');
  assert.deepEqual(w.k.sysfsModule('test_module'), { dir: false, initstate: null });
  assert.equal(w.k.procModules(true), '');
  w.sim.run(50 * MS);
  assert.equal(w.k.moduleState('test_module'), 'coming');
  assert.deepEqual(w.k.sysfsModule('test_module'), { dir: true, initstate: 'coming' });
  assert.match(w.k.procModules(false), /^test_module \d+ 1 - Loading 0x0000000000000000 \(OE\+\)\n$/);
  const early = proc(w, 'rmmod', 0, (t) => w.k.delete_module(t, 'test_module', O_NONBLOCK));
  w.sim.run(60 * MS);
  assert.equal(early.result, -EBUSY);
  w.sim.run(1 * S);
  assert.deepEqual(w.k.sysfsModule('test_module'), { dir: true, initstate: 'live' });
  assert.match(w.k.procModules(false), /^test_module \d+ 0 - Live 0x0000000000000000 \(OE\)\n$/);
  assert.match(w.k.procModules(true), /^test_module \d+ 0 - Live 0xffffffffc[0-9a-f]{7} \(OE\)\n$/);
  assert.ok(w.k.dmesg().some((l) => l.endsWith('test_module: loading out-of-tree module taints kernel.')));
  assert.ok(w.k.dmesg().some((l) => l.endsWith('test_module: module verification failed: signature and/or required key missing - tainting kernel')));
  const rm = proc(w, 'rmmod', 0, (t) => w.k.delete_module(t, 'test_module', O_NONBLOCK));
  const again = proc(w, 'rmmod2', 10 * MS, (t) => w.k.delete_module(t, 'test_module', O_NONBLOCK));
  w.sim.run();
  assert.deepEqual([rm.result, again.result], [0, -ENOENT]);
  assert.deepEqual(w.k.sysfsModule('test_module'), { dir: false, initstate: null });
});

test('delete_module: users and references give -EWOULDBLOCK', () => {
  const dep = makeModuleFile({ name: 'libcrc32c' });
  const xfs = makeModuleFile({ name: 'xfs', symbolDeps: ['libcrc32c'], behaviour: { registersFs: ['xfs'] } });
  const w = world('v6.4', [dep, xfs], { modprobe: { aliases: { 'fs-xfs': 'xfs' } } });
  const get = proc(w, 'mount', 0, function* (t) {
    const fs = yield* w.k.get_fs_type(t, 'xfs');
    return fs;
  });
  w.sim.run();
  assert.notEqual(get.result, null);
  assert.match(w.k.procModules(true), /^libcrc32c \d+ 1 xfs, Live /m);
  const r = [
    proc(w, 'a', 0, (t) => w.k.delete_module(t, 'libcrc32c', O_NONBLOCK)),
    proc(w, 'b', 0, (t) => w.k.delete_module(t, 'xfs', O_NONBLOCK)),
  ];
  w.sim.run();
  assert.deepEqual(r.map((p) => p.result), [-EWOULDBLOCK, -EWOULDBLOCK]);
  w.k.put_filesystem(get.result!);
  const r2 = [
    proc(w, 'c', 0, (t) => w.k.delete_module(t, 'xfs', O_NONBLOCK)),
    proc(w, 'd', 1 * MS, (t) => w.k.delete_module(t, 'libcrc32c', O_NONBLOCK)),
  ];
  w.sim.run();
  assert.deepEqual(r2.map((p) => p.result), [0, 0]);
  assert.deepEqual(w.k.filesystems.registered().includes('xfs'), false);
});

test('request_module return values (§3.4)', () => {
  // a host whose "modprobe" is killed by signal 9, or exits with code 3, or runs 1 s
  const w = world('v6.2', []);
  const host: UsermodeHelperHost = {
    exec: (path, argv) => {
      const name = argv[3]!;
      if (path !== '/sbin/modprobe') return -ENOENT;
      return w.sim.spawn(`modprobe ${name}`, (function* (): Proc<number> {
        yield w.sim.delay(1 * S);
        return name === 'killed' ? 9 : name === 'three' ? 3 << 8 : name === 'missing' ? 256 : 0;
      })());
    },
  };
  w.k.setUsermodeHelper(host);
  const r = {
    killed: requestAt(w, 'killed'),
    three: requestAt(w, 'three'),
    missing: requestAt(w, 'missing'),
    ok: requestAt(w, 'ok'),
    nowaitMissing: requestAt(w, 'missing', 0, 'nw', false),
    tooLong: requestAt(w, 'x'.repeat(56)),
    longest: requestAt(w, 'y'.repeat(55)),
    sigkill: requestAt(w, 'ok', 0, 'victim'),
  };
  w.sim.signal(r.sigkill, 'SIGKILL', 100 * MS);
  const ends: Record<string, number> = {};
  w.sim.spawn('watch', (function* () {
    yield* r.nowaitMissing.join();
    ends.nowait = w.sim.now;
  })());
  w.sim.run();
  assert.deepEqual(Object.fromEntries(Object.entries(r).map(([k, p]) => [k, p.result])), {
    killed: 9, three: 768, missing: 256, ok: 0, nowaitMissing: 0, tooLong: -ENAMETOOLONG, longest: 0, sigkill: -ERESTARTSYS,
  });
  assert.ok(ends.nowait! < 1 * MS, 'nowait returns after exec');
  w.k.modprobePath = '/nonexistent';
  const missingPath = requestAt(w, 'ok');
  w.sim.run();
  assert.equal(missingPath.result, -ENOENT);
  w.k.modprobePath = '/sbin/modprobe';
  w.k.setUsermodehelperEnabled(false);
  const disabled = requestAt(w, 'ok');
  w.sim.run();
  assert.equal(disabled.result, -EBUSY);
  w.k.modprobePath = 'z'.repeat(300) + '\n';
  assert.equal(w.k.modprobePath.length, 255);
});

test('get_fs_type: found while COMING, NULL once GOING, subtypes, one retry and the warning per release', () => {
  const slow = makeModuleFile({
    name: 'xfs',
    behaviour: {
      *init(ctx): Proc<number> {
        ctx.kernel.register_filesystem('xfs', 'xfs');
        yield w.sim.delay(1 * S);
        return 0;
      },
    },
  });
  const w = world('v6.4', [slow], { modprobe: { aliases: { 'fs-xfs': 'xfs' } }, builtinFilesystems: ['fuse'] });
  finitAt(w, slow);
  w.sim.run(100 * MS);
  assert.equal(w.k.moduleState('xfs'), 'coming');
  const whileComing = proc(w, 'mount', 0, (t) => w.k.get_fs_type(t, 'xfs'));
  const sub = proc(w, 'mount2', 0, (t) => w.k.get_fs_type(t, 'fuse.sshfs'));
  const noSub = proc(w, 'mount3', 0, (t) => w.k.get_fs_type(t, 'xfs.foo'));
  w.sim.run();
  assert.deepEqual(whileComing.result, { name: 'xfs', owner: 'xfs' });
  assert.deepEqual(sub.result, { name: 'fuse', owner: null });
  assert.equal(noSub.result, null);

  // "fs-nofs" resolves to a module that does not register the filesystem
  for (const [preset, lines] of [['v4.9', 0], ['v4.13', 4], ['v5.7', 1], ['newest', 1]] as const) {
    const m = makeModuleFile({ name: 'nofs' });
    const w2 = world(preset, [m], { modprobe: { aliases: { 'fs-nofs': 'nofs' } } });
    const a = proc(w2, 't0', 0, (t) => w2.k.get_fs_type(t, 'nofs'));
    const b = proc(w2, 't1', 1 * S, (t) => w2.k.get_fs_type(t, 'nofs'));
    const c = proc(w2, 't2', 2 * S, (t) => w2.k.get_fs_type(t, 'nope'));
    w2.sim.run();
    assert.deepEqual([a.result, b.result, c.result], [null, null, null]);
    const warn = w2.k.dmesg().filter((l) => !l.includes('taint'));
    assert.equal(warn.length, lines, `${preset}: ${warn.join('|')}`);
    if (lines > 0) assert.ok(warn.some((l) => l.endsWith('request_module fs-nofs succeeded, but still no fs?')));
    // one request per get_fs_type (one retry, no loop), none for the second since nothing changed
    assert.equal(w2.mp.exits.length, 3);
  }
});

test('resolve_symbol: a dependent waits for a COMING dependency (30 s limit)', () => {
  for (const [depInitS, expected, gaveUp] of [[1, 0, false], [40, -EBUSY, true]] as const) {
    const dep = makeModuleFile({ name: 'dep', behaviour: { initSleepNs: depInitS * S } });
    const user = makeModuleFile({ name: 'user', symbolDeps: ['dep'] });
    const w = world('v6.4', [dep, user]);
    finitAt(w, dep);
    const u = finitAt(w, user, 100 * MS);
    let doneAt = 0;
    w.sim.spawn('watch', (function* () {
      yield* (u as Process<number>).join();
      doneAt = w.sim.now;
    })());
    w.sim.run();
    assert.equal(u.result, expected);
    assert.equal(w.k.dmesg().some((l) => l.endsWith('user: gave up waiting for init of module dep.')), gaveUp);
    if (gaveUp) assert.ok(doneAt >= 30 * S && doneAt < 31 * S);
    const missing = finitAt(w, makeModuleFile({ name: 'orphan', symbolDeps: ['nothere'] }));
    w.sim.run();
    assert.equal(missing.result, -ENOENT);
  }
});

test('dmesg timestamps use the kernel format', () => {
  assert.equal(timestamp(0), '[    0.000000] ');
  assert.equal(timestamp(1_234_567_891_234), '[ 1234.567891] ');
  assert.equal(timestamp(123456 * S), '[123456.000000] ');
});
