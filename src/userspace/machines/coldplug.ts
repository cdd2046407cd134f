/**
 * DOC: the "add" uevents a coldplug (`udevadm trigger --action=add`) emits that carry a MODALIAS,
 * in the order this model replays them: every CPU (all with the same cpu modalias), every ACPI
 * processor device when ACPI is on (the same acpi modalias each), then the platform's devices.
 * N CPUs therefore mean N (or 2N) identical `kmod load` requests for every module the CPU and
 * processor aliases match — the source of duplicate loads at boot (spec §8.3).
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

export function coldplugDevices(profile: Machine, cpus: number = profile.cpus): Uevent[] {
  const out: Uevent[] = [];
  const cpuAlias = cpuModalias(profile.cpu);
  for (let i = 0; i < cpus; i++) out.push({ devpath: `/sys/devices/system/cpu/cpu${i}`, subsystem: 'cpu', modalias: cpuAlias });
  if (profile.acpi.enabled) {
    const hid = profile.acpi.processorHid;
    // Device(ACPI0007) objects sit under \_SB; legacy Processor() objects under the root.
    const parent = hid === 'ACPI0007' ? '/sys/devices/LNXSYSTM:00/LNXSYBUS:00' : '/sys/devices/LNXSYSTM:00';
    for (let i = 0; i < cpus; i++) out.push({ devpath: `${parent}/${acpiInstance(hid, i)}`, subsystem: 'acpi', modalias: `acpi:${hid}:` });
  }
  profile.devices.forEach((d, i) => {
    const dev = typeof d === 'string' ? { modalias: d } : d;
    const subsystem = dev.subsystem ?? dev.modalias.slice(0, Math.max(0, dev.modalias.indexOf(':'))) ?? 'unknown';
    const ev: Uevent = { devpath: dev.devpath ?? `/sys/devices/kmodlab/${subsystem || 'unknown'}/${i}`, subsystem: subsystem || 'unknown', modalias: dev.modalias };
    if (typeof d !== 'string') {
      if (d.devtype !== undefined) ev.devtype = d.devtype;
      if (d.driver !== undefined) ev.driver = d.driver;
      if (d.properties !== undefined) ev.properties = { ...d.properties };
    }
    out.push(ev);
  });
  return out;
}
