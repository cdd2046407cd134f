/**
 * The regression oracles of spec §9.4: one test per point where releases diverge, each run
 * against every preset, with the expected values as a table (preset → expected).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EBUSY, EEXIST, EINTR, ENODEV, ENOENT, ENOMEM, ERESTARTSYS, ETIME, ETXTBSY, moduleLayout, PAGE_SIZE, pageAlign, getPreset } from '../../src/kernel/index.js';
import type { Proc } from '../../src/sim/index.js';
import { copyFile, makeModuleFile } from './testing/fixtures.js';
import type { SectionSizes } from '../../src/kernel/api.js';
import { finitAt, initCount, MS, requestAt, S, tally, US, world } from './helpers.js';

const ALL = ['v4.9', 'v4.13', 'v5.3', 'v5.7', 'v6.1', 'v6.1-stable', 'v6.2', 'v6.4', 'v6.5', 'v6.11', 'newest', 'newest-dups',
  'whatif-kread-dedup', 'whatif-exclusive-deny', 'whatif-merge-same-name'] as const;
type PresetName = (typeof ALL)[number];

function table<T>(t: Record<PresetName, T>): Record<PresetName, T> {
  return t;
}

// ---- 1. 58/62 concurrent request_module -----------------------------------------------------
{
  const ok = (n: number) => ({ '0': n });
  // 'some 256': modprobes that lose the race get an immediate -EBUSY/-ETXTBSY and exit 1 (why
  // those proposals were rejected: concurrent loaders of one file must not fail)
  const some256 = 'some 256' as const;
  const expected = table<{ 58: Record<string, number> | typeof some256; 62: Record<string, number> | typeof some256 }>({
    'v4.9': { 58: { '0': 50, [-ENOMEM]: 8 }, 62: { '0': 50, [-ENOMEM]: 12 } },
    'v4.13': { 58: ok(58), 62: ok(62) }, 'v5.3': { 58: ok(58), 62: ok(62) }, 'v5.7': { 58: ok(58), 62: ok(62) },
    'v6.1': { 58: ok(58), 62: ok(62) }, 'v6.1-stable': { 58: ok(58), 62: ok(62) }, 'v6.2': { 58: ok(58), 62: ok(62) },
    'v6.4': { 58: ok(58), 62: ok(62) }, 'v6.5': { 58: ok(58), 62: ok(62) }, 'v6.11': { 58: ok(58), 62: ok(62) },
    newest: { 58: ok(58), 62: ok(62) }, 'newest-dups': { 58: ok(58), 62: ok(62) },
    'whatif-kread-dedup': { 58: some256, 62: some256 }, 'whatif-exclusive-deny': { 58: some256, 62: some256 },
    'whatif-merge-same-name': { 58: ok(58), 62: ok(62) },
  });
  for (const preset of ALL) {
    test(`§9.4-1 58/62 concurrent request_module: ${preset}`, () => {
      for (const n of [58, 62] as const) {
        const w = world(preset, [makeModuleFile({ name: 'test_module' })]);
        const ps = Array.from({ length: n }, (_, i) => requestAt(w, 'test_module', 0, `test_kmod-${i}`));
        w.sim.run();
        const e = expected[preset][n];
        const got = tally(ps.map((p) => p.result));
        if (e === some256) assert.ok((got['256'] ?? 0) > 0 && (got['256'] ?? 0) + (got['0'] ?? 0) === n, JSON.stringify(got));
        else assert.deepEqual(got, e, `${preset} ×${n}`);
        if (preset === 'v4.9') assert.equal(w.k.dmesg().filter((l) => l.includes('request_module: runaway loop modprobe test_module')).length, 5);
      }
    });
  }
}

// ---- 2. 51+ requests stuck > 5 s ------------------------------------------------------------
{
  type Row = { stuck: number; stuckAtMs: number; killed: number; killedAtMs: number; throttleMsg: boolean };
  const wakeAll: Row = { stuck: -ETIME, stuckAtMs: 5001, killed: -ERESTARTSYS, killedAtMs: 1000, throttleMsg: true };
  const fifo: Row = { stuck: -ETIME, stuckAtMs: 5001, killed: -ETIME, killedAtMs: 5001, throttleMsg: false };
  const v49: Row = { stuck: -ENOMEM, stuckAtMs: 1, killed: -ENOMEM, killedAtMs: 1, throttleMsg: false };
  const expected = table<Row>({
    'v4.9': v49, 'v4.13': wakeAll, 'v5.3': wakeAll, 'v5.7': wakeAll, 'v6.1': wakeAll, 'v6.1-stable': wakeAll, 'v6.2': wakeAll,
    'v6.4': fifo, 'v6.5': fifo, 'v6.11': fifo, newest: fifo, 'newest-dups': fifo,
    'whatif-kread-dedup': fifo, 'whatif-exclusive-deny': fifo, 'whatif-merge-same-name': wakeAll,
  });
  for (const preset of ALL) {
    test(`§9.4-2 51+ requests stuck > 5 s (killable wake-all vs FIFO uninterruptible): ${preset}`, () => {
      // modprobe takes 10 s: 50 requests hold every slot
      const w = world(preset, [makeModuleFile({ name: 'slow' })], { modprobe: { execNs: 10 * S } });
      for (let i = 0; i < 50; i++) requestAt(w, 'slow', 0, `holder-${i}`);
      const done: Record<string, number> = {};
      const stuck = requestAt(w, 'slow', 1 * MS, 'stuck');
      const killed = requestAt(w, 'slow', 1 * MS, 'killed');
      w.sim.signal(killed, 'SIGKILL', 1 * S);
      w.sim.spawn('watch', (function* (): Proc<void> {
        yield* stuck.join();
        done.stuck = w.sim.now;
      })());
      w.sim.spawn('watch2', (function* (): Proc<void> {
        yield* killed.join();
        done.killed = w.sim.now;
      })());
      w.sim.run();
      const e = expected[preset];
      assert.equal(stuck.result, e.stuck);
      assert.equal(killed.result, e.killed);
      assert.equal(Math.round(done.stuck! / MS), e.stuckAtMs);
      assert.equal(Math.round(done.killed! / MS), e.killedAtMs);
      assert.equal(w.k.dmesg().some((l) => l.includes('throttling...')), e.throttleMsg);
      if (e.stuck === -ETIME) assert.ok(w.k.dmesg().some((l) => l.includes('request_module: modprobe slow cannot be processed, kmod busy with 50 threads for more than 5 seconds now')));
    });
  }
}

// ---- 3. empty modprobe path ----------------------------------------------------------------
{
  const zero = { empty: 0, nonexistent: -ENOENT };
  const enoent = { empty: -ENOENT, nonexistent: -ENOENT };
  const expected = table({
    'v4.9': zero, 'v4.13': zero, 'v5.3': zero, 'v5.7': enoent, 'v6.1': enoent, 'v6.1-stable': enoent, 'v6.2': enoent,
    'v6.4': enoent, 'v6.5': enoent, 'v6.11': enoent, newest: enoent, 'newest-dups': enoent,
    'whatif-kread-dedup': enoent, 'whatif-exclusive-deny': enoent, 'whatif-merge-same-name': enoent,
  });
  for (const preset of ALL) {
    test(`§9.4-3 empty / nonexistent modprobe path: ${preset}`, () => {
      const w = world(preset, [makeModuleFile({ name: 'test_module' })]);
      w.k.modprobePath = '';
      const a = requestAt(w, 'test_module');
      w.sim.run();
      w.k.modprobePath = '/KMOD_TEST_NONEXISTENT';
      const b = requestAt(w, 'test_module');
      w.sim.run();
      assert.deepEqual({ empty: a.result, nonexistent: b.result }, expected[preset]);
      assert.equal(w.k.moduleState('test_module'), null);
    });
  }
}

// ---- 4. N parallel finit of one file, init succeeds ------------------------------------------
{
  const classic = { '0': 1, [-EEXIST]: 3 };
  const idem = { '0': 4 };
  const expected = table<Record<string, number>>({
    'v4.9': classic, 'v4.13': classic, 'v5.3': classic, 'v5.7': classic, 'v6.1': classic, 'v6.1-stable': classic, 'v6.2': classic, 'v6.4': classic,
    'v6.5': idem, 'v6.11': idem, newest: idem, 'newest-dups': idem,
    'whatif-kread-dedup': { '0': 1, [-EBUSY]: 3 }, 'whatif-exclusive-deny': { '0': 1, [-ETXTBSY]: 3 }, 'whatif-merge-same-name': classic,
  });
  for (const preset of ALL) {
    test(`§9.4-4 4 parallel finit_module of one file, init succeeds: ${preset}`, () => {
      const f = makeModuleFile({ name: 'm', behaviour: { initSleepNs: 100 * MS } });
      const w = world(preset, [f], { log: true });
      const ps = [0, 1, 2, 3].map((i) => finitAt(w, f, i * MS));
      w.sim.run();
      assert.deepEqual(tally(ps.map((p) => p.result)), expected[preset]);
      assert.equal(initCount(w, 'm'), 1);
      assert.equal(w.k.moduleState('m'), 'live');
    });
  }
}

// ---- 5. N parallel finit of one file, init fails with E -------------------------------------
{
  type Row = { results: Record<string, number>; inits: number; serialized: boolean };
  const serial: Row = { results: { [-ENODEV]: 4 }, inits: 4, serialized: true };
  const noRetry: Row = { results: { [-ENODEV]: 1, [-EBUSY]: 3 }, inits: 1, serialized: false };
  const idem: Row = { results: { [-ENODEV]: 4 }, inits: 1, serialized: false };
  const expected = table<Row>({
    'v4.9': serial, 'v4.13': serial, 'v5.3': serial, 'v5.7': serial, 'v6.1': serial,
    'v6.1-stable': noRetry, 'v6.2': noRetry, 'v6.4': noRetry,
    'v6.5': idem, 'v6.11': idem, newest: idem, 'newest-dups': idem,
    'whatif-kread-dedup': noRetry, 'whatif-exclusive-deny': { results: { [-ENODEV]: 1, [-ETXTBSY]: 3 }, inits: 1, serialized: false },
    'whatif-merge-same-name': noRetry,
  });
  for (const preset of ALL) {
    test(`§9.4-5 4 parallel finit_module of one file, init fails with -ENODEV: ${preset}`, () => {
      const f = makeModuleFile({ name: 'pcc_cpufreq', behaviour: { initSleepNs: 100 * MS, initResult: -ENODEV } });
      const w = world(preset, [f], { log: true });
      const ps = [0, 1, 2, 3].map((i) => finitAt(w, f, i * MS));
      w.sim.run();
      const e = expected[preset];
      assert.deepEqual(tally(ps.map((p) => p.result)), e.results);
      assert.equal(initCount(w, 'pcc_cpufreq'), e.inits);
      // serialized attempts: the last one ends after ≥ 4 × 100 ms
      assert.equal(w.sim.now >= 400 * MS, e.serialized);
      assert.equal(w.k.moduleState('pcc_cpufreq'), null);
    });
  }

  // the v4.9 "-EEXIST from a GOING module" case: a load arriving while the failed one is GOING
  const going = table<number>({
    'v4.9': -EEXIST, 'v4.13': -EEXIST, 'v5.3': -ENODEV, 'v5.7': -ENODEV, 'v6.1': -ENODEV,
    'v6.1-stable': -EBUSY, 'v6.2': -EBUSY, 'v6.4': -EBUSY, 'v6.5': -EBUSY, 'v6.11': -EBUSY, newest: -EBUSY, 'newest-dups': -EBUSY,
    'whatif-kread-dedup': -EBUSY, 'whatif-exclusive-deny': -EBUSY, 'whatif-merge-same-name': -EBUSY,
  });
  for (const preset of ALL) {
    test(`§9.4-5 a load arriving while the failed module is GOING: ${preset}`, () => {
      let first = true;
      const holder: { late?: ReturnType<typeof finitAt> } = {};
      const f = makeModuleFile({
        name: 'acpi_cpufreq',
        behaviour: {
          init: function* (): Proc<number> {
            yield w.sim.delay(100 * MS);
            if (first) {
              first = false;
              // another copy of the file (another inode), arriving 1 µs later: in the RCU grace period
              holder.late = finitAt(w, copyFile(f), 1 * US, 'late');
            }
            return -ENODEV;
          },
        },
      });
      const w = world(preset, [f]);
      const a = finitAt(w, f);
      w.sim.run();
      assert.equal(a.result, -ENODEV);
      assert.equal(holder.late?.result, going[preset]);
    });
  }
}

// ---- 6. memory held by duplicates while waiting ----------------------------------------------
{
  const sections: SectionSizes = { text: 30000, data: 6000, rodata: 9000, roAfterInit: 0, initText: 2000, initData: 500, initRodata: 0, symtab: 12000, percpu: 0 };
  const F = 100_000;
  type Row = { dupCopies: number; dupModuleMem: number };
  const pre64: Row = { dupCopies: 3, dupModuleMem: 3 };
  const expected = table<Row>({
    'v4.9': pre64, 'v4.13': pre64, 'v5.3': pre64, 'v5.7': pre64, 'v6.1': pre64, 'v6.1-stable': pre64, 'v6.2': pre64,
    'v6.4': { dupCopies: 3, dupModuleMem: 0 },
    'v6.5': { dupCopies: 0, dupModuleMem: 0 }, 'v6.11': { dupCopies: 0, dupModuleMem: 0 }, newest: { dupCopies: 0, dupModuleMem: 0 }, 'newest-dups': { dupCopies: 0, dupModuleMem: 0 },
    'whatif-kread-dedup': { dupCopies: 0, dupModuleMem: 0 }, 'whatif-exclusive-deny': { dupCopies: 0, dupModuleMem: 0 },
    'whatif-merge-same-name': { dupCopies: 3, dupModuleMem: 0 },
  });
  for (const preset of ALL) {
    test(`§9.4-6 memory held by 3 waiting duplicates: ${preset}`, () => {
      const f = makeModuleFile({ name: 'kvm_intel', size: F, sections, behaviour: { initSleepNs: 1 * S } });
      const w = world(preset, [f]);
      [0, 1, 2, 3].map((i) => finitAt(w, f, i * MS));
      w.sim.run(500 * MS);
      const layout = moduleLayout(sections, getPreset(preset).flags.moduleMemoryTypes);
      const M = layout.regions.reduce((a, r) => a + r.size + PAGE_SIZE, 0);
      const copy = pageAlign(F) + PAGE_SIZE;
      const e = expected[preset];
      assert.equal(w.k.memory.vmalloc.used, e.dupCopies * copy, 'vmalloc');
      assert.equal(w.k.memory.module.used, (1 + e.dupModuleMem) * M, 'module area');
      w.sim.run();
      // afterwards only the LIVE module's core memory remains
      const core = layout.regions.filter((r) => !r.init).reduce((a, r) => a + r.size + PAGE_SIZE, 0);
      assert.equal(w.k.memory.vmalloc.used, 0);
      assert.equal(w.k.memory.module.used, core);
    });
  }
}

// ---- 7. stats: BECOMING vs LOAD ----------------------------------------------------------------
{
  const len = 65536;
  type Row = { becoming: number; becomingBytes: number; load: number; modBytes: number; reason: string | null };
  const none: Row = { becoming: 0, becomingBytes: 0, load: 0, modBytes: 0, reason: null };
  const load: Row = { becoming: 0, becomingBytes: 0, load: 3, modBytes: 3 * 2 * len, reason: 'Load' };
  const becoming: Row = { becoming: 3, becomingBytes: 3 * len, load: 0, modBytes: 0, reason: 'Becoming' };
  const staggered = table<Row>({
    'v4.9': load, 'v4.13': load, 'v5.3': load, 'v5.7': load, 'v6.1': load, 'v6.1-stable': load, 'v6.2': load,
    'v6.4': becoming, 'v6.5': none, 'v6.11': none, newest: none, 'newest-dups': none,
    'whatif-kread-dedup': none, 'whatif-exclusive-deny': none, 'whatif-merge-same-name': becoming,
  });
  const stats = (preset: string, stagger: number) => {
    const f = makeModuleFile({ name: 'kvm', size: len, behaviour: { initSleepNs: 100 * MS } });
    const w = world(preset, [f]);
    [0, 1, 2, 3].map((i) => finitAt(w, f, i * stagger));
    w.sim.run();
    const s = w.k.stats;
    const d = s.duplicates();
    return { becoming: s.failed_becoming, becomingBytes: s.invalid_becoming_bytes, load: s.failed_load_modules, modBytes: s.invalid_mod_bytes, reason: d.length === 0 ? null : `${d[0]!.reason}` };
  };
  for (const preset of ALL) {
    test(`§9.4-7 stats counters and duplicate reason, arrivals 1 ms apart: ${preset}`, () => {
      assert.deepEqual(stats(preset, 1 * MS), staggered[preset]);
    });
  }
  test('§9.4-7 stats: simultaneous arrivals pass the v6.4 early check together and fail at LOAD', () => {
    assert.deepEqual(stats('v6.4', 0), load);
    assert.deepEqual(stats('v6.2', 0), load);
    assert.deepEqual(stats('v6.5', 0), none);
  });
}

// ---- 8. recursive self-load ------------------------------------------------------------------
{
  type Row = { nested: number | 'hang'; outer: number | 'hang' };
  const interrupted: Row = { nested: -EINTR, outer: 0 };
  const expected = table<Row>({
    'v4.9': interrupted, 'v4.13': interrupted, 'v5.3': interrupted, 'v5.7': interrupted, 'v6.1': interrupted, 'v6.1-stable': interrupted,
    'v6.2': interrupted, 'v6.4': interrupted,
    'v6.5': { nested: 'hang', outer: 'hang' }, 'v6.11': interrupted, newest: interrupted, 'newest-dups': interrupted,
    'whatif-kread-dedup': { nested: -EBUSY, outer: 0 }, 'whatif-exclusive-deny': { nested: -ETXTBSY, outer: 0 }, 'whatif-merge-same-name': interrupted,
  });
  for (const preset of ALL) {
    test(`§9.4-8 recursive self-load (init requests its own module), SIGINT to the nested loader at 10 s: ${preset}`, () => {
      const f = makeModuleFile({
        name: 'aes_neonbs',
        behaviour: {
          init: function* (ctx): Proc<number> {
            const r = yield* ctx.kernel.request_module(ctx.task, 'aes_neonbs', true);
            nestedReq.push(r);
            return 0;
          },
        },
      });
      const nestedReq: number[] = [];
      const w = world(preset, [f], { log: true });
      const outer = finitAt(w, f, 0, 'outer');
      w.sim.at(10 * S, () => {
        const nested = w.sim.liveProcesses().find((p) => p.name.startsWith('modprobe-'));
        if (nested !== undefined) w.sim.signal(nested, 'SIGINT');
      });
      w.sim.run(3600 * S);
      const e = expected[preset];
      const exits = w.mp.exits.map((x) => x.code);
      if (e.nested === 'hang') {
        assert.equal(outer.done, false, 'outer still loading');
        assert.deepEqual(exits, []);
        assert.equal(w.k.moduleState('aes_neonbs'), 'coming');
      } else {
        assert.equal(outer.result, e.outer);
        // the nested modprobe failed (exit 1) → request_module saw 256
        assert.deepEqual(exits, [1]);
        assert.deepEqual(nestedReq, [256]);
        const nestedFinit = w.sim.log.records.filter((r) => r.kind === 'finit' && r.fields.phase === 'exit' && r.proc.startsWith('modprobe-'));
        assert.deepEqual(nestedFinit.map((r) => r.fields.ret), [e.nested]);
      }
    });
  }
}
