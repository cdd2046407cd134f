/**
 * DOC: boot a prepared kernel once and coldplug it (scripts/coldplug/init), the way a
 * distribution boot does, on the kind of KVM guest the upstream measurements used.
 *
 * The machine: q35 (ACPI processors, PCIe), a named x86 CPU model so the cpu modalias carries a
 * real family, model and feature list (default Cascadelake-Server, a server part of the era of the
 * upstream 255-vCPU measurements), a virtio disk and a virtio NIC, N vCPUs. Serial port 0 is the
 * kernel console, port 1 the data channel the init script writes its trace and facts to; both go
 * to files in the run's log directory, which is kept whatever happens. The kernel command line has
 * `quiet`, as Debian's boots do: a serial console printing every load message would slow the guest
 * in a way a real boot does not; and `no_timer_check`, as cloud images have, because on an
 * overloaded host the IO-APIC timer check of a TCG guest can fail and panic before init.
 *
 * A guest that does not finish in time (settle hangs, the kernel locks up) is killed and reported
 * as ColdplugTimeout (exit 124) with its logs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../../errors.js';
import type { PreparedKernel } from '../prepare.js';

export const DEFAULT_CPU_MODEL = 'Cascadelake-Server';
export const DEFAULT_MACHINE_TYPE = 'q35';

export class ColdplugTimeout extends Error {
  readonly exitCode = 124;
}

/** A guest that ended without the init script's KML-DONE (panic, early death). */
export class ColdplugFailed extends Error {
  readonly exitCode = 3;
}

/** A guest that died before its init ran: nothing of the coldplug happened (the boot may be retried). */
export class ColdplugNotStarted extends ColdplugFailed {}

export interface ColdplugBootOptions {
  cpus: number;
  cpuModel?: string;
  machineType?: string;
  accel?: 'tcg' | 'kvm';
  memMiB?: number;
  /** udevadm settle --timeout (s) */
  settleTimeoutS?: number;
  /** kill the guest after this long (s) */
  timeoutS?: number;
  /** where console.log, data.log and qemu.log go (kept) */
  logDir: string;
  qemu?: string;
}

export interface ColdplugBoot {
  /** the data port's text (KML- sections) */
  data: string;
  console: string;
  /** host wall time from QEMU's start to its exit */
  wallMs: number;
  memMiB: number;
  cpuModel: string;
  machineType: string;
  accel: 'tcg' | 'kvm';
}

interface QemuCaps {
  machines: Map<string, number>;
  cpuModels: Set<string>;
}

const capsCache = new Map<string, QemuCaps>();

/** What this QEMU can boot: machine types with their vCPU limit, CPU models (asked over QMP). */
export async function qemuCaps(qemu = 'qemu-system-x86_64'): Promise<QemuCaps> {
  const have = capsCache.get(qemu);
  if (have) return have;
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(qemu, ['-machine', 'none', '-qmp', 'stdio', '-display', 'none', '-nodefaults'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => chunks.push(b));
    p.on('error', (e) => reject(new InputError(`${qemu}: cannot run (${e.message}); install qemu-system-x86`)));
    p.on('close', () => resolve(Buffer.concat(chunks).toString()));
    p.stdin.end('{"execute":"qmp_capabilities"}\n{"execute":"query-machines"}\n{"execute":"query-cpu-definitions"}\n{"execute":"quit"}\n');
  });
  const caps: QemuCaps = { machines: new Map(), cpuModels: new Set() };
  for (const line of out.split('\n')) {
    let msg: { return?: unknown };
    try {
      msg = JSON.parse(line) as { return?: unknown };
    } catch {
      continue;
    }
    if (!Array.isArray(msg.return)) continue;
    for (const r of msg.return as Record<string, unknown>[]) {
      if (typeof r['cpu-max'] === 'number') {
        caps.machines.set(String(r.name), r['cpu-max']);
        if (typeof r.alias === 'string') caps.machines.set(r.alias, r['cpu-max']);
      } else if (typeof r.typename === 'string') caps.cpuModels.add(String(r.name));
    }
  }
  if (caps.machines.size === 0) throw new InputError(`${qemu}: did not list its machine types over QMP`);
  capsCache.set(qemu, caps);
  return caps;
}

/** The checks a bad option fails before any boot: machine type, CPU model, vCPU count. */
export async function checkColdplugMachine(cpus: readonly number[], cpuModel: string, machineType: string, qemu?: string): Promise<void> {
  const caps = await qemuCaps(qemu);
  const max = caps.machines.get(machineType);
  if (max === undefined) throw new InputError(`--machine-type ${machineType}: unknown to QEMU (e.g. q35, pc)`);
  if (!caps.cpuModels.has(cpuModel)) throw new InputError(`--cpu-model ${cpuModel}: unknown to QEMU (see qemu-system-x86_64 -cpu help)`);
  for (const n of cpus) if (n > max) throw new InputError(`--cpus ${n}: machine type ${machineType} boots at most ${max} vCPUs`);
}

/** Guest RAM: room for the image twice (the archive and its unpacked copy), plus per-vCPU slack. */
export function coldplugMemMiB(imageBytes: number, cpus: number): number {
  return 1536 + Math.ceil((2 * imageBytes) / 2 ** 20) + 64 * cpus;
}

export async function bootColdplug(prepared: PreparedKernel, initramfs: string, o: ColdplugBootOptions): Promise<ColdplugBoot> {
  const cpuModel = o.cpuModel ?? DEFAULT_CPU_MODEL;
  const machineType = o.machineType ?? DEFAULT_MACHINE_TYPE;
  const accel = o.accel ?? 'tcg';
  const memMiB = o.memMiB ?? 4096;
  const settle = o.settleTimeoutS ?? 600;
  const timeoutS = o.timeoutS ?? settle + 600;
  mkdirSync(o.logDir, { recursive: true });
  const consoleLog = join(o.logDir, 'console.log');
  const dataLog = join(o.logDir, 'data.log');
  const disk = join(o.logDir, 'disk.raw');
  for (const f of [consoleLog, dataLog]) writeFileSync(f, '');
  // an empty virtio disk: its device is what udev sees (virtio_blk), nothing is read from it
  writeFileSync(disk, '');
  truncateSync(disk, 64 * 2 ** 20);
  const args = [
    '-accel', accel,
    '-machine', machineType,
    '-cpu', accel === 'kvm' && cpuModel === 'host' ? 'host' : cpuModel,
    '-smp', String(o.cpus), '-m', String(memMiB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', prepared.vmlinuz, '-initrd', initramfs,
    // kml.spans: the init's do_one_initcall/synchronize_rcu probes, for calibration only (arming
    // them once hung a 2-vCPU guest; scripts/coldplug/init)
    '-append', `console=ttyS0,115200 panic=1 quiet no_timer_check rdinit=/init kml.settle=${settle}${process.env.KMODLAB_COLDPLUG_SPANS === '1' ? ' kml.spans=1' : ''}`,
    '-serial', `file:${consoleLog}`, '-serial', `file:${dataLog}`,
    '-drive', `file=${disk},format=raw,if=virtio,cache=unsafe`,
    '-netdev', 'user,id=n0,restrict=on', '-device', 'virtio-net-pci,netdev=n0',
  ];
  writeFileSync(join(o.logDir, 'qemu.cmd'), [o.qemu ?? 'qemu-system-x86_64', ...args].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ') + '\n');
  const t0 = Date.now();
  const stderr: Buffer[] = [];
  let timedOut = false;
  const code = await new Promise<number>((resolve, reject) => {
    const p = spawn(o.qemu ?? 'qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr.on('data', (b: Buffer) => stderr.push(b));
    const t = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutS * 1000);
    const stop = () => p.kill('SIGKILL');
    process.once('exit', stop);
    p.on('error', (e) => {
      clearTimeout(t);
      reject(new InputError(`qemu: cannot run (${e.message})`));
    });
    p.on('close', (c) => {
      clearTimeout(t);
      process.removeListener('exit', stop);
      resolve(c ?? -1);
    });
  });
  const wallMs = Date.now() - t0;
  writeFileSync(join(o.logDir, 'qemu.log'), Buffer.concat(stderr));
  const data = existsSync(dataLog) ? readFileSync(dataLog, 'utf8').replace(/\r/g, '') : '';
  const console = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8').replace(/\r/g, '') : '';
  if (timedOut) throw new ColdplugTimeout(`${prepared.name} at ${o.cpus} vCPUs: no result after ${timeoutS} s; logs in ${o.logDir}`);
  if (/KML-FACT settled timeout/.test(data))
    throw new ColdplugTimeout(`${prepared.name} at ${o.cpus} vCPUs: udevadm settle timed out after ${settle} s; logs in ${o.logDir}`);
  if (!/^KML-DONE/m.test(data)) {
    if (!/^KML-FACT release/m.test(data)) {
      const why = /Kernel panic[^\n]*/.exec(console)?.[0] ?? `qemu exit ${code}`;
      throw new ColdplugNotStarted(`${prepared.name} at ${o.cpus} vCPUs: the guest never reached init (${why}); logs in ${o.logDir}`);
    }
    const why = /Kernel panic[^\n]*/.exec(console)?.[0] ?? Buffer.concat(stderr).toString().trim().split('\n').slice(-1)[0] ?? `qemu exit ${code}`;
    throw new ColdplugFailed(`${prepared.name} at ${o.cpus} vCPUs: the guest ended before the coldplug finished (${why}); logs in ${o.logDir}`);
  }
  return { data, console, wallMs, memMiB, cpuModel, machineType, accel };
}
