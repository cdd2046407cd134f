/**
 * DOC: selftest benchmark — the full default kmod.sh suite (`kmodlab selftest`, all tests,
 * default counts) on the simulator: one fresh machine (newest preset, qemu-tcg profile,
 * test modules out of tree, seed 1), the run from the first knob write to "Test completed".
 *
 * Prints wall time (target < 5 s; the real kernel under QEMU took 1330 s for this suite), CPU
 * time (wall time includes whatever else the machine is doing), peak RSS, the iterations run,
 * the virtual time the suite took, and the exit code. With the out-of-tree test_module the
 * default run stops at 0012 after 336 iterations, exactly like the real Debian 6.1 run.
 * `npm run bench -- selftest [PRESET]` benches another preset.
 */
import { runSelftest } from '../src/selftest/index.js';
import { createSimTarget } from '../src/targets/sim.js';
import { bench, withPeakRss } from './bench-util.js';

export async function run(args: string[] = []): Promise<void> {
  const preset = args[0] ?? 'newest';
  const cpu0 = process.cpuUsage();
  const { result, peakRss, wallMs } = await withPeakRss(async () => {
    const target = createSimTarget({ kernel: preset });
    const r = await runSelftest({ target, args: [], reporter: { line: () => {} } });
    const virtualNs = target.system.sim.now;
    await target.close();
    return { r, virtualNs };
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
}
