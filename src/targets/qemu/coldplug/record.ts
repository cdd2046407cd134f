/**
 * DOC: what one real coldplug wrote to its data port (scripts/coldplug/init), as a storm record
 * and a captured machine profile.
 *
 * The data port carries `KML-FACT key value` lines and `KML-BEGIN name` … `KML-END name`
 * sections: modules (/proc/modules), capture (every modalias with its sysfs path and subsystem,
 * the cpu modalias, MemTotal, the cpufreq driver, ACPI), stats (MODULE_STATS, where the kernel
 * has it), dmesg and trace. The trace becomes the record's figures through the metrics layer
 * (src/metrics/coldplug-trace.ts); file sizes for MODULE_STATS's estimate come from the same
 * module tree the guest booted with (the prepared kernel's root on the host).
 *
 * The capture is rebuilt as a small sysfs/procfs tree and read by `machines capture`'s own reader
 * (src/userspace/machines/capture.ts), so a captured guest and a captured host are one format.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coldplugFigures, devicesAddedByLoads, triggerTimes, type DeviceAddedByLoad, type TraceKernel, type TriggerTimes } from '../../../metrics/coldplug-trace.js';
import { parseFtrace } from '../../../metrics/ftrace.js';
import type { StormRunRecord } from '../../../results/record.js';
import { captureHost } from '../../../userspace/machines/capture.js';
import type { MachineProfile } from '../../../userspace/machines/schema.js';
import type { CapturedTrigger } from '../../../userspace/machines/trigger.js';

export interface DataPort {
  facts: Map<string, string[]>;
  sections: Map<string, string>;
}

export function parseDataPort(text: string): DataPort {
  const facts = new Map<string, string[]>();
  const sections = new Map<string, string>();
  let cur: string | null = null;
  let buf: string[] = [];
  // the guest's tty turns each \n into \r\n
  for (const line of text.replace(/\r/g, '').split('\n')) {
    if (cur !== null) {
      if (line === `KML-END ${cur}`) {
        sections.set(cur, buf.join('\n'));
        cur = null;
        buf = [];
      } else buf.push(line);
      continue;
    }
    const b = /^KML-BEGIN (\S+)$/.exec(line);
    if (b) {
      cur = b[1]!;
      continue;
    }
    const f = /^KML-FACT (\S+) ?(.*)$/.exec(line);
    if (f) {
      const list = facts.get(f[1]!) ?? [];
      list.push(f[2]!);
      facts.set(f[1]!, list);
    }
  }
  return { facts, sections };
}

export function fact(d: DataPort, key: string): string | undefined {
  return d.facts.get(key)?.[0];
}

/** Sizes of the guest's module files, read from the host's copy of the same tree. */
export function treeSizes(hostTree: string, release: string): (p: string) => { file: number; image: number } | undefined {
  const prefixes = [`/lib/modules/${release}/`, `/usr/lib/modules/${release}/`];
  return (p) => {
    const pre = prefixes.find((x) => p.startsWith(x));
    if (pre === undefined) return undefined;
    const host = join(hostTree, p.slice(pre.length));
    try {
      const file = statSync(host).size;
      // a compressed module's image (D) is what xz says it holds uncompressed
      return { file, image: p.endsWith('.xz') ? xzImageBytes(host) : file };
    } catch {
      return undefined;
    }
  };
}

/** The uncompressed size of an .xz file (`xz --robot --list`: totals, field 5). */
function xzImageBytes(file: string): number {
  const out = execFileSync('xz', ['--robot', '--list', file], { encoding: 'utf8' });
  const totals = out.split('\n').find((l) => l.startsWith('totals\t'));
  const n = Number(totals?.split('\t')[4]);
  if (!Number.isSafeInteger(n)) throw new Error(`xz --list ${file}: no uncompressed size`);
  return n;
}

/**
 * The `triggered` section: `S SYSPATH` per event of `udevadm trigger --type=subsystems`, then
 * `D SYSPATH [SUBSYSTEM]` per event of `--type=devices`, in the order the trigger emitted them.
 * Undefined when the guest wrote no such section (an older init script).
 */
export function parseTriggered(section: string | undefined): CapturedTrigger | undefined {
  if (section === undefined) return undefined;
  const t: CapturedTrigger = { subsystems: [], devices: [] };
  for (const line of section.split('\n')) {
    // a bus driver's name may hold spaces ("/sys/bus/i2c/drivers/CHT Whiskey Cove PMIC")
    const s = /^S (\/sys\/.*?)\s*$/.exec(line);
    if (s !== null) t.subsystems.push(s[1]!);
    const d = /^D (\/sys\/\S+)(?: (\S+))?\s*$/.exec(line);
    if (d !== null) t.devices.push(d[2] !== undefined ? { devpath: d[1]!, subsystem: d[2] } : { devpath: d[1]! });
  }
  return t;
}

/** device name → the modules whose load added a device of that name */
export function addedByLoads(list: readonly DeviceAddedByLoad[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const a of list) {
    const s = out.get(a.device) ?? new Set<string>();
    s.add(a.module);
    out.set(a.device, s);
  }
  return out;
}

/** The capture section as a machine profile (via the same reader as `machines capture`). */
export function captureProfile(capture: string, o: { name: string; release: string; date: string; cpus: number }): MachineProfile {
  const root = mkdtempSync(join(tmpdir(), 'kmodlab-capture-'));
  try {
    const sys = join(root, 'sys');
    const proc = join(root, 'proc');
    mkdirSync(join(sys, 'devices', 'system', 'cpu', 'cpufreq', 'policy0'), { recursive: true });
    mkdirSync(join(sys, 'subsystems'), { recursive: true });
    mkdirSync(proc, { recursive: true });
    for (let i = 0; i < o.cpus; i++) mkdirSync(join(sys, 'devices', 'system', 'cpu', `cpu${i}`), { recursive: true });
    for (const line of capture.split('\n')) {
      const m = /^M (\/sys\/devices\/\S+) (\S+) (.+)$/.exec(line);
      if (m) {
        const dir = join(sys, m[1]!.slice('/sys/'.length));
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'modalias'), `${m[3]!}\n`);
        if (m[2] !== 'none') {
          mkdirSync(join(sys, 'subsystems', m[2]!), { recursive: true });
          try {
            symlinkSync(join(sys, 'subsystems', m[2]!), join(dir, 'subsystem'));
          } catch {
            // a second modalias in one directory: the link is there
          }
        }
        continue;
      }
      const r = /^R MemTotal:\s+(\d+) kB/.exec(line);
      if (r) writeFileSync(join(proc, 'meminfo'), `MemTotal: ${r[1]} kB\n`);
      const c = /^C (cpu:type:\S+)/.exec(line);
      if (c) writeFileSync(join(sys, 'devices', 'system', 'cpu', 'cpu0', 'uevent'), `MODALIAS=${c[1]}\n`);
      const f = /^F (\S+)/.exec(line);
      if (f && f[1] !== 'none') writeFileSync(join(sys, 'devices', 'system', 'cpu', 'cpufreq', 'policy0', 'scaling_driver'), `${f[1]}\n`);
      if (line === 'A 1') mkdirSync(join(sys, 'firmware', 'acpi'), { recursive: true });
    }
    return captureHost({ sysRoot: sys, procRoot: proc, modulesRoot: join(root, 'none'), release: o.release, name: o.name, date: o.date });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export interface ColdplugRecordInput {
  data: DataPort;
  kernelName: string;
  machine: string;
  cpus: number;
  seed: number;
  kernel: TraceKernel;
  sizes: (p: string) => { file: number; image: number } | undefined;
  /** the guest kernel's release: the record names its module tree */
  release?: string;
}

/**
 * One real coldplug's storm record (source 'measured', target 'qemu:NAME'), and the modules whose
 * init failed with what it returned (machine facts for the captured profile).
 */
export function coldplugRun(i: ColdplugRecordInput): { record: StormRunRecord; initFailures: Record<string, number>; devicesAdded: DeviceAddedByLoad[]; triggerTimes: TriggerTimes } {
  const trace = i.data.sections.get('trace');
  if (trace === undefined) throw new Error('coldplug data: no trace section');
  const events = parseFtrace(trace);
  const { figures, initFailures } = coldplugFigures({
    events,
    kernel: i.kernel,
    sizes: i.sizes,
    uevents: Number(fact(i.data, 'uevents') ?? 0),
    ...(i.data.sections.has('stats') ? { moduleStats: i.data.sections.get('stats')! } : {}),
  });
  const record: StormRunRecord = {
    machine: i.machine,
    cpus: i.cpus,
    kernel: i.kernelName,
    seed: i.seed,
    ...figures,
    source: 'measured',
    target: `qemu:${i.kernelName}`,
    ...(i.release !== undefined ? { moduleSet: `the guest's /lib/modules/${i.release}` } : {}),
  };
  return { record, initFailures, devicesAdded: devicesAddedByLoads(events), triggerTimes: triggerTimes(events) };
}

/** One real coldplug's storm record. */
export function coldplugRecord(i: ColdplugRecordInput): StormRunRecord {
  return coldplugRun(i).record;
}
