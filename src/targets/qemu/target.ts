/**
 * DOC: QemuTarget — the selftest runner's Target on a real kernel booted under QEMU.
 *
 * Every knob read or write, modprobe, /proc read and `date` is one agent request, so the runner
 * sees exactly what the real kernel answered: a sysfs store's return value is the write(2)
 * result (byte count or -errno), reads carry the real errno. kmod.sh writes the modprobe path
 * with `echo`, i.e. with a trailing newline, and so does writeModprobePath. The VM is the run's
 * own: close() restores the modprobe path anyway (the Target contract), keeps the console log,
 * then powers the guest off.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { KnobError, type Preconditions, type ProcessResult, type Target, type WriteResult } from '../../selftest/target.js';
import { bootGuest, type BootOptions, type Guest } from './boot.js';
import type { SessionOutcome } from './outcome.js';
import { readPrepared, type PreparedKernel } from './prepare.js';
import type { ExecResult } from './session.js';
import { resolveKernelSpec } from './user-kernels.js';

export const TEST_KMOD_DIR = '/sys/devices/virtual/misc/test_kmod0';

export interface QemuTargetOptions extends BootOptions {
  /** where to keep console.log / dmesg.log / qemu.log at close (none when unset) */
  logDir?: string;
}

/**
 * "qemu:debian-6.1" or "debian-6.1" → "debian-6.1": a built-in kernel or one prepared with
 * --from-build in the cache (throws InputError on anything else).
 */
export function parseQemuTargetName(spec: string, cache?: string): string {
  const name = spec.startsWith('qemu:') ? spec.slice(5) : spec;
  resolveKernelSpec(name, cache);
  return name;
}

export function toProcessResult(r: ExecResult): ProcessResult {
  // a signal or a guest-side kill reads like a shell's 128+N / 124
  const exitCode = r.status === 'exit' ? r.code : r.status === 'signal' ? 128 + r.code : 124;
  return { exitCode, stdout: r.stdout, stderr: r.stderr };
}

export class QemuTarget implements Target {
  readonly name: string;
  readonly kernel: string;
  private savedModprobePath: string | null = null;
  private closed = false;
  private finalOutcome: SessionOutcome | null = null;

  private constructor(
    readonly prepared: PreparedKernel,
    readonly guest: Guest,
    private readonly opts: QemuTargetOptions,
  ) {
    this.name = `qemu:${prepared.name}`;
    this.kernel = guest.session.release || prepared.release;
  }

  /** Boot the prepared kernel NAME (or "qemu:NAME"). */
  static async open(spec: string, opts: QemuTargetOptions = {}): Promise<QemuTarget> {
    const name = parseQemuTargetName(spec, opts.cache);
    const prepared = readPrepared(name, opts.cache);
    if (!prepared) throw new InputError(`--target qemu:${name}: kernel not prepared; run \`kmodlab kernel prepare ${name}\``);
    const guest = await bootGuest(prepared, opts);
    const t = new QemuTarget(prepared, guest, opts);
    t.savedModprobePath = await t.readModprobePath();
    return t;
  }

  async preconditions(): Promise<Preconditions> {
    const s = this.guest.session;
    const id = await s.exec(['id', '-u'], 10_000);
    const which = await s.exec(['sh', '-c', 'command -v modprobe; echo; command -v kmod'], 10_000);
    const [modprobe, kmod] = which.stdout.split('\n\n').map((x) => x.trim());
    const ver = await s.exec(['kmod', '--version'], 10_000);
    const m = /kmod version (\d+)/.exec(ver.stdout);
    const dir = await s.exec(['test', '-d', TEST_KMOD_DIR], 10_000);
    return {
      root: id.stdout.trim() === '0',
      modprobe: !!modprobe,
      kmod: !!kmod,
      kmodVersion: m ? Number(m[1]) : null,
      testKmodPresent: dir.status === 'exit' && dir.code === 0,
    };
  }

  async loadTestKmod(): Promise<ProcessResult> {
    return this.modprobe(['test_kmod']);
  }

  async readKnob(knob: string): Promise<string> {
    const r = await this.guest.session.readFile(`${TEST_KMOD_DIR}/${knob}`);
    if (r.errno !== 0) throw new KnobError(knob, r.errno);
    return r.data;
  }

  async writeKnob(knob: string, data: string): Promise<WriteResult> {
    return this.guest.session.writeFile(`${TEST_KMOD_DIR}/${knob}`, data);
  }

  async modprobe(args: string[]): Promise<ProcessResult> {
    return toProcessResult(await this.guest.session.exec(['modprobe', ...args], 120_000));
  }

  async readModprobePath(): Promise<string> {
    const r = await this.guest.session.readFile('/proc/sys/kernel/modprobe');
    if (r.errno !== 0) throw new Error(`/proc/sys/kernel/modprobe: read failed with ${r.errno}`);
    return r.data.replace(/\n$/, '');
  }

  async writeModprobePath(path: string): Promise<void> {
    const n = await this.guest.session.writeFile('/proc/sys/kernel/modprobe', `${path}\n`);
    if (n < 0) throw new Error(`/proc/sys/kernel/modprobe: write failed with ${n}`);
  }

  async readFile(path: string, opts: { dropCapSyslog?: boolean } = {}): Promise<string> {
    if (opts.dropCapSyslog) {
      // capsh runs bash -c SCRIPT ARG0: the path goes in as $0, never into the script text
      const r = await this.guest.session.exec(['capsh', '--drop=cap_syslog', '--', '-c', 'exec cat -- "$0"', path], 30_000);
      if (r.status !== 'exit' || r.code !== 0) throw new Error(`${path}: read without CAP_SYSLOG failed: ${r.stderr.trim()}`);
      return r.stdout;
    }
    const r = await this.guest.session.readFile(path);
    if (r.errno !== 0) throw new Error(`${path}: read failed with ${r.errno}`);
    return r.data;
  }

  async listDir(path: string): Promise<string[]> {
    const r = await this.guest.session.exec(['ls', '-a', '-1', '--', path], 30_000);
    if (r.status !== 'exit' || r.code !== 0) return [];
    return r.stdout.split('\n').filter((n) => n !== '' && n !== '.' && n !== '..');
  }

  async date(): Promise<string> {
    return (await this.guest.session.exec(['date'], 10_000)).stdout.replace(/\n$/, '');
  }

  async kernelLog(): Promise<string> {
    const r = await this.guest.session.exec(['dmesg'], 60_000);
    return r.status === 'exit' && r.code === 0 ? r.stdout : this.guest.session.consoleLog();
  }

  /** How the session ended (final after close()). */
  outcome(): SessionOutcome {
    return this.finalOutcome ?? this.guest.session.outcome();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let dmesg = '';
    try {
      if (this.savedModprobePath !== null) await this.writeModprobePath(this.savedModprobePath);
      if (this.opts.logDir) dmesg = await this.kernelLog();
    } catch {
      // a dead guest cannot be restored; the outcome says why
    }
    this.finalOutcome = await this.guest.shutdown();
    if (this.opts.logDir) {
      mkdirSync(this.opts.logDir, { recursive: true });
      writeFileSync(join(this.opts.logDir, 'console.log'), this.guest.session.consoleLog());
      if (dmesg) writeFileSync(join(this.opts.logDir, 'dmesg.log'), dmesg);
      writeFileSync(join(this.opts.logDir, 'qemu.log'), this.guest.qemuStderr());
      writeFileSync(
        join(this.opts.logDir, 'session.json'),
        JSON.stringify(
          {
            target: this.name,
            kernel: this.kernel,
            version: this.prepared.version,
            accel: this.guest.accel,
            cpus: this.guest.cpus,
            memMiB: this.guest.memMiB,
            bootMs: this.guest.bootMs,
            outcome: this.finalOutcome,
          },
          null,
          2,
        ) + '\n',
      );
    }
  }
}
