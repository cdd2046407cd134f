/**
 * DOC: `kmodlab kernel` — real kernels for the qemu target.
 *
 *   kernel prepare NAME…   download, build and assemble (cached; --refresh to redo)
 *   kernel prepare --from-build DIR [--name NAME] [--userspace SUITE] [--preset P]
 *                          [--image FILE --modules DIR]   the kernel you built (from-build.ts)
 *   kernel list            the kernels known and which are prepared, then the from-build ones
 *   kernel boot NAME       boot, check the agent, test_kmod and a few knobs, power off
 *   kernel storm NAME --parallel LIST   real duplicate-load storms in the guest: an alias of
 *                          `storm --target qemu:NAME --parallel` (the same plan, runDupStorm and
 *                          table), keeping its own flags (--modules, --modes, --json)
 * boot and storm exit with the session outcome's code (src/targets/qemu/outcome.ts): 0 ran and
 * passed, 1 ran and a check failed, 3 boot failure, 5 kernel panic, 124 timeout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { stormTable } from '../../experiments/dupstorm/format.js';
import { parsePlan } from '../../experiments/dupstorm/plan.js';
import { runDupStorm } from '../../experiments/dupstorm/run.js';
import { type Accel } from '../../targets/qemu/boot.js';
import { cacheDir, KERNELS, kernelSpec } from '../../targets/qemu/kernels.js';
import { exitCodeFor } from '../../targets/qemu/outcome.js';
import { prepareFromBuild } from '../../targets/qemu/from-build.js';
import { prepareKernel, readPrepared } from '../../targets/qemu/prepare.js';
import { GuestSessionError } from '../../targets/qemu/session.js';
import { guestDupStormTarget } from '../../targets/qemu/storm.js';
import { QemuTarget } from '../../targets/qemu/target.js';
import { fromBuildKernel, fromBuildKernels } from '../../targets/qemu/user-kernels.js';
import { intOption, secondsOption } from '../options.js';
import { checkOutputDir } from '../../io/output.js';
import { logRow } from './dupstorm.js';

export interface PrepareOpts {
  cache?: string;
  refresh?: boolean;
  fromBuild?: string;
  name?: string;
  userspace?: string;
  preset?: string;
  image?: string;
  modules?: string;
}

export interface VmOpts {
  cache?: string;
  cpus: string;
  mem: string;
  timeout: string;
  accel: string;
  logDir?: string;
}

function bootOpts(o: VmOpts) {
  if (!['tcg', 'kvm', 'auto'].includes(o.accel)) throw new InputError(`--accel ${o.accel}: want tcg, kvm or auto`);
  // before the boot: a directory that cannot be made fails now, and Node's recursive mkdir spins forever under /proc
  if (o.logDir !== undefined) checkOutputDir('--log-dir', o.logDir);
  return {
    cache: o.cache,
    cpus: intOption('--cpus', o.cpus, 1),
    memMiB: intOption('--mem', o.mem, 256),
    timeoutS: secondsOption('--timeout', o.timeout, 0),
    accel: o.accel as Accel,
  };
}

/** boot the guest; on a boot failure, panic or timeout set that exit code and return null */
async function openGuest(name: string, o: VmOpts): Promise<QemuTarget | null> {
  try {
    return await QemuTarget.open(name, { ...bootOpts(o), logDir: o.logDir });
  } catch (e) {
    process.exitCode = failureExit(e);
    return null;
  }
}

function failureExit(e: unknown): number {
  if (e instanceof GuestSessionError) {
    process.stderr.write(`kmodlab: ${e.message}\n`);
    return exitCodeFor(e.outcome, false);
  }
  throw e;
}

/** `kmodlab kernel prepare NAME… | --from-build DIR` (declared in ../declare/kernel.ts) */
export async function prepareAction(names: string[], o: PrepareOpts): Promise<void> {
  if (o.fromBuild !== undefined) {
    if (names.length > 0) throw new InputError(`kernel prepare: ${names[0]}: give kernel names or --from-build DIR, not both`);
    const p = await prepareFromBuild({
      dir: o.fromBuild, name: o.name, userspace: o.userspace, preset: o.preset, image: o.image, modules: o.modules, cache: o.cache, refresh: o.refresh,
    });
    process.stdout.write(`${p.name}\t${p.release}\t${p.version}\t${p.dir}\n`);
    return;
  }
  for (const [flag, v] of [['--name', o.name], ['--userspace', o.userspace], ['--preset', o.preset], ['--image', o.image], ['--modules', o.modules]] as const)
    if (v !== undefined) throw new InputError(`${flag}: only with --from-build DIR`);
  // the same words as commander's own error when NAME… was required (without --from-build it is)
  if (names.length === 0) throw new InputError("missing required argument 'names'");
  for (const n of names) {
    if (!KERNELS.some((k) => k.name === n) && fromBuildKernel(n, o.cache))
      throw new InputError(`kernel "${n}": prepared from a build tree; prepare it again with --from-build DIR`);
    kernelSpec(n);
  }
  for (const n of names) {
    const p = await prepareKernel(n, { cache: o.cache, refresh: o.refresh });
    process.stdout.write(`${p.name}\t${p.release}\t${p.version}\t${p.dir}\n`);
  }
}

/** `kmodlab kernel list` */
export function listAction(o: { cache?: string }): void {
  for (const k of KERNELS) {
    const p = readPrepared(k.name, o.cache);
    process.stdout.write(`${k.name}\t${k.suite}\t${p ? `${p.release}\t${p.version}` : 'not prepared'}\n`);
  }
  for (const p of fromBuildKernels(o.cache))
    process.stdout.write(`${p.name}\tfrom-build\t${p.release}\t${p.version}\t${p.build.tree}\n`);
  process.stdout.write(`cache: ${cacheDir(o.cache)}\n`);
}

/** `kmodlab kernel boot NAME` */
export async function bootAction(name: string, o: VmOpts): Promise<void> {
  const t = await openGuest(name, o);
  if (t === null) return;
  let ok = true;
  try {
    const say = (s: string) => process.stdout.write(`${s}\n`);
    say(`booted ${t.kernel} (${t.prepared.version}) in ${(t.guest.bootMs / 1000).toFixed(1)} s, ${t.guest.accel}, ${t.guest.cpus} CPUs`);
    const pre = await t.preconditions();
    say(`preconditions: ${JSON.stringify(pre)}`);
    const lm = await t.loadTestKmod();
    say(`modprobe test_kmod: exit ${lm.exitCode}`);
    // the real knob rules (spec §6.2): 0 threads and test case 3 are -EINVAL; 4 threads run
    const w0 = await t.writeKnob('config_num_threads', '0');
    const w4 = await t.writeKnob('config_num_threads', '4');
    const w3 = await t.writeKnob('config_test_case', '3');
    const trig = await t.writeKnob('trigger_config', '1');
    const result = (await t.readKnob('test_result')).trim();
    say(`config_num_threads "0" → ${w0}; "4" → ${w4}; config_test_case "3" → ${w3}`);
    say(`trigger_config → ${trig}; test_result = ${result}`);
    ok = pre.root && pre.modprobe && pre.kmod && lm.exitCode === 0 && w0 === -22 && w4 === 1 && w3 === -22 && trig === 1 && result === '0';
    if (!ok) say('FAIL: unexpected answer (expected -22, 1, -22, 1, 0)');
  } catch (e) {
    if (!(e instanceof GuestSessionError)) throw e;
  } finally {
    await t.close();
  }
  const out = t.outcome();
  process.stdout.write(`outcome: ${out.state} (${out.detail})\n`);
  process.exitCode = exitCodeFor(out, ok);
}

/** `kmodlab kernel storm NAME --parallel LIST` */
export async function stormAction(name: string, o: VmOpts & { parallel: string; modules: string; modes: string; states?: string; json?: string }): Promise<void> {
  const plan = parsePlan(o, { modules: '--modules', modes: '--modes', states: '--states' });
  const t = await openGuest(name, o);
  if (t === null) return;
  process.stderr.write(`kmodlab: booted ${t.kernel} in ${(t.guest.bootMs / 1000).toFixed(1)} s (${t.guest.accel}, ${t.guest.cpus} CPUs)\n`);
  let ok = false;
  try {
    const r = await runDupStorm(plan, guestDupStormTarget(t.guest, t.prepared), logRow);
    process.stdout.write(`# ${t.name}: ${r.kernel}, ${r.cpus} vCPUs (${r.accel}), guest kmod ${r.kmodVersion}\n\n${stormTable(r.rows)}`);
    if (o.json) {
      mkdirSync(join(o.json, '..'), { recursive: true });
      writeFileSync(o.json, JSON.stringify({ target: t.name, version: t.prepared.version, ...r }, null, 2) + '\n');
    }
    ok = true;
  } catch (e) {
    if (!(e instanceof GuestSessionError)) throw e;
  } finally {
    await t.close();
  }
  const out = t.outcome();
  if (out.state !== 'ran') process.stderr.write(`kmodlab: ${out.state}: ${out.detail}\n`);
  process.exitCode = exitCodeFor(out, ok);
}
