/**
 * DOC: test_kmod as a loadable module (lib/test_kmod.c's module_init / late_initcall).
 *
 * The driver is module-only (`depends on m`), so its late_initcall is its module init: loading
 * test_kmod (`modprobe test_kmod`) runs `testKmodModule().behaviour.init`, which registers the
 * misc device test_kmod0 and, if the module parameter `force_init_test` was given, runs a
 * TEST_KMOD_DRIVER test for "tun" and then a TEST_KMOD_FS_TYPE test for "btrfs" from inside init.
 * As in the driver, only a setup failure of those triggers (-ENOMEM, -EINVAL) fails init; their
 * test_result (e.g. 256 when tun is missing) is only logged.
 *
 * From v6.16 (`startParams`) the driver has two more parameters, start_driver and start_test_fs
 * (charp: a name without "=value" fails the load with -EINVAL, as parse_args does), which give
 * the device's defaults; force_init_test then tests the configured driver, and the configured fs
 * only if there is one. Older drivers do not know those parameters: the kernel ignores unknown
 * module parameters, so they change nothing there.
 *
 * The device exists while test_kmod is COMING or LIVE: once the module is unloaded (or its init
 * failed and it was freed) `device()` answers null, which the targets report as a missing
 * /sys/devices/virtual/misc/test_kmod0. (The kernel interface has no module-exit hook for
 * misc_deregister; the module state is what decides.)
 */
import type { ModuleBehaviour, ModuleInitContext, KernelApi } from '../kernel/api.js';
import { EINVAL } from '../kernel/errno.js';
import type { Proc } from '../sim/index.js';
import { TEST_KMOD_DRIVER, TEST_KMOD_FS_TYPE, TestKmodDevice, type TestKmodDeviceOptions, type TestKmodStartParams } from './device.js';

export const TEST_KMOD_MODULE = 'test_kmod';

export interface TestKmodModuleOptions extends TestKmodDeviceOptions {
  /** CPU time of the init function besides what the device does (default 200 µs) */
  initCpuNs?: number;
}

export interface TestKmodModule {
  /** the module's behaviour, for the module tree / machine profile */
  readonly behaviour: ModuleBehaviour;
  /** test_kmod0 of `kernel` while test_kmod is loaded, else null */
  device(kernel: KernelApi): TestKmodDevice | null;
}

/** parse a bool_enable_only module parameter value (param_set_bool / kstrtobool) */
function parseBool(v: string | undefined): boolean | null {
  if (v === undefined || v === '') return true;
  if (/^(1|y|Y|on)$/.test(v)) return true;
  if (/^(0|n|N|off)$/.test(v)) return false;
  return null;
}

/** the `force_init_test` parameter out of the module's argument string */
export function forceInitTest(args: string): boolean | null {
  let force = false;
  for (const tok of args.split(/\s+/).filter((t) => t !== '')) {
    const eq = tok.indexOf('=');
    const key = (eq < 0 ? tok : tok.slice(0, eq)).replace(/-/g, '_');
    if (key !== 'force_init_test') continue;
    const b = parseBool(eq < 0 ? undefined : tok.slice(eq + 1));
    if (b === null) return null;
    force = force || b; // enable-only
  }
  return force;
}

/**
 * The v6.16 charp parameters start_driver / start_test_fs out of the module's argument string
 * (the last one given wins, as parse_args sets them in order); null when one is given without a
 * value (-EINVAL from parse_args).
 */
export function startParams(args: string): TestKmodStartParams | null {
  const out: TestKmodStartParams = { start_driver: null, start_test_fs: null };
  for (const tok of args.split(/\s+/).filter((t) => t !== '')) {
    const eq = tok.indexOf('=');
    const key = (eq < 0 ? tok : tok.slice(0, eq)).replace(/-/g, '_');
    if (key !== 'start_driver' && key !== 'start_test_fs') continue;
    if (eq < 0) return null;
    out[key] = tok.slice(eq + 1);
  }
  return out;
}

export function testKmodModule(opts: TestKmodModuleOptions = {}): TestKmodModule {
  const devices = new WeakMap<KernelApi, TestKmodDevice>();
  const initCpuNs = opts.initCpuNs ?? 200_000;

  function* init(ctx: ModuleInitContext): Proc<number> {
    const sim = ctx.task.proc.sim;
    const force = forceInitTest(ctx.args);
    if (force === null) return -EINVAL;
    const withStart = opts.startParams ?? false;
    const start = withStart ? startParams(ctx.args) : { start_driver: null, start_test_fs: null };
    if (start === null) return -EINVAL;
    if (initCpuNs > 0) yield sim.delay(initCpuNs);
    // register_test_dev_kmod: allocate, misc_register, "interface ready"
    const dev = new TestKmodDevice(sim, ctx.kernel, opts, start);
    devices.set(ctx.kernel, dev);
    if (force) {
      // up to v6.15 the init-time test names its own driver and fs; from v6.16 the configured ones
      let ret = yield* dev.trigger_config_run_type(TEST_KMOD_DRIVER, withStart ? null : 'tun');
      if (ret !== 0) return ret;
      ret = yield* dev.trigger_config_run_type(TEST_KMOD_FS_TYPE, withStart ? null : 'btrfs');
      if (ret !== 0) return ret;
    }
    return 0;
  }

  return {
    behaviour: { initCpuNs, initSleepNs: 0, initResult: 0, init },
    device(kernel: KernelApi): TestKmodDevice | null {
      const dev = devices.get(kernel);
      if (dev === undefined) return null;
      const st = kernel.moduleState(TEST_KMOD_MODULE);
      return st === 'coming' || st === 'live' ? dev : null;
    },
  };
}
