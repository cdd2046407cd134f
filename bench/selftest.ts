/**
 * DOC: selftest benchmark — the full default kmod.sh suite (`kmodlab selftest`, all tests,
 * default counts) on the simulator: one fresh machine (newest preset, qemu-tcg profile,
 * test modules out of tree, seed 1), the run from the first knob write to "Test completed".
 *
 * Prints wall time (target < 5 s; the real kernel under QEMU took 1330 s for this suite), CPU
 * time (wall time includes whatever else the machine is doing), peak RSS, the iterations run,
 * the virtual time the suite took, and the exit code. With the out-of-tree test_module the
 * default run stops at 0012 after 336 iterations, exactly like the real Debian 6.1 run.
 * `npm run bench -- selftest [PRESET]` benches another preset (`v6.1-stable` is the one issue
 * 15's whole-process target is about: `npm run bench -- startup selftest` times that as a whole
 * process, ≤ 0.6 s wall).
 *
 * Where the time goes (issue 15): the CPU time of building the machine (module set, index,
 * profile: `selftest_setup_cpu_ms`) apart from the run's, the events the engine handled and the
 * run's CPU time per event, and per test (each kmod.sh test ID that ran) its CPU time, events,
 * runs and virtual seconds — e.g. `selftest_test_0009_cpu_ms`. CPU time is this process's
 * (process.cpuUsage: user + system, all threads), not the wall.
 */
import { runSelftest } from '../src/selftest/index.js';
import { createSimTarget } from '../src/targets/sim.js';
import { bench, withPeakRss } from './bench-util.js';

interface PerTest {
  id: string;
  cpuMs: number;
  events: number;
  runs: number;
  virtualS: number;
}

const cpuMsSince = (c0: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

export async function run(args: string[] = []): Promise<void> {
  const preset = args[0] ?? 'newest';
  const cpu0 = process.cpuUsage();
  const { result, peakRss, wallMs } = await withPeakRss(async () => {
    const s0 = process.cpuUsage();
    const target = createSimTarget({ kernel: preset });
    const setupCpuMs = cpuMsSince(s0);
    const { sim } = target.system;
    const perTest: PerTest[] = [];
    let open: { c0: NodeJS.CpuUsage; e0: number; v0: number } | null = null;
    const e0 = sim.eventCount;
    const r0 = process.cpuUsage();
    const r = await runSelftest({
      target,
      args: [],
      reporter: {
        line: () => {},
        testStart: () => {
          open = { c0: process.cpuUsage(), e0: sim.eventCount, v0: sim.now };
        },
        testEnd: (test, outcome) => {
          if (open === null) return;
          perTest.push({ id: test.id, cpuMs: cpuMsSince(open.c0), events: sim.eventCount - open.e0, runs: outcome.runs.length, virtualS: (sim.now - open.v0) / 1e9 });
          open = null;
        },
      },
    });
    const runCpuMs = cpuMsSince(r0);
    const events = sim.eventCount - e0;
    const virtualNs = sim.now;
    await target.close();
    return { r, virtualNs, setupCpuMs, runCpuMs, events, perTest };
  });
  const cpu = process.cpuUsage(cpu0);
  bench('selftest_wall_ms', Math.round(wallMs), 'ms');
  bench('selftest_wall_ms_target', 5000, 'ms');
  if (wallMs >= 5000) process.stderr.write(`bench: selftest_wall_ms missed its target: ${Math.round(wallMs)} ms >= 5000 ms\n`);
  bench('selftest_cpu_ms', Math.round((cpu.user + cpu.system) / 1000), 'ms');
  bench('selftest_peak_rss_mb', Math.round(peakRss / 2 ** 20), 'MiB');
  bench('selftest_iterations', result.r.iterations, 'runs');
  bench('selftest_virtual_s', Math.round(result.virtualNs / 1e9), 's');
  bench('selftest_exit_code', result.r.exitCode, 'code');
  bench('selftest_setup_cpu_ms', Math.round(result.setupCpuMs), 'ms');
  bench('selftest_run_cpu_ms', Math.round(result.runCpuMs), 'ms');
  bench('selftest_events', result.events, 'events');
  bench('selftest_run_cpu_ns_per_event', Math.round((result.runCpuMs * 1e6) / Math.max(1, result.events)), 'ns');
  for (const t of result.perTest) {
    const m = `selftest_test_${t.id}`;
    bench(`${m}_cpu_ms`, Math.round(t.cpuMs), 'ms');
    bench(`${m}_events`, t.events, 'events');
    bench(`${m}_runs`, t.runs, 'runs');
    bench(`${m}_virtual_s`, Math.round(t.virtualS * 10) / 10, 's');
  }
}
