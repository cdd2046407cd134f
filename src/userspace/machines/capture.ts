/**
 * DOC: `kmodlab machines capture` — record the running Linux host as a machine profile, so a user
 * can simulate their own server at any CPU count.
 *
 * Reads sysfs and procfs only: every `modalias` file under /sys/devices (the walk does not follow
 * symlinks and skips what it cannot read), the cpu modalias, the CPU count, the cpufreq driver in
 * use, whether ACPI is on, RAM from /proc/meminfo, and the release with whether
 * /lib/modules/<release> exists. Timings are the defaults (they cannot be read from sysfs).
 * The roots are parameters so tests can point at a fake tree.
 *
 * Each device's uevent file adds what udev's module-loading rules match on besides the modalias
 * (DEVTYPE, DRIVER, the properties the shipped rules test), and the capture records which of those
 * rules (src/userspace/udev-rules/, for the host's systemd version from `udevadm --version`) the
 * devices hit, so a profile shows when a real coldplug loads modules by rule, not by modalias.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { InputError } from '../../errors.js';
import { CPU_FEATURES } from './cpufeatures.js';
import { DEFAULT_TIMINGS } from './defaults.js';
import { parseMachine } from './load.js';
import { parseCpuModalias } from './modalias.js';
import { X86_VENDORS, type MachineProfile, type MachineProfileInput, type X86Vendor } from './schema.js';
import { execFileSync } from 'node:child_process';
import { kmodLoadsFor, udevRulesFor, type UdevRules } from '../udev-rules/index.js';
import { coldplugDevices, type Uevent } from './coldplug.js';

export interface CaptureOptions {
  sysRoot?: string;
  procRoot?: string;
  modulesRoot?: string;
  release?: string;
  name?: string;
  /** capture time (ISO); default now — a parameter so output can be reproducible */
  date?: string;
  /** the host's systemd (udev) version; default `udevadm --version`, null: unknown */
  systemdVersion?: number | null;
}

/** a device found under /sys/devices: the same fields as the coldplug's uevent it will replay as */
type FoundModalias = Uevent;

/** uevent properties udev rules may test besides MODALIAS, DEVTYPE and DRIVER (kept in the profile) */
function ruleProperties(rules: UdevRules): Set<string> {
  const keys = new Set<string>();
  for (const r of rules.rules) for (const m of [...r.match, ...r.unless.flat()]) {
    const env = /^ENV\{(.+)\}$/.exec(m.key);
    if (env && !['MODALIAS', 'DEVTYPE'].includes(env[1]!)) keys.add(env[1]!);
  }
  return keys;
}

function udevadmVersion(): number | null {
  try {
    const m = /^(\d+)/.exec(execFileSync('udevadm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim());
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** KEY=VALUE lines of a device's uevent file */
function readUevent(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of (tryRead(path.join(dir, 'uevent')) ?? '').split('\n')) {
    const eq = l.indexOf('=');
    if (eq > 0) out.set(l.slice(0, eq), l.slice(eq + 1));
  }
  return out;
}

function tryRead(f: string): string | undefined {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every modalias file under <sysRoot>/devices, in sorted path order (stable output). */
export function walkModaliases(sysRoot: string, wanted: ReadonlySet<string> = new Set()): FoundModalias[] {
  const out: FoundModalias[] = [];
  const top = path.join(sysRoot, 'devices');
  const walk = (dir: string, depth: number): void => {
    if (depth > 64) return;
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of ents) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && e.name === 'modalias') {
        const v = tryRead(p)?.trim();
        if (!v) continue;
        let subsystem = v.slice(0, Math.max(0, v.indexOf(':'))) || 'unknown';
        try {
          subsystem = path.basename(fs.readlinkSync(path.join(dir, 'subsystem')));
        } catch {
          // no subsystem link (e.g. a fake tree): the modalias prefix will do
        }
        const f: FoundModalias = { devpath: path.posix.join('/sys/devices', path.relative(top, dir).split(path.sep).join('/')), subsystem, modalias: v };
        const ue = readUevent(dir);
        if (ue.get('DEVTYPE')) f.devtype = ue.get('DEVTYPE')!;
        if (ue.get('DRIVER')) f.driver = ue.get('DRIVER')!;
        const props: Record<string, string> = {};
        for (const k of wanted) if (ue.has(k)) props[k] = ue.get(k)!;
        if (Object.keys(props).length > 0) f.properties = props;
        out.push(f);
      }
    }
  };
  walk(top, 0);
  return out;
}

function cpuCount(sysRoot: string): number {
  try {
    const n = fs.readdirSync(path.join(sysRoot, 'devices/system/cpu')).filter((f) => /^cpu\d+$/.test(f)).length;
    if (n > 0) return n;
  } catch {
    // fall through
  }
  return Math.max(1, os.cpus().length);
}

function cpufreqDriver(sysRoot: string): string {
  for (const f of ['devices/system/cpu/cpufreq/policy0/scaling_driver', 'devices/system/cpu/cpu0/cpufreq/scaling_driver']) {
    const v = tryRead(path.join(sysRoot, f))?.trim();
    if (v) return v;
  }
  return 'none';
}

function ramBytes(procRoot: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(tryRead(path.join(procRoot, 'meminfo')) ?? '');
  return m ? Number(m[1]) * 1024 : os.totalmem();
}

const featureNames = new Map<number, string>([...CPU_FEATURES].map(([n, v]) => [v, n]));

export function captureHost(opts: CaptureOptions = {}): MachineProfile {
  const sysRoot = opts.sysRoot ?? '/sys';
  const procRoot = opts.procRoot ?? '/proc';
  const release = opts.release ?? os.release();
  const modulesDir = path.join(opts.modulesRoot ?? '/lib/modules', release);
  const modulesDirExists = fs.existsSync(path.join(modulesDir, 'modules.dep'));
  if (!fs.existsSync(path.join(sysRoot, 'devices'))) throw new InputError(`${sysRoot}/devices: not found (machines capture needs a Linux host with sysfs)`);

  const systemdVersion = opts.systemdVersion === undefined ? udevadmVersion() : opts.systemdVersion;
  const rules = udevRulesFor(systemdVersion ?? undefined);
  const found = walkModaliases(sysRoot, ruleProperties(rules));
  let cpuAlias = found.find((d) => d.modalias.startsWith('cpu:type:'))?.modalias;
  if (!cpuAlias) cpuAlias = /^MODALIAS=(.*)$/m.exec(tryRead(path.join(sysRoot, 'devices/system/cpu/cpu0/uevent')) ?? '')?.[1];
  let processorHid: 'ACPI0007' | 'LNXCPU' | undefined;
  let processorParent: string | undefined;
  const devices: MachineProfileInput['devices'] = [];
  for (const d of found) {
    if (d.modalias.startsWith('cpu:type:')) continue; // one per CPU, generated by coldplug
    if (d.modalias === 'acpi:ACPI0007:' || d.modalias === 'acpi:LNXCPU:') {
      processorHid ??= d.modalias === 'acpi:ACPI0007:' ? 'ACPI0007' : 'LNXCPU';
      processorParent ??= path.posix.dirname(d.devpath);
      continue; // one per CPU, generated by coldplug
    }
    devices.push(d);
  }
  const parsed = cpuAlias ? parseCpuModalias(cpuAlias) : undefined;
  const vendor = (Object.entries(X86_VENDORS).find(([, v]) => v === parsed?.vendor)?.[0] ?? 'intel') as X86Vendor;
  const cpu: MachineProfileInput['cpu'] = parsed
    ? { vendor, family: parsed.family, model: parsed.model, features: parsed.features.map((n) => featureNames.get(n) ?? `0x${n.toString(16)}`) }
    : { vendor: 'intel', family: 0, model: 0, features: [], ...(cpuAlias?.startsWith('cpu:type:') ? { modalias: cpuAlias } : {}) };

  const hostname = os.hostname().toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[^a-z0-9]+/, '') || 'host';
  const cpus = cpuCount(sysRoot);
  const profile: MachineProfileInput = {
    name: opts.name ?? hostname,
    description: `captured from ${os.hostname()} (${release}, ${cpus} CPUs)`,
    cpus,
    ramBytes: ramBytes(procRoot),
    cpu,
    acpi: {
      enabled: fs.existsSync(path.join(sysRoot, 'firmware/acpi')) || fs.existsSync(path.join(sysRoot, 'bus/acpi')),
      processorHid: processorHid ?? 'ACPI0007',
      ...(processorParent !== undefined ? { processorParent } : {}),
    },
    cpufreq: { driver: cpufreqDriver(sysRoot) },
    devices,
    moduleSet: 'debian-6.1',
    ...(modulesDirExists ? { modulesDir } : {}),
    udev: { flavour: 'current', ...(systemdVersion !== null ? { systemdVersion } : {}) },
    kmod: { version: 30 },
    timings: { ...DEFAULT_TIMINGS },
    moduleInit: {},
    notes: [
      'Captured by `kmodlab machines capture`: devices, CPU, cpufreq driver and RAM are the host\'s; timings are defaults (estimates), not measurements.',
      systemdVersion !== null
        ? `udev flavour and kmod version are assumed (current systemd ${systemdVersion}, kmod 30); edit them to match the host.`
        : 'udev flavour and kmod version are assumed (current systemd, kmod 30; no udevadm, so only the MODALIAS rule is applied); edit them to match the host.',
    ],
    captured: { date: opts.date ?? new Date().toISOString(), release, modulesDirExists, ...(cpuAlias ? { cpuModalias: cpuAlias } : {}) },
  };
  const machine = parseMachine(profile, 'captured profile');
  // which module-loading rules the coldplug's "add" events hit (nothing loaded yet: a TEST on
  // /sys/module reads as absent, as early in a boot)
  const ruleHits: Record<string, number> = {};
  for (const ev of coldplugDevices(machine)) {
    const props: Record<string, string> = { ...ev.properties, MODALIAS: ev.modalias };
    if (ev.devtype) props.DEVTYPE = ev.devtype;
    const dev = { action: 'add', devpath: ev.devpath, subsystem: ev.subsystem, properties: props, ...(ev.driver ? { driver: ev.driver } : {}) };
    for (const l of kmodLoadsFor(rules.rules, dev, { sysfsExists: () => false })) {
      const k = `${l.rule.file}:${l.rule.line}`;
      ruleHits[k] = (ruleHits[k] ?? 0) + 1;
    }
  }
  machine.captured!.udevRuleHits = ruleHits;
  machine.notes.push(`udev module-loading rules the coldplug events hit (${rules.source}): ${Object.entries(ruleHits).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}.`);
  return machine;
}

/** Write a profile atomically (a crash never leaves half a file). */
export async function writeProfile(profile: MachineProfile, file: string): Promise<void> {
  try {
    await writeFileAtomic(file, `${JSON.stringify(profile, null, 2)}\n`);
  } catch (err) {
    throw new InputError(`${file}: cannot write: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
