/**
 * DOC: a real `udevadm trigger`, captured into a machine profile.
 *
 * Why: a profile captured at the end of a boot lists every device then present, but some were
 * not there when udevadm triggered: a module's load created them (intel_rapl_common's init adds
 * intel_rapl_msr.0, lpc_ich's iTCO_wdt.1.auto, virtio_pci's probe virtio0 and virtio1), and their
 * "add" uevents came from the kernel while that module loaded. And the trigger emits hundreds of
 * events without a MODALIAS (buses, class devices, memory blocks, ttys) that load nothing but
 * cost udevd a worker each. Given the trigger's events in order and the devices each load added
 * (from the guest's trace), this marks the profile's devices `createdBy` and records the events
 * without a MODALIAS (`trigger`), so the simulated coldplug replays what the real one did.
 *
 * Per-CPU devices without a MODALIAS (machinecheckN, clockeventN, the processors' cooling
 * devices): a family of siblings named exactly PREFIX0 … PREFIX(N−1) at N CPUs is recorded once as
 * PREFIX%d, one event per CPU at any CPU count. Checked against debian-6.1's captures at 2 and 8
 * vCPUs: those three families, and only they, grow with the vCPUs (memory blocks follow RAM).
 */
import path from 'node:path';
import type { MachineProfile } from './schema.js';

export interface CapturedTrigger {
  /** `udevadm trigger --type=subsystems --verbose`: the syspaths in order */
  subsystems: string[];
  /** `--type=devices`: the syspaths in order, with the subsystem when the capture read it */
  devices: { devpath: string; subsystem?: string }[];
}

/** The per-CPU processor devices and CPUs: the coldplug model makes them at any CPU count. */
const PER_CPU_MODELLED = /^\/sys\/devices\/(system\/cpu\/cpu\d+|.*\/(LNXCPU|ACPI0007):[0-9a-f]{2})$/;

/** Replace each family PREFIX0…PREFIX(cpus−1) of siblings by one PREFIX%d entry (at its first). */
export function perCpuFamilies<T extends { devpath: string }>(events: readonly T[], cpus: number): T[] {
  if (cpus < 2) return [...events];
  const families = new Map<string, number[]>();
  events.forEach((e, i) => {
    const m = /^(.*\D)(\d+)$/.exec(e.devpath);
    if (m === null) return;
    const list = families.get(m[1]!) ?? [];
    list.push(i);
    families.set(m[1]!, list);
  });
  const drop = new Set<number>();
  const rename = new Map<number, string>();
  for (const [prefix, idx] of families) {
    const names = new Set(idx.map((i) => events[i]!.devpath.slice(prefix.length)));
    if (idx.length !== cpus || !Array.from({ length: cpus }, (_, n) => String(n)).every((n) => names.has(n))) continue;
    rename.set(idx[0]!, `${prefix}%d`);
    for (const i of idx.slice(1)) drop.add(i);
  }
  const out: T[] = [];
  events.forEach((e, i) => {
    if (drop.has(i)) return;
    const r = rename.get(i);
    out.push(r === undefined ? e : { ...e, devpath: r });
  });
  return out;
}

export interface TriggerApplied {
  /** devices marked createdBy, "devpath ← module" */
  created: string[];
  /** devices present at the end, not at the trigger, and added by no load (a kworker's) */
  unattributed: string[];
}

/**
 * Mark the devices a load created and record the trigger's events without a MODALIAS (see the
 * DOC). `added`: device name → the modules whose load added a device of that name.
 */
export function applyCapturedTrigger(profile: MachineProfile, trigger: CapturedTrigger, added: ReadonlyMap<string, ReadonlySet<string>>): TriggerApplied {
  const triggered = new Set(trigger.devices.map((d) => d.devpath));
  const created: string[] = [];
  const unattributed: string[] = [];
  const withModalias = new Set<string>();
  profile.devices = profile.devices.map((d) => {
    if (typeof d === 'string' || d.devpath === undefined) return d;
    withModalias.add(d.devpath);
    if (triggered.has(d.devpath)) return d;
    const by = added.get(path.posix.basename(d.devpath));
    if (by === undefined || by.size !== 1) {
      unattributed.push(d.devpath);
      return d;
    }
    const module = [...by][0]!;
    created.push(`${d.devpath} ← ${module}`);
    return { ...d, createdBy: module };
  });
  const plain = trigger.devices.filter((d) => !withModalias.has(d.devpath) && !PER_CPU_MODELLED.test(d.devpath));
  profile.trigger = {
    subsystems: trigger.subsystems.map((devpath) => ({ devpath })),
    devices: perCpuFamilies(plain, profile.cpus).map((d) => (d.subsystem ? { devpath: d.devpath, subsystem: d.subsystem } : { devpath: d.devpath })),
  };
  return { created, unattributed };
}
