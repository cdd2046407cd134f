/**
 * DOC: storm benchmark — `npm run bench -- storm`.
 *
 * 1. One 255-CPU kvm-guest coldplug boot on one preset (target: under 1 s wall).
 * 2. The sweep 1–512 CPUs in steps of 32 × 6 presets, over the worker-thread pool
 *    (target: under 3 s on the project's 2-core machine, issue 15; it was 60 s), then the same
 *    sweep on one thread and on two, back to back: the speed-up from 1 to 2 threads (target
 *    ≥ 1.6×; each thread's start — imports, module set, JIT warm-up — is part of what it costs).
 * Wall time and peak RSS of each, as BENCH lines; the load average beside them (the machine is
 * shared: a wall time or a speed-up measured while others use the cores says little).
 *    Beside the 1- and 2-thread walls, their CPU, thread by thread (bench/sweep-cpu.ts): the
 *    whole process's, the worker threads' (start and runs), V8's helper threads', the main
 *    thread's; the critical path (the most CPU one worker thread used), and the wall and speed-up
 *    a quiet host with this many cores would give — figures the other jobs on a shared host
 *    disturb far less than a wall time.
 * 3. The model's cost per event: CPU time of a whole 255-CPU boot (assembly and run; the module
 *    set already loaded) divided by the events the engine handled, median of 5 (CPU time, not
 *    wall: the machine is shared). Target 0.8 µs (issue 15).
 *
 * `storm [PRESET] [--sweeps-only] [--runs]`: `--sweeps-only` skips 1, 3 and the first sweep of
 * 2; `--runs` prints every run of the 1- and 2-thread sweeps, in the order they finished.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runPoint, runStorm } from '../src/experiments/storm.js';
import { runPoints } from '../src/experiments/points.js';
import { runSweep } from '../src/experiments/sweep.js';
import { parseCpuList } from '../src/experiments/cpulist.js';
import { bench, withPeakRss } from './bench-util.js';
import { sweepCpu, type SweepCpu } from './sweep-cpu.js';

const PRESETS = ['v4.13', 'v5.3', 'v6.1-stable', 'v6.4', 'v6.5', 'newest'];

export async function run(args: string[]): Promise<void> {
  const preset = args.find((a) => !a.startsWith('--')) ?? 'v6.1-stable';
  const sweepsOnly = args.includes('--sweeps-only');
  const cpus = parseCpuList('1,32-512:32');
  const points = runPoints({ machine: 'kvm-guest', cpus, kernels: PRESETS, seeds: [1] });
  if (!sweepsOnly) await boots(preset, points);

  // 1 thread against 2, back to back (the pool's own start-up and every thread's loading included)
  const cores = availableParallelism();
  const sweeps: SweepCpu[] = [];
  for (const threads of [1, 2]) {
    const s = await sweepCpu(points, threads, cores);
    sweeps.push(s);
  }
  const [one, two] = sweeps as [SweepCpu, SweepCpu];
  bench('storm_sweep_wall_1thread', Math.round(one.wallMs), 'ms');
  bench('storm_sweep_wall_2threads', Math.round(two.wallMs), 'ms');
  const speedup = one.wallMs / two.wallMs;
  bench('storm_sweep_speedup_2threads', Math.round(speedup * 100) / 100, 'x');
  bench('storm_sweep_speedup_2threads_target', 1.6, 'x');
  if (speedup < 1.6) process.stdout.write(`# storm: 2 threads are ${speedup.toFixed(2)}x as fast as 1, below the 1.6x target (load average ${loadavg()[0]!.toFixed(2)})\n`);
  if (one.probed && two.probed) cpuFigures(one, two, cores, args.includes('--runs'));
}

/** 1. and 3., and the sweep on the default pool */
async function boots(preset: string, points: ReturnType<typeof runPoints>): Promise<void> {
  await runPoint({ machine: 'kvm-guest', cpus: 8, kernel: preset, seed: 1 }); // load the module set once
  const one = await withPeakRss(() => runPoint({ machine: 'kvm-guest', cpus: 255, kernel: preset, seed: 1 }));
  bench('storm_255cpu_wall', one.wallMs, 'ms');
  bench('storm_255cpu_wall_target', 1000, 'ms');
  bench('storm_255cpu_peak_rss', Math.round(one.peakRss / 2 ** 20), 'MiB');
  bench('storm_255cpu_load_attempts', one.result.loadAttempts, 'calls');

  const perEvent: number[] = [];
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage();
    const r = await runStorm({ machine: 'kvm-guest', cpus: 255, kernel: preset, seed: 1 });
    const c = process.cpuUsage(c0);
    perEvent.push((c.user + c.system) / r.system.sim.eventCount);
  }
  perEvent.sort((a, b) => a - b);
  const usPerEvent = perEvent[2]!;
  bench('storm_model_cpu_per_event', usPerEvent, 'us');
  bench('storm_model_cpu_per_event_target', 0.8, 'us');
  if (usPerEvent > 0.8) process.stdout.write('# storm: the model costs more than its 0.8 us per event target\n');

  const worker = fileURLToPath(new URL('../src/experiments/storm.js', import.meta.url));
  process.stdout.write(`# storm: load average before the sweeps ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const sweep = await withPeakRss(() => runSweep({ points, worker, progress: false, handleSigint: false }));
  bench('storm_sweep_runs', sweep.result.records.length, 'runs');
  bench('storm_sweep_wall', Math.round(sweep.wallMs), 'ms');
  bench('storm_sweep_wall_target', 3000, 'ms');
  bench('storm_sweep_peak_rss', Math.round(sweep.peakRss / 2 ** 20), 'MiB');
  if (one.wallMs > 1000) process.stdout.write('# storm: the 255-CPU boot is over its 1 s target\n');
  if (sweep.wallMs > 3000) process.stdout.write('# storm: the sweep is over its 3 s target\n');
}

/** the 1- and 2-thread sweeps' CPU, thread by thread, and what a quiet host would make of it */
function cpuFigures(one: SweepCpu, two: SweepCpu, cores: number, runs: boolean): void {
  for (const [name, s] of [['1thread', one], ['2threads', two]] as const) {
    bench(`storm_sweep_cpu_${name}`, Math.round(s.totalMs), 'ms');
    bench(`storm_sweep_worker_cpu_${name}`, Math.round(s.threads.reduce((a, t) => a + t.totalMs, 0)), 'ms');
    bench(`storm_sweep_worker_start_cpu_${name}`, Math.round(s.threads.reduce((a, t) => a + t.startMs, 0)), 'ms');
    bench(`storm_sweep_helper_cpu_${name}`, Math.round(s.otherMs), 'ms');
    bench(`storm_sweep_main_cpu_${name}`, Math.round(s.mainMs), 'ms');
    bench(`storm_sweep_critical_path_${name}`, Math.round(s.criticalPathMs), 'ms');
    bench(`storm_sweep_quiet_wall_${name}`, Math.round(s.quietWallMs), 'ms');
  }
  const quiet = one.quietWallMs / two.quietWallMs;
  bench('storm_sweep_quiet_speedup_2threads', Math.round(quiet * 100) / 100, 'x');
  process.stdout.write(`# storm: quiet-host estimates for ${cores} cores: wall = max(worker threads' CPU / threads, process CPU / ${cores})\n`);
  for (const [name, s] of [['1 thread', one], ['2 threads', two]] as const) {
    const t = s.threads.map((x) => `thread ${x.threadId}: ${x.runs} runs, start ${x.startMs.toFixed(0)} + runs ${x.runsMs.toFixed(0)} + between ${x.betweenMs.toFixed(0)} ms CPU, waited ${x.waitMs.toFixed(0)} ms`);
    process.stdout.write(`# storm: ${name}: ${t.join('; ')}\n`);
    if (!runs) continue;
    for (const [i, r] of s.runs.entries()) {
      process.stdout.write(`# storm: ${name} run ${i + 1}: thread ${r.threadId} c${r.cpus} ${r.kernel}: ${((r.endNs - r.startNs) / 1e6).toFixed(1)} ms CPU, thread at ${(r.endNs / 1e6).toFixed(0)} ms\n`);
    }
  }
}
