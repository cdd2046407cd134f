/**
 * DOC: explore benchmark — schedules per second for a 4-process scenario (same-name-failing-init
 * on v6.2; target ≥ 10,000 per minute) and for kmod-limit-timeout (62 processes, v6.4), drawn at
 * random; the same 4-process scenario walked by the exhaustive strategy (path mode: every
 * decision lists its alternatives); and the time to shrink every rare or failing outcome of 300
 * random schedules of same-name-slow-init on v6.4. Each rate is given by the wall clock and by
 * the process's CPU time (the `_cpu_` lines), which other users of a shared machine disturb less.
 */
import { explore, shrinkOutcomes } from '../src/experiments/explore/explore.js';
import type { Strategy } from '../src/experiments/explore/choices.js';
import { loadScenario } from '../src/io/scenario.js';
import { loadMachine } from '../src/userspace/machines/load.js';
import { bench } from './bench-util.js';

/** schedules per second, by the wall clock and by the process's CPU time (user + system: less disturbed on a shared machine) */
function rate(name: string, kernel: string, runs: number, strategy: Strategy = 'random'): { wall: number; cpu: number } {
  const sc = loadScenario(name);
  const machine = loadMachine(sc.machine.profile);
  explore(sc, machine, { kernel, strategy, depth: 3, seed: 1, runs: Math.max(1, runs >> 3) });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const e = explore(sc, machine, { kernel, strategy, depth: 3, seed: 1000, runs });
  const c = process.cpuUsage(c0);
  return { wall: (e.runs * 1000) / (performance.now() - t0), cpu: (e.runs * 1e6) / (c.user + c.system) };
}

function shrinkMs(): number {
  const sc = loadScenario('same-name-slow-init');
  const machine = loadMachine(sc.machine.profile);
  const e = explore(sc, machine, { kernel: 'v6.4', strategy: 'random', depth: 3, seed: 1, runs: 300 });
  const t0 = performance.now();
  shrinkOutcomes(sc, machine, e);
  return performance.now() - t0;
}

export function run(): void {
  const four = rate('same-name-failing-init', 'v6.2', 2000);
  bench('explore_4proc_schedules_per_minute', Math.round(four.wall * 60), 'schedules/min');
  bench('explore_4proc_cpu_schedules_per_minute', Math.round(four.cpu * 60), 'schedules/min');
  bench('explore_4proc_schedules_per_minute_target', 10_000, 'schedules/min');
  const pct = rate('same-name-failing-init', 'v6.2', 2000, 'pct');
  bench('explore_4proc_pct_cpu_schedules_per_minute', Math.round(pct.cpu * 60), 'schedules/min');
  const limit = rate('kmod-limit-timeout', 'v6.4', 100);
  bench('explore_kmod_limit_timeout_schedules_per_second', Math.round(limit.wall * 10) / 10, 'schedules/s');
  bench('explore_kmod_limit_timeout_cpu_schedules_per_second', Math.round(limit.cpu * 10) / 10, 'schedules/s');
  const ex = rate('same-name-failing-init', 'v6.2', 2000, 'exhaustive');
  bench('explore_4proc_exhaustive_schedules_per_minute', Math.round(ex.wall * 60), 'schedules/min');
  bench('explore_4proc_exhaustive_cpu_schedules_per_minute', Math.round(ex.cpu * 60), 'schedules/min');
  bench('explore_shrink_same_name_slow_init_ms', Math.round(shrinkMs()), 'ms');
}
