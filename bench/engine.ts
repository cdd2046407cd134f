/**
 * DOC: engine benchmark — 10,000 processes exchanging wake-ups, log off.
 *
 * Processes are paired; in each pair the two take turns: one completes its partner's
 * completion and waits on its own, with a small delay between turns. Reports events per second
 * (target ≥ 2,000,000 on the project's 2-core machine) and heap bytes per process.
 */
import { Completion, Sim } from '../src/sim/index.js';
import { bench } from './bench-util.js';

function pingPong(processes: number, rounds: number): { events: number; ms: number; heapPerProc: number } {
  if (global.gc) global.gc();
  const heap0 = process.memoryUsage().heapUsed;
  const sim = new Sim({ seed: 1, log: false });
  const pairs = processes / 2;
  let heapAfterSpawn = heap0;
  for (let i = 0; i < pairs; i++) {
    const a = new Completion(sim, `a${i}`);
    const b = new Completion(sim, `b${i}`);
    sim.spawn(`ping${i}`, (function* () {
      for (let r = 0; r < rounds; r++) {
        yield sim.delay(1 + (i % 7));
        b.complete();
        yield* a.wait();
      }
    })());
    sim.spawn(`pong${i}`, (function* () {
      for (let r = 0; r < rounds; r++) {
        yield* b.wait();
        yield sim.delay(1 + (i % 5));
        a.complete();
      }
    })());
  }
  heapAfterSpawn = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  sim.run();
  const ms = performance.now() - t0;
  if (sim.liveProcesses().length !== 0) throw new Error('engine bench: processes left blocked');
  return { events: sim.eventCount, ms, heapPerProc: (heapAfterSpawn - heap0) / processes };
}

export function run(): void {
  pingPong(10_000, 5); // warm-up
  const r = pingPong(10_000, 50);
  const eps = r.events / (r.ms / 1000);
  bench('engine_processes', 10_000, 'processes');
  bench('engine_events', r.events, 'events');
  bench('engine_wall', r.ms, 'ms');
  bench('engine_events_per_second', Math.round(eps), 'events/s');
  bench('engine_events_per_second_target', 2_000_000, 'events/s');
  bench('engine_memory_per_process', Math.round(r.heapPerProc), 'bytes');
  if (eps < 2_000_000) process.stdout.write(`# engine: below the 2,000,000 events/s target\n`);
}
