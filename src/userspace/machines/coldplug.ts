/**
 * DOC: the "add" uevents a coldplug (`udevadm trigger --action=add`) emits, in the order the
 * trigger emits them, and the ones a module's init emits later.
 *
 * The trigger: when the profile captured a real trigger (`trigger`), first its `--type=subsystems`
 * pass (buses, bus drivers), then every device: the CPUs (all with the same cpu modalias), the
 * ACPI processor devices when ACPI is on (the same acpi modalias each), the platform's devices
 * and the devices without a MODALIAS — sorted by devpath as udevadm's enumerator sorts them
 * (path_compare: component by component, a parent before its children). N CPUs therefore mean N
 * (or 2N) identical `kmod load` requests for every module the CPU and processor aliases match —
 * the source of duplicate loads at boot (spec §8.3).
 *
 * A device the profile says a module creates (`createdBy`: intel_rapl_common's init adds
 * intel_rapl_msr.0) is not there at the trigger: its uevent is the kernel's, sent while that
 * module's init runs (createdDevices gives them per module; src/userspace/behaviour.ts sends them).
 */
import type { Machine } from './load.js';
import { cpuModalias } from './modalias.js';

export interface Uevent {
  devpath: string;
  subsystem: string;
  /** MODALIAS ('' for a device without one) */
  modalias: string;
  /** DEVTYPE (scsi_device, usb_interface, partition, ...) */
  devtype?: string;
  /** the driver bound at the time of the event */
  driver?: string;
  /** the event's other properties udev rules match on (TIFM_CARD_TYPE, MTD_FTL, ...) */
  properties?: Record<string, string>;
}

/** ACPI device instance names are "<HID>:%02x" */
const acpiInstance = (hid: string, i: number): string => `${hid}:${i.toString(16).padStart(2, '0')}`;

/** Where the ACPI processor devices sit: captured, else Device(ACPI0007) under \_SB, legacy Processor() under the root. */
function processorParent(profile: Machine): string {
  if (profile.acpi.processorParent !== undefined) return profile.acpi.processorParent;
  return profile.acpi.processorHid === 'ACPI0007' ? '/sys/devices/LNXSYSTM:00/LNXSYBUS:00' : '/sys/devices/LNXSYSTM:00';
}

/**
 * udevadm's device order (sd-device's enumerator sorts by devpath with path_compare): the paths'
 * components compared in turn, byte-wise, so a device comes right before its children
 * ("memory1" < "memory10" < "memory2", "LNXSYBUS:00/ACPI0010:00" < "LNXSYBUS:01").
 */
export function devpathCompare(a: string, b: string): number {
  return componentsCompare(components(a), components(b));
}

/** a devpath's components, as path_compare walks them */
function components(p: string): string[] {
  return p.split('/').filter(Boolean);
}

function componentsCompare(x: readonly string[], y: readonly string[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}

/**
 * Events sorted by devpath (devpathCompare), stably: each devpath split once, not at every
 * comparison (a machine with 8,192 CPUs has 16,000 events to sort).
 */
function sortedByDevpath(events: readonly Uevent[]): Uevent[] {
  const keys = events.map((e) => components(e.devpath));
  const order = events.map((_, i) => i);
  // Array.prototype.sort is stable: equal devpaths keep the given order
  order.sort((a, b) => componentsCompare(keys[a]!, keys[b]!));
  return order.map((i) => events[i]!);
}

/**
 * The profile's i-th device as its uevent, and the module whose init creates it (if any). The
 * event is the same literal as the CPUs' with the optional fields added after, so every event
 * starts from one shape (udevd reads devpath, subsystem and modalias of each).
 */
function deviceEvent(profile: Machine, i: number): { ev: Uevent; createdBy: string | undefined } {
  const d = profile.devices[i]!;
  const dev = typeof d === 'string' ? { modalias: d } : d;
  const subsystem = dev.subsystem ?? dev.modalias.slice(0, Math.max(0, dev.modalias.indexOf(':'))) ?? 'unknown';
  const ev: Uevent = { devpath: dev.devpath ?? `/sys/devices/kmodlab/${subsystem || 'unknown'}/${i}`, subsystem: subsystem || 'unknown', modalias: dev.modalias };
  if (typeof d === 'string') return { ev, createdBy: undefined };
  if (d.devtype !== undefined) ev.devtype = d.devtype;
  if (d.driver !== undefined) ev.driver = d.driver;
  if (d.properties !== undefined) ev.properties = { ...d.properties };
  return { ev, createdBy: d.createdBy };
}

/** a trigger event without MODALIAS; "%d" in its devpath makes one per CPU */
function plainEvents(e: { devpath: string; subsystem?: string | undefined }, cpus: number): Uevent[] {
  const one = (devpath: string): Uevent => ({ devpath, subsystem: e.subsystem ?? '', modalias: '' });
  if (!e.devpath.includes('%d')) return [one(e.devpath)];
  return Array.from({ length: cpus }, (_, i) => one(e.devpath.replace('%d', String(i))));
}

/*
 * The per-CPU loops are functions of their own: a large machine makes them hot (one event per
 * CPU), and V8 then compiles them alone, not coldplugDevices with everything it calls (compiled
 * again at each deoptimisation, in every worker thread).
 */
function cpuEvents(out: Uevent[], cpus: number, modalias: string): void {
  for (let i = 0; i < cpus; i++) out.push({ devpath: `/sys/devices/system/cpu/cpu${i}`, subsystem: 'cpu', modalias });
}

function acpiEvents(out: Uevent[], cpus: number, parent: string, hid: string): void {
  const modalias = `acpi:${hid}:`;
  for (let i = 0; i < cpus; i++) out.push({ devpath: `${parent}/${acpiInstance(hid, i)}`, subsystem: 'acpi', modalias });
}

/** The trigger's uevents at this CPU count, in the order udevadm emits them. */
export function coldplugDevices(profile: Machine, cpus: number = profile.cpus): Uevent[] {
  const devices: Uevent[] = [];
  const cpuAlias = cpuModalias(profile.cpu);
  cpuEvents(devices, cpus, cpuAlias);
  if (profile.acpi.enabled) acpiEvents(devices, cpus, processorParent(profile), profile.acpi.processorHid);
  for (let i = 0; i < profile.devices.length; i++) {
    const { ev, createdBy } = deviceEvent(profile, i);
    if (createdBy === undefined) devices.push(ev);
  }
  for (const e of profile.trigger?.devices ?? []) devices.push(...plainEvents(e, cpus));
  // equal devpaths keep the profile's order
  const sorted = sortedByDevpath(devices);
  const subsystems = (profile.trigger?.subsystems ?? []).flatMap((e) => plainEvents(e, cpus));
  return [...subsystems, ...sorted];
}

/** The devices each module's init creates (the profile's createdBy), as the uevents it sends. */
export function createdDevices(profile: Machine): Map<string, Uevent[]> {
  const out = new Map<string, Uevent[]>();
  for (let i = 0; i < profile.devices.length; i++) {
    const { ev, createdBy } = deviceEvent(profile, i);
    if (createdBy === undefined) continue;
    const list = out.get(createdBy) ?? [];
    list.push(ev);
    out.set(createdBy, list);
  }
  return out;
}
