/**
 * DOC: `kmodlab storm --target qemu:NAME` without --parallel — the real coldplug, once per
 * (vCPU count, repetition): build the coldplug image (prepare.ts), boot it (run.ts), turn what
 * the guest wrote into a storm record and a captured machine profile (record.ts), and keep the
 * run's logs (console.log, data.log, qemu.cmd, qemu.log, record.json, profile.json) in its
 * directory whatever happens.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../errors.js';
import { getPreset } from '../../../kernel/presets.js';
import type { StormRunRecord } from '../../../results/record.js';
import type { MachineProfile } from '../../../userspace/machines/schema.js';
import { cacheDir } from '../kernels.js';
import { resolveKernelSpec } from '../user-kernels.js';
import { readPrepared } from '../prepare.js';
import { moduleTree, prepareColdplug } from './prepare.js';
import { addedByLoads, captureProfile, coldplugRun, fact, parseDataPort, parseTriggered, treeSizes } from './record.js';
import { applyCapturedTrigger } from '../../../userspace/machines/trigger.js';
import { bootColdplug, checkColdplugMachine, ColdplugNotStarted, coldplugMemMiB, DEFAULT_CPU_MODEL, DEFAULT_MACHINE_TYPE, type ColdplugBootOptions } from './run.js';

export { ColdplugFailed, ColdplugTimeout, DEFAULT_CPU_MODEL, DEFAULT_MACHINE_TYPE } from './run.js';
export { parseDataPort, coldplugRecord, captureProfile } from './record.js';

/** The sweep's options: the boot's own (run.ts) but for cpus, which is a list here. */
export interface ColdplugOptions extends Pick<ColdplugBootOptions, 'cpuModel' | 'machineType' | 'accel' | 'memMiB' | 'settleTimeoutS' | 'timeoutS'> {
  cpus: readonly number[];
  /** repetitions per vCPU count, seeds first..first+k-1 in the records */
  seeds: readonly number[];
  /** each run's directory is logDir/c<cpus>-s<seed> */
  logDir: string;
  cache?: string;
  log?: (s: string) => void;
  /** run only these (vCPU count, repetition) pairs (a --shard's slice) */
  only?: (cpus: number, seed: number) => boolean;
  /** rebuild runs whose directory holds a finished data.log from it instead of booting */
  reuseLogs?: boolean;
  /** a run already done (a --out store's record with its captured profile): not booted again */
  done?: (cpus: number, seed: number) => { record: StormRunRecord; profile: MachineProfile } | undefined;
}

export interface ColdplugRun {
  /** booted now, rebuilt from kept logs, or taken from a --out store */
  from: 'boot' | 'logs' | 'store';
  record: StormRunRecord;
  profile: MachineProfile;
  dir: string;
  /** the kernel's release (uname -r): the --results directory it goes under */
  release: string;
  wallMs: number;
  memMiB: number;
  /** guest facts: udev and kmod versions, what /proc/modules listed */
  udevVersion: number;
  kmodVersion: number;
  procModules: number;
}

/** A finished run's kept logs, as if just booted (wall time unknown: 0). */
function keptBoot(dir: string): { data: string; wallMs: number } | undefined {
  const f = join(dir, 'data.log');
  if (!existsSync(f)) return undefined;
  const data = readFileSync(f, 'utf8').replace(/\r/g, '');
  if (!/^KML-DONE/m.test(data) || /KML-FACT settled timeout/.test(data)) return undefined;
  let wallMs = 0;
  try {
    wallMs = (JSON.parse(readFileSync(join(dir, 'boot.json'), 'utf8')) as { wallMs: number }).wallMs;
  } catch {
    // logs of an older kmodlab: the wall time was not kept
  }
  return { data, wallMs };
}

/**
 * --reuse-logs promises no boot for a kept run; a directory holding none of the runs asked for
 * (a typo, an incomplete copy) would boot every one of them, minutes each: one line instead.
 * Where some are kept, the missing ones boot as the option's help says. The command calls it
 * before it makes its --out store (`stored`: the runs already there need no trace).
 */
export function checkReuseLogs(o: Pick<ColdplugOptions, 'cpus' | 'seeds' | 'logDir' | 'only'>, stored: (cpus: number, seed: number) => boolean): void {
  const asked: string[] = [];
  for (const cpus of o.cpus)
    for (const seed of o.seeds) {
      if (o.only !== undefined && !o.only(cpus, seed)) continue;
      if (stored(cpus, seed)) continue;
      const run = `c${cpus}-s${seed}`;
      if (keptBoot(join(o.logDir, run)) !== undefined) return;
      asked.push(run);
    }
  if (asked.length === 0) return;
  const shown = asked.length > 4 ? `${asked.slice(0, 4).join(', ')}, …` : asked.join(', ');
  throw new InputError(`--reuse-logs: ${o.logDir} holds no finished trace of ${shown}; without --reuse-logs they boot`);
}

/** The records' machine: the guest as booted, e.g. debian-6.1-q35-cascadelake-server. */
export function machineName(name: string, machineType = DEFAULT_MACHINE_TYPE, cpuModel = DEFAULT_CPU_MODEL): string {
  return `${name}-${machineType}-${cpuModel}`.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}

/** The checks that need no boot: the kernel is prepared, the machine can take the vCPU counts. */
export async function checkColdplug(name: string, o: Pick<ColdplugOptions, 'cpus' | 'cpuModel' | 'machineType' | 'cache'>): Promise<void> {
  resolveKernelSpec(name, o.cache);
  await checkColdplugMachine(o.cpus, o.cpuModel ?? DEFAULT_CPU_MODEL, o.machineType ?? DEFAULT_MACHINE_TYPE);
  const prepared = readPrepared(name, o.cache);
  if (prepared === null) throw new InputError(`qemu:${name}: not prepared; run \`kmodlab kernel prepare ${name}\``);
  moduleTree(prepared);
}

export async function runColdplugs(name: string, o: ColdplugOptions, onRun?: (r: ColdplugRun) => void | Promise<void>): Promise<ColdplugRun[]> {
  await checkColdplug(name, o);
  const spec = resolveKernelSpec(name, o.cache);
  const prepared = readPrepared(name, o.cache)!;
  const log = o.log ?? ((s: string) => process.stderr.write(`kmodlab: qemu:${name}: ${s}\n`));
  const image = await prepareColdplug(prepared, cacheDir(o.cache), log);
  const flags = getPreset(spec.sim.preset).flags;
  const kernel = { earlySameNameCheck: flags.earlySameNameCheck, idempotentFinit: flags.idempotentFinit !== 'off' };
  const sizes = treeSizes(moduleTree(prepared), prepared.release);
  const cpuModel = o.cpuModel ?? DEFAULT_CPU_MODEL;
  const machineType = o.machineType ?? DEFAULT_MACHINE_TYPE;
  const runs: ColdplugRun[] = [];
  for (const cpus of o.cpus)
    for (const seed of o.seeds) {
      if (o.only !== undefined && !o.only(cpus, seed)) continue;
      const dir = join(o.logDir, `c${cpus}-s${seed}`);
      const had = o.done?.(cpus, seed);
      if (had !== undefined) {
        log(`${cpus} vCPUs, run ${seed}: done before (the stored record), not booted again`);
        const run: ColdplugRun = { from: 'store', ...had, dir, release: prepared.release, wallMs: 0, memMiB: 0, udevVersion: had.profile.udev.systemdVersion ?? 0, kmodVersion: had.profile.kmod.version, procModules: had.record.modulesLoaded };
        runs.push(run);
        await onRun?.(run);
        continue;
      }
      const memMiB = o.memMiB ?? coldplugMemMiB(image.bytes, cpus);
      const kept = o.reuseLogs === true ? keptBoot(dir) : undefined;
      if (kept === undefined) log(`${cpus} vCPUs (${machineType}, ${cpuModel}), run ${seed}: booting, logs in ${dir}`);
      else log(`${cpus} vCPUs, run ${seed}: rebuilt from the kept trace in ${dir} (not booted)`);
      const bootOnce = () => bootColdplug(prepared, image.initramfs, {
        cpus, cpuModel, machineType, memMiB, logDir: dir,
        ...(o.accel !== undefined ? { accel: o.accel } : {}),
        ...(o.settleTimeoutS !== undefined ? { settleTimeoutS: o.settleTimeoutS } : {}),
        ...(o.timeoutS !== undefined ? { timeoutS: o.timeoutS } : {}),
      });
      // a guest that died before its init ran measured nothing: boot it once more
      const boot = kept ?? await bootOnce().catch((e: unknown) => {
        if (!(e instanceof ColdplugNotStarted)) throw e;
        log(`${e.message}; booting once more`);
        return bootOnce();
      });
      const data = parseDataPort(boot.data);
      const machine = machineName(name, machineType, cpuModel);
      const profile: MachineProfile = captureProfile(data.sections.get('capture') ?? '', { name: machine, release: prepared.release, date: `${name} coldplug, ${cpus} vCPUs`, cpus });
      const { record, initFailures, devicesAdded } = coldplugRun({ data, kernelName: name, machine, cpus, seed, kernel, sizes, release: prepared.release });
      // the trigger as the guest saw it: which devices a load created, the events without MODALIAS
      const triggered = parseTriggered(data.sections.get('triggered'));
      if (triggered !== undefined) {
        const applied = applyCapturedTrigger(profile, triggered, addedByLoads(devicesAdded));
        profile.notes.push(
          `trigger captured: ${triggered.subsystems.length} subsystem and ${triggered.devices.length} device events; created by a module's load: ${applied.created.join(', ') || 'none'}`
            + (applied.unattributed.length > 0 ? `; not at the trigger but added by no load (triggered in the model): ${applied.unattributed.join(', ')}` : ''),
        );
      }
      const udevVersion = Number(fact(data, 'udev') ?? 0);
      const kmodVersion = Number(/(\d+)/.exec(fact(data, 'kmod') ?? '')?.[1] ?? 0);
      // init results the guest showed (intel_cstate -ENODEV under TCG, …): machine facts
      for (const [m, ret] of Object.entries(initFailures)) profile.moduleInit[m] = { baseNs: 0, perCpuNs: 0, result: ret };
      // under TCG the vCPUs run on this host's cores: that is the guest's capacity
      if ((o.accel ?? 'tcg') === 'tcg') profile.hostCpus = availableParallelism();
      // what the guest ran, not capture's assumptions
      profile.udev = { ...profile.udev, systemdVersion: udevVersion };
      profile.kmod = { ...profile.kmod, version: kmodVersion };
      const procModules = (data.sections.get('modules') ?? '').split('\n').filter(Boolean).length;
      if (kept === undefined) writeFileSync(join(dir, 'boot.json'), JSON.stringify({ wallMs: boot.wallMs, memMiB }) + '\n');
      writeFileSync(join(dir, 'record.json'), JSON.stringify(record, null, 2) + '\n');
      writeFileSync(join(dir, 'profile.json'), JSON.stringify(profile, null, 2) + '\n');
      const run: ColdplugRun = { from: kept === undefined ? 'boot' : 'logs', record, profile, dir, release: prepared.release, wallMs: boot.wallMs, memMiB, udevVersion, kmodVersion, procModules };
      log(
        `${cpus} vCPUs, run ${seed}: ${record.loadAttempts} load calls, ${record.modulesLoaded} loaded, ` +
          `${(record.wastedBytes / 2 ** 20).toFixed(2)} MiB wasted (${record.wastedBytesSource}), settled in ${(record.settleNs / 1e9).toFixed(1)} s; ` +
          `${(boot.wallMs / 1000).toFixed(0)} s wall, ${memMiB} MiB guest`,
      );
      runs.push(run);
      await onRun?.(run);
    }
  return runs;
}
