#!/usr/bin/env node
// The simulator's side of first-load-phases.py: one simulated coldplug (as `kmodlab trace` runs it)
// with its event log, plus every CPU burst (CpuPool.compute: CPU ns asked, when asked, when done) and every
// mutex hold (Mutex.lock: asked, got, released) of the run, by pid. The wrappers only read the
// clock; the run is the same run (its finit count is printed to check). Needs a build (dist/).
// usage: node scripts/coldplug/sim-phases.mjs PROFILE.json CPUS SEED [KERNEL] > out.json
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { CpuPool, Mutex } = await import(join(root, 'dist/src/sim/index.js'));
const { runStorm } = await import(join(root, 'dist/src/experiments/storm.js'));

const [machine, cpus, seed, kernel = 'v6.1-stable'] = process.argv.slice(2);
const bursts = []; // [pid, askedNs, enterT, endT, holdsLock]
const holds = []; // [pid, lockName, askT, gotT, releaseT]
const openHold = new Map();

const compute = CpuPool.prototype.compute;
CpuPool.prototype.compute = function* (ns) {
  const sim = this.sim;
  const me = sim.current;
  const t0 = sim.now;
  yield* compute.call(this, ns);
  bursts.push([me.pid, Math.round(ns), t0, sim.now, openHold.has(me.pid) ? 1 : 0]);
};
const lock = Mutex.prototype.lock;
Mutex.prototype.lock = function* (mode) {
  const me = this.sim.current;
  const t0 = this.sim.now;
  const r = yield* lock.call(this, mode);
  if (this.name === 'vmap_purge_lock') openHold.set(me.pid, [me.pid, this.name, t0, this.sim.now]);
  return r;
};
const unlock = Mutex.prototype.unlock;
Mutex.prototype.unlock = function () {
  const me = this.sim.current;
  const h = me !== null ? openHold.get(me.pid) : undefined;
  if (h !== undefined && this.name === 'vmap_purge_lock') {
    openHold.delete(me.pid);
    holds.push([...h, this.sim.now]);
  }
  return unlock.call(this);
};

const point = { machine, cpus: Number(cpus), kernel, seed: Number(seed) };
const run = await runStorm(point, { log: true });
const keep = new Set(['finit', 'alloc', 'free', 'kernel_read_file', 'decompress', 'state', 'init', 'same_name', 'wait']);
const records = run.system.sim.log.records.filter((r) => keep.has(r.kind)).map((r) => [r.t, r.pid, r.kind, r.fields]);
process.stderr.write(`sim-phases: ${records.filter((r) => r[2] === 'finit' && r[3].phase === 'enter').length} finit calls, ${bursts.length} bursts, ${holds.length} vmap_purge_lock holds\n`);
process.stdout.write(JSON.stringify({ point, records, bursts, holds }));
