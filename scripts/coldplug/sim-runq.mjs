#!/usr/bin/env node
// Who is runnable on the simulator's CPU pool over a coldplug (the model's side of runq.py): every
// CPU burst (CpuPool.compute) with its process, the code that asked for it (the caller's function,
// from the stack: the phase), when asked and when done. A process inside compute() is runnable
// (queued or on a CPU); the wrapper only reads the clock and the stack, so the run is the same run.
// Prints the runnable count's time-weighted distribution, by who and by phase, and the queue seen
// at each burst's start. Needs a build (dist/).
// FROM_TRIGGER=1 starts the window at udevadm trigger's first burst (runq.py --from-trigger).
// usage: [FROM_TRIGGER=1] node scripts/coldplug/sim-runq.mjs PROFILE.json CPUS SEED [KERNEL] [OUT.json]
import process from 'node:process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { CpuPool } = await import(join(root, 'dist/src/sim/index.js'));
const { runStorm } = await import(join(root, 'dist/src/experiments/storm.js'));

const [machine, cpus, seed, kernel = 'v6.1-stable', out] = process.argv.slice(2);
const say = (s) => process.stdout.write(`${s}\n`);
const bursts = []; // [pid, procName, phase, askedNs, enterT, endT]
function caller() {
  const s = new Error().stack.split('\n');
  // 0 "Error", 1 caller(), 2 the wrapper, 3.. the code that asked (skip helpers in sim/ and libkmod's cost)
  for (let i = 3; i < s.length; i++) {
    const l = s[i];
    if (l.includes('/sim/') || l.includes('node:')) continue;
    const m = /at (?:\S+\.)?(\S+) \(.*\/dist\/src\/(.*):(\d+):\d+\)/.exec(l);
    if (m) return `${m[2].replace(/\.js$/, '')}:${m[1]}`;
  }
  return '?';
}
const compute = CpuPool.prototype.compute;
CpuPool.prototype.compute = function* (ns) {
  const sim = this.sim;
  const me = sim.current;
  const t0 = sim.now;
  const ph = caller();
  // back to back: the same process's previous burst ended at this instant (no sleep between)
  entry.set(me.pid, [t0, lastEnd.get(me.pid) === t0 ? 'back-to-back' : 'wake', false]);
  yield* compute.call(this, ns);
  lastEnd.set(me.pid, sim.now);
  bursts.push([me.pid, me.name, ph, Math.round(ns), t0, sim.now]);
};

// each wait for a CPU (a burst's start, or a preempted burst queueing again) -> handed one: the
// guest's wake/preempt -> switch-in; and the queue it joined
const waits = []; // [t, wait ns, queued ahead, proc name]
const since = new Map();
const entry = new Map(), lastEnd = new Map(); // pid -> [burst's start, kind, first queueing seen]
const enqueue = CpuPool.prototype.enqueue;
CpuPool.prototype.enqueue = function (w) {
  const e = entry.get(w.proc.pid);
  let why = 'preempt';
  if (e && e[0] === this.sim.now && !e[2]) { why = e[1]; e[2] = true; }
  since.set(w, [this.sim.now, this.queued, why]);
  return enqueue.call(this, w);
};
const shift = CpuPool.prototype.shift;
CpuPool.prototype.shift = function () {
  const w = shift.call(this);
  const s = since.get(w);
  if (s) { since.delete(w); waits.push([s[0], this.sim.now - s[0], s[1], w.proc.name, s[2]]); }
  return w;
};

const point = { machine, cpus: Number(cpus), kernel, seed: Number(seed) };
const run = await runStorm(point, { log: true });
const recs = run.system.sim.log.records;
const finit = recs.filter((r) => r.kind === 'finit' && r.fields.phase === 'enter').length;
process.stderr.write(`sim-runq: ${finit} finit calls, ${bursts.length} bursts\n`);
if (out) writeFileSync(out, JSON.stringify({ point, bursts }));

// who: udev worker / udevd / modprobe / kthread, by process name
const who = (name) => name.replace(/[-_:/ ]?\d+$/, '').replace(/\[.*\]/, '');
// the window runq.py uses on the guest: first finit enter -> last finit exit
const fin = recs.filter((r) => r.kind === 'finit');
const trig = bursts.filter((b) => b[1].includes('trigger'));
say(`udevadm trigger: ${trig.length} bursts, ${((trig[0][4] - fin[0].t) / 1e6).toFixed(0)} .. ${((trig.at(-1)[5] - fin[0].t) / 1e6).toFixed(0)} ms from the first finit`);
const W0 = process.env.FROM_TRIGGER ? trig[0][4] : fin[0].t, W1 = fin[fin.length - 1].t;
const ev = [];
for (const b of bursts) {
  const a = Math.max(b[4], W0), e = Math.min(b[5], W1);
  if (e > a) { ev.push([a, 1, b]); ev.push([e, -1, b]); }
}
const BINS = 10, bin = new Array(BINS).fill(0);
ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
const hist = new Map(); // runnable count -> ns
const whoNs = new Map(); const phaseNs = new Map(); // ns runnable, by who / phase, while count > CPUs
let n = 0, last = W0, t0 = W0, tEnd = W1;
const live = new Set();
const N = Number(cpus);
for (const [t, d, b] of ev) {
  const dt = t - last;
  if (dt > 0) {
    hist.set(n, (hist.get(n) ?? 0) + dt);
    for (let i = 0; i < BINS; i++) {
      const b0 = W0 + (i * (W1 - W0)) / BINS, b1 = W0 + ((i + 1) * (W1 - W0)) / BINS;
      const o = Math.min(t, b1) - Math.max(last, b0);
      if (o > 0) bin[i] += (n * o) / (b1 - b0);
    }
    if (n > N) for (const x of live) {
      whoNs.set(who(x[1]), (whoNs.get(who(x[1])) ?? 0) + dt);
      phaseNs.set(x[2], (phaseNs.get(x[2]) ?? 0) + dt);
    }
  }
  last = t;
  if (d > 0) live.add(b); else live.delete(b);
  n += d;
}
const span = tEnd - t0;
say(`${process.env.FROM_TRIGGER ? 'first trigger burst' : 'first finit enter'} -> last finit exit: ${(span / 1e6).toFixed(0)} ms, ${N} CPUs`);
say(`mean runnable per tenth of it: ${bin.map((x) => x.toFixed(1)).join(' ')}`);
say('runnable  share-of-time');
let mean = 0, cum = 0; const ks = [...hist.keys()].sort((a, b) => a - b);
for (const k of ks) { mean += k * hist.get(k) / span; }
let med = null;
for (const k of ks) { cum += hist.get(k); if (med === null && cum >= span / 2) med = k; say(`${String(k).padStart(8)}  ${(100 * hist.get(k) / span).toFixed(1)} %`); }
say(`mean runnable ${mean.toFixed(2)}, median ${med}; queued (runnable beyond ${N}) mean ${ks.reduce((s, k) => s + Math.max(0, k - N) * hist.get(k) / span, 0).toFixed(2)}`);
const q = (a, f) => a[Math.min(a.length - 1, Math.floor(a.length * f))];
const ww = waits.filter((w) => w[0] >= W0 && w[0] <= W1);
const wt = ww.map((w) => w[1]).sort((a, b) => a - b), ahead = ww.map((w) => w[2]).sort((a, b) => a - b);
say(`waits for a CPU in the window: n ${ww.length}, median ${(q(wt, 0.5) / 1e6).toFixed(2)} ms, p90 ${(q(wt, 0.9) / 1e6).toFixed(2)} ms, mean ${(wt.reduce((s, x) => s + x, 0) / wt.length / 1e6).toFixed(2)} ms; queued ahead at joining: median ${q(ahead, 0.5)}, p90 ${q(ahead, 0.9)}`);
const byName = new Map();
for (const w of ww) { const k = `${who(w[3])} after ${w[4]}`; const e = byName.get(k) ?? []; e.push(w[1]); byName.set(k, e); }
for (const [k, a] of [...byName].sort((x, y) => y[1].length - x[1].length)) { a.sort((x, y) => x - y); say(`  ${k}: n ${a.length}, median ${(q(a, 0.5) / 1e6).toFixed(2)} ms, p90 ${(q(a, 0.9) / 1e6).toFixed(2)} ms`); }
say(`distinct workers: ${new Set(bursts.filter((b) => b[1].includes('worker')).map((b) => b[0])).size}`);
const top = (m, k) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
const over = ks.filter((k) => k > N).reduce((s, k) => s + hist.get(k), 0);
say(`\nwhile more than ${N} are runnable (${(100 * over / span).toFixed(1)} % of the time): mean runnable by who (ns runnable / ns of that time)`);
for (const [k, v] of top(whoNs, 12)) say(`  ${(v / over).toFixed(2)}  ${k}`);
say('by phase (caller of compute)');
for (const [k, v] of top(phaseNs, 16)) say(`  ${(v / over).toFixed(2)}  ${k}`);
// CPU asked per phase / who, all bursts
const cpuW = new Map(), cpuP = new Map();
for (const b of bursts) if (b[5] > W0 && b[4] < W1) { cpuW.set(who(b[1]), (cpuW.get(who(b[1])) ?? 0) + b[3]); cpuP.set(b[2], (cpuP.get(b[2]) ?? 0) + b[3]); }
say('\nCPU asked by the bursts overlapping the window, ms, by who'); for (const [k, v] of top(cpuW, 10)) say(`  ${(v / 1e6).toFixed(1)}  ${k}`);
say('CPU asked, ms, by phase'); for (const [k, v] of top(cpuP, 16)) say(`  ${(v / 1e6).toFixed(1)}  ${k}`);
