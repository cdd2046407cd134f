/**
 * Property: after any random scenario — loads (finit_module, init_module, same file or a copy),
 * unloads, request_module (sync and nowait), get_fs_type, signals — over any preset quiesces,
 * every allocation is freed except the memory of LIVE modules, every module is LIVE or gone, and
 * no process is still waiting. fast-check prints the seed and path that replay a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EEXIST, ENODEV, MODULE_INIT_COMPRESSED_FILE, O_NONBLOCK, PRESETS, type KFile } from '../../src/kernel/index.js';
import { copyFile, makeModuleFile } from './testing/fixtures.js';
import type { Process, Signal } from '../../src/sim/index.js';
import { MS, proc, world } from './helpers.js';

type Op =
  | { op: 'finit' | 'init_module' | 'request' | 'nowait' | 'fs' | 'delete' | 'finit_compressed'; mod: number; copy: boolean; t: number }
  | { op: 'signal'; target: number; sig: Signal; t: number };

function files(): KFile[] {
  return [
    makeModuleFile({ name: 'ok1', size: 40_000, behaviour: { initSleepNs: 20 * MS, registersFs: ['okfs'] } }),
    makeModuleFile({ name: 'fail1', size: 30_000, behaviour: { initSleepNs: 10 * MS, initResult: -ENODEV } }),
    makeModuleFile({ name: 'dep', size: 20_000, behaviour: { initSleepNs: 30 * MS } }),
    makeModuleFile({ name: 'user', size: 25_000, symbolDeps: ['dep'], behaviour: { initCpuNs: 1 * MS } }),
    makeModuleFile({ name: 'acpi_cpufreq', size: 50_000, behaviour: { initSleepNs: 40 * MS, initResult: -EEXIST } }),
    makeModuleFile({ name: 'cz', size: 10_000, compression: 'xz', behaviour: { initSleepNs: 5 * MS, requests: ['fs-okfs'] } }),
  ];
}

const t = fc.integer({ min: 0, max: 300 }).map((ms) => ms * MS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('finit' as const, 'init_module' as const, 'request' as const, 'nowait' as const, 'fs' as const, 'delete' as const, 'finit_compressed' as const), mod: fc.nat(5), copy: fc.boolean(), t }),
  fc.record({ op: fc.constant('signal' as const), target: fc.nat(30), sig: fc.constantFrom<Signal>('SIGKILL', 'SIGINT'), t }),
);
const scenario = fc.record({
  preset: fc.constantFrom(...PRESETS.map((p) => p.name)),
  smallModuleArea: fc.boolean(),
  cpus: fc.integer({ min: 1, max: 8 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 30 }),
});

test('property: quiescent state after a random scenario', () => {
  fc.assert(
    fc.property(scenario, (sc) => {
      const fs = files();
      const copies = fs.map(copyFile);
      const w = world(sc.preset, fs, {
        cpus: sc.cpus,
        memory: sc.smallModuleArea ? { moduleAreaBytes: 256 * 1024 } : {},
        modprobe: { aliases: { 'fs-okfs': 'ok1' }, execNs: 1 * MS },
      });
      const procs: Process[] = [];
      sc.ops.forEach((o, i) => {
        if (o.op === 'signal') {
          w.sim.at(o.t, () => {
            const p = procs[o.target % Math.max(1, procs.length)];
            if (p !== undefined && !p.done) w.sim.signal(p, o.sig);
          });
          return;
        }
        const f = (o.copy ? copies : fs)[o.mod]!;
        const name = `op${i}`;
        switch (o.op) {
          case 'finit':
            procs.push(proc(w, name, o.t, (task) => w.k.finit_module(task, f, '', 0)));
            break;
          case 'finit_compressed':
            procs.push(proc(w, name, o.t, (task) => w.k.finit_module(task, f, '', MODULE_INIT_COMPRESSED_FILE)));
            break;
          case 'init_module':
            procs.push(proc(w, name, o.t, (task) => w.k.init_module(task, f, f.image.imageSize, '')));
            break;
          case 'request':
          case 'nowait':
            procs.push(proc(w, name, o.t, (task) => w.k.request_module(task, f.image.name, o.op === 'request')));
            break;
          case 'fs':
            procs.push(proc(w, name, o.t, function* (task) {
              const r = yield* w.k.get_fs_type(task, 'okfs');
              if (r !== null) w.k.put_filesystem(r);
              return r === null ? -1 : 0;
            }));
            break;
          case 'delete':
            procs.push(proc(w, name, o.t, (task) => w.k.delete_module(task, f.image.name, O_NONBLOCK)));
            break;
        }
      });
      w.sim.run();
      // no process left (nothing waits forever), no sleeper inside the kernel
      assert.deepEqual(w.sim.liveProcesses().map((p) => p.name), []);
      assert.deepEqual(w.k.sleepers(), { moduleWq: 0, kmodLimiter: 0 });
      // every module LIVE or gone
      for (const m of w.k.modules()) assert.equal(m.state, 'live', m.name);
      // every allocation freed except LIVE modules' core memory (+ percpu)
      const expected = new Set<number>();
      for (const m of w.k.modules()) {
        for (const a of m.coreAllocs) expected.add(a.id);
        if (m.percpu !== null) expected.add(m.percpu.id);
        assert.equal(m.initAllocs.length, 0);
      }
      assert.deepEqual([...w.k.memory.live.keys()].sort(), [...expected].sort());
      assert.equal(w.k.memory.vmalloc.used, 0);
      // module references: everything taken was put back (only dependents hold references)
      for (const m of w.k.modules()) assert.equal(m.refcnt, m.usedBy.size, m.name);
      assert.equal(w.k.idempotent?.inProgress ?? 0, 0);
    }),
    { numRuns: 300 },
  );
});
