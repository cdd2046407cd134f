import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasMatches, lookupAlias } from '../../src/userspace/depmod/alias.js';
import { normaliseName } from '../../src/userspace/depmod/names.js';
import { loadSnapshot } from '../../src/userspace/depmod/snapshot.js';
import { KmodCtx, KmodIndex } from '../../src/userspace/libkmod.js';
import type { Proc } from '../../src/sim/index.js';
import { bench, smallSet } from '../system/fixtures.js';

const CPU_ALIAS = 'cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0001,0085,0094,00E8';

function ctxOf(o: Parameters<typeof bench>[0] = {}, config = {}) {
  const b = bench(o);
  return { b, ctx: new KmodCtx(b.index, b.host, { kmodVersion: o.kmodVersion ?? 30, config }) };
}

const names = (l: { name: string }[]) => l.map((m) => m.name);

test('names are normalised outside brackets; modules.dep names win', () => {
  const { ctx } = ctxOf();
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('foo-bar')), ['foo_bar']);
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('xfs')), ['xfs']);
  // "bra[c-e]ket-[xy]": the '-' inside brackets is a range, the one outside became '_'
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('bradket-y')), ['brk']);
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('brafket-y')), []);
});

test('lookup order: config alias, modules.dep, symbols, install, modules.alias, builtin', () => {
  const set = smallSet();
  const b = bench({ set });
  const index = new KmodIndex(set, { symbols: new Map([['symbol:crc32c', 'libcrc32c']]), builtinAliases: [{ pattern: 'fs-ext4', module: 'ext4' }] });
  const cfg = {
    aliases: [{ pattern: 'xfs', module: 'crc32c_generic' }],
    install: new Map([['nope_install', { command: '/bin/true', exitCode: 0 }]]),
  };
  const ctx = new KmodCtx(index, b.host, { kmodVersion: 30, config: cfg });
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('xfs')), ['crc32c_generic'], 'config alias first');
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('symbol:crc32c')), ['libcrc32c']);
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('nope-install')), ['nope_install']);
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('crc32c')), ['crc32c_intel', 'crc32c_generic'], 'alias matches in file order');
  const ext4 = ctx.kmod_module_new_from_lookup('ext4');
  assert.deepEqual(names(ext4), ['ext4']);
  assert.equal(ext4[0]!.builtin, true);
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('fs-ext4')), ['ext4'], 'built-in modinfo aliases last');
  assert.deepEqual(ctx.kmod_module_new_from_lookup('nope-test_module'), []);
  assert.deepEqual(ctx.kmod_module_new_from_lookup(''), []);
});

test('alias globs: cpu and acpi modaliases; a repeated line is a repeated entry, as libkmod returns it', () => {
  const { ctx } = ctxOf();
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup(CPU_ALIAS)), ['crc32c_intel', 'kvm_intel', 'acpi_cpufreq']);
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('acpi:ACPI0007:')), ['acpi_cpufreq', 'pcc_cpufreq']);
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00')), ['e1000e', 'e1000e']);
  assert.deepEqual(names(ctx.kmod_module_new_from_lookup('pci:v00008086d000010D4sv00008086sd0000A01Fbc02sc00i00')), []);
});

test('the prefix-bucketed index agrees with a plain scan of the Debian 6.1 aliases', () => {
  const set = loadSnapshot('debian-6.1');
  const index = new KmodIndex(set);
  const probes = [
    'cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0001,0002,0003,0004,0005,0006,0007,0008,0009,000B,000C,000D,000E,000F,0010,0011,0013,0017,0018,0019,001A,001B,0034,003B,003D,0068,006F,0070,0072,0074,0075,0076,0078,0079,0080,0081,0083,0085,0089,008C,008D,0091,0093,0094,0095,0096,0097,0098,0099,009A,009B,009C,009D,009F,00C0,00C5,00E1,00E3,00E4,00E6,00E7,00EB,00EC,00F0,00F1,00F3,00F5,00F6,00F9,00FA,00FB,00FD,00FF,0120,0121,0123,0125,0126,0127,0128,0129,012A,012D,0130,0131,0132,0133,0134,0137,0140,0141,0142,0143,0164,0165,01C2,0204,0205,0206,0207,0208,0209,020A,020B,020E,020F,0210,0211,0212,0213,0214,0215,0216,0217,0218',
    'acpi:ACPI0007:',
    'acpi:LNXCPU:',
    'pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00',
    'virtio:d00000001v00001AF4',
    'fs-xfs',
    'fs-btrfs',
    'crypto-crc32c',
    'platform:pcspkr',
    'nope-test_module',
    'dmi:bvnSeaBIOS:bvr1.16:bd04/01/2014:svnQEMU:pnStandardPC(Q35+ICH9,2009):pvrpc-q35-8.2:cvnQEMU:ct1:cvrpc-q35-8.2:',
  ];
  for (const p of probes) {
    const got = index.alias(p.replace(/-/g, '_'));
    assert.deepEqual([...new Set(got)], lookupAlias(set, p), p);
    // one entry per matching line (libkmod keeps repeats), a module's entries together
    const lines = set.aliases.filter((a) => aliasMatches(normaliseName(a.pattern), normaliseName(p))).map((a) => a.module);
    assert.deepEqual([...got].sort(), lines.sort(), p);
    assert.deepEqual(got.filter((m, i) => i === 0 || got[i - 1] !== m), [...new Set(got)], `${p}: a module's entries are adjacent`);
  }
  // the cached answer is the same object (no per-call re-matching)
  assert.equal(index.alias('fs_xfs'), index.alias('fs_xfs'));
  assert.deepEqual([...index.alias('fs_xfs')], ['xfs']);
  assert.deepEqual(index.filesystemsOf('xfs'), ['xfs']);
  assert.deepEqual(index.filesystemsOf('btrfs'), ['btrfs']);
});

test('probe list: dependencies first, softdeps around their module, failures of softdeps flagged', () => {
  const { ctx } = ctxOf();
  const l = (n: string) => ctx.probeList(ctx.kmod_module_new_from_name(n), false).map((e) => `${e.m.name}${e.soft ? '(soft)' : ''}`);
  assert.deepEqual(l('kvm_intel'), ['irqbypass', 'kvm', 'kvm_intel']);
  assert.deepEqual(l('xfs'), ['crc32c_intel(soft)', 'crc32c_generic(soft)', 'libcrc32c', 'xfs']);
  assert.deepEqual(l('with_post'), ['with_post', 'post_mod(soft)']);
});

function* state(ctx: KmodCtx, n: string): Proc<string | number> {
  return yield* ctx.kmod_module_get_initstate(ctx.kmod_module_new_from_name(n));
}

function runIn<T>(b: ReturnType<typeof bench>, g: Proc<T>): T {
  const p = b.sim.spawn('t', g);
  b.sim.run();
  assert.ok(p.done);
  return p.result as T;
}

test('initstate: builtin, live, coming, and a directory without initstate (kmod ≥ 20 vs ≤ 19)', () => {
  for (const [ver, noInitstate] of [[30, 'coming'], [19, 'builtin']] as const) {
    const { b, ctx } = ctxOf({ kmodVersion: ver });
    b.kernel.forceLive('kvm');
    b.kernel.forceComing('xfs');
    b.kernel.forceComing('libcrc32c', false);
    assert.equal(runIn(b, state(ctx, 'ext4')), 'builtin');
    assert.equal(runIn(b, state(ctx, 'kvm')), 'live');
    assert.equal(runIn(b, state(ctx, 'xfs')), 'coming');
    assert.equal(runIn(b, state(ctx, 'libcrc32c')), noInitstate);
    assert.equal(runIn(b, state(ctx, 'irqbypass')), -2);
  }
});

test('initstate reads cost CPU time on the machine', () => {
  const { b, ctx } = ctxOf();
  runIn(b, state(ctx, 'kvm'));
  assert.equal(b.sim.now, 20_000);
});

test('probe_insert: COMING is loaded again, LIVE is skipped', () => {
  const { b, ctx } = ctxOf();
  b.kernel.forceLive('irqbypass');
  b.kernel.forceLive('kvm');
  const task = () => ({ proc: b.sim.current!, comm: 't', capSysModule: true, capSyslog: true });
  const r = runIn(b, (function* () {
    return yield* ctx.kmod_module_probe_insert_module(task(), ctx.kmod_module_new_from_name('kvm_intel'));
  })());
  assert.equal(r.err, 0);
  assert.deepEqual(b.kernel.calls.map((c) => c.module), ['kvm_intel']);
  // a COMING module: the kernel is asked again (and sorts it out: EEXIST once it is LIVE)
  b.kernel.forceComing('foo_bar');
  b.sim.at(b.sim.now + 5_000_000, () => b.kernel.finishComing('foo_bar'));
  const r2 = runIn(b, (function* () {
    return yield* ctx.kmod_module_probe_insert_module(task(), ctx.kmod_module_new_from_name('foo_bar'));
  })());
  assert.equal(r2.err, 0);
  assert.deepEqual(b.kernel.calls.map((c) => `${c.module}:${c.result}`), ['kvm_intel:0', 'foo_bar:-17']);
});
