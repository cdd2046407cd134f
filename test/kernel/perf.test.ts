/**
 * Speed: a 255-CPU coldplug storm (thousands of finit_module calls) simulates well under a second.
 * Measured in CPU time after one warm-up storm (the first run pays for JIT compilation); the
 * bound is loose because CI machines are shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENODEV, type KFile } from '../../src/kernel/index.js';
import { makeModuleFile } from './testing/fixtures.js';
import { finitAt, MS, world } from './helpers.js';

function storm(preset: string, modules: number): { cpuMs: number; calls: number; done: boolean; vmalloc: number } {
  const files: KFile[] = [];
  for (let i = 0; i < modules; i++) {
    files.push(makeModuleFile({ name: `mod${i}`, size: 100_000 + i * 5000, behaviour: { initCpuNs: 2 * MS, initSleepNs: 5 * MS, initResult: i % 5 === 0 ? -ENODEV : 0 } }));
  }
  const c0 = process.cpuUsage();
  const w = world(preset, files, { cpus: 255 });
  const rng = w.sim.rng.stream('storm');
  const ps = [];
  for (let cpu = 0; cpu < 255; cpu++) for (const f of files) ps.push(finitAt(w, f, rng.int(0, 2000) * 10_000));
  w.sim.run();
  const cu = process.cpuUsage(c0);
  return { cpuMs: (cu.user + cu.system) / 1000, calls: ps.length, done: ps.every((p) => p.done), vmalloc: w.k.memory.vmalloc.used };
}

test('255-CPU storm: 20 modules × 255 workers = 5100 finit calls per preset, well under a second', () => {
  storm('v6.2', 20); // warm-up
  for (const preset of ['v4.9', 'v6.1', 'v6.2', 'v6.4', 'v6.5', 'newest']) {
    const r = storm(preset, 20);
    assert.equal(r.calls, 5100);
    assert.ok(r.done);
    assert.equal(r.vmalloc, 0);
    assert.ok(r.cpuMs < 900, `${preset}: ${r.cpuMs.toFixed(0)} ms CPU`);
  }
});
