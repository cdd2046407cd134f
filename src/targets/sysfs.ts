/**
 * DOC: SysfsTarget — the kmod.sh port on a real Linux host, as root, like kmod.sh itself.
 *
 * Knobs are /sys/devices/virtual/misc/test_kmod0/<knob> (or $DIR): a write is one open(2) +
 * write(2) through fs.openSync/fs.writeSync, so the kernel's own errno comes back (-EINVAL for
 * a bad number, -ENOMEM from trigger_config, …) instead of a shell's message. modprobe, kmod,
 * capsh, date and dmesg are the host's own programs.
 *
 * /proc/sys/kernel/modprobe is global state of the host: the value found before the first
 * write is restored by close(), by a process 'exit' hook, and on SIGINT/SIGTERM (restored
 * synchronously in the signal handler; if nobody else listens for the signal the process then
 * exits with 128 + signal number). A host without test_kmod (no module, or not loadable) shows
 * up in preconditions() as testKmodPresent = false, which the runner turns into kmod.sh's skip
 * (exit 4) — nothing on the host is changed in that case.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants as fsc, closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { constants as osc, release } from 'node:os';
import { delimiter, join } from 'node:path';
import { KnobError, type Preconditions, type ProcessResult, type Target, type WriteResult } from '../selftest/target.js';

export const TEST_KMOD_DIR = '/sys/devices/virtual/misc/test_kmod0/';
export const MODPROBE_SYSCTL = '/proc/sys/kernel/modprobe';

export interface SysfsTargetOptions {
  /** the test_kmod0 directory ($DIR of kmod.sh) */
  dir?: string;
  /** /proc/sys/kernel/modprobe (tests point it elsewhere) */
  modprobeSysctl?: string;
  /** PATH searched for modprobe, kmod and capsh (default: $PATH) */
  path?: string;
  /** install the SIGINT/SIGTERM/exit hooks that restore the modprobe path (default true) */
  signalHooks?: boolean;
}

/** errno number (positive) of a Node system error */
export function errnoOf(e: unknown): number {
  const err = e as NodeJS.ErrnoException;
  if (typeof err.errno === 'number' && err.errno !== 0) return Math.abs(err.errno);
  const code = err.code;
  const n = code !== undefined ? (osc.errno as Record<string, number>)[code] : undefined;
  return n ?? 5; // EIO when nothing better is known
}

function run(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...(env ? { env } : {}) }, (err, stdout, stderr) => {
      if (err === null) return resolve({ exitCode: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: string | number };
      if (typeof e.code === 'number') return resolve({ exitCode: e.code, stdout, stderr });
      // spawn failure (ENOENT …): like a shell's "command not found"
      resolve({ exitCode: e.code === 'ENOENT' ? 127 : 126, stdout, stderr: stderr || `${file}: ${e.message}\n` });
    });
  });
}

export class SysfsTarget implements Target {
  readonly name = 'sysfs';
  readonly kernel = release();
  private readonly dir: string;
  private readonly sysctl: string;
  private readonly pathDirs: string[];
  /** the modprobe path before our first write, or null if we never wrote */
  private original: string | null = null;
  private hooks: { sig: NodeJS.Signals; fn: () => void }[] = [];
  private exitHook: (() => void) | null = null;
  private closed = false;

  constructor(opts: SysfsTargetOptions = {}) {
    const d = opts.dir ?? TEST_KMOD_DIR;
    this.dir = d.endsWith('/') ? d : `${d}/`;
    this.sysctl = opts.modprobeSysctl ?? MODPROBE_SYSCTL;
    this.pathDirs = (opts.path ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).filter((p) => p !== '');
    if (opts.signalHooks ?? true) this.installHooks();
  }

  /** `which NAME`: the first executable NAME in PATH */
  which(name: string): string | null {
    for (const d of this.pathDirs) {
      const f = join(d, name);
      try {
        accessSync(f, fsc.X_OK);
        if (statSync(f).isFile()) return f;
      } catch {
        /* not here */
      }
    }
    return null;
  }

  async preconditions(): Promise<Preconditions> {
    const kmod = this.which('kmod');
    let kmodVersion: number | null = null;
    if (kmod !== null) {
      const r = await run(kmod, ['--version']);
      const m = /kmod version (\d+)/.exec(r.stdout);
      kmodVersion = m ? Number.parseInt(m[1]!, 10) : null;
    }
    let present = false;
    try {
      present = statSync(this.dir).isDirectory();
    } catch {
      present = false;
    }
    return {
      root: typeof process.getuid === 'function' && process.getuid() === 0,
      modprobe: this.which('modprobe') !== null,
      kmod: kmod !== null,
      kmodVersion,
      testKmodPresent: present,
    };
  }

  loadTestKmod(): Promise<ProcessResult> {
    return this.modprobe(['test_kmod']);
  }

  async readKnob(knob: string): Promise<string> {
    try {
      return readFileSync(this.dir + knob, 'utf8');
    } catch (e) {
      throw new KnobError(knob, -errnoOf(e));
    }
  }

  async writeKnob(knob: string, data: string): Promise<WriteResult> {
    let fd: number;
    try {
      fd = openSync(this.dir + knob, fsc.O_WRONLY);
    } catch (e) {
      return -errnoOf(e);
    }
    try {
      return writeSync(fd, Buffer.from(data, 'utf8'));
    } catch (e) {
      return -errnoOf(e);
    } finally {
      closeSync(fd);
    }
  }

  async modprobe(args: string[]): Promise<ProcessResult> {
    const mp = this.which('modprobe');
    if (mp === null) return { exitCode: 127, stdout: '', stderr: 'modprobe: command not found\n' };
    return run(mp, args);
  }

  async readModprobePath(): Promise<string> {
    return readFileSync(this.sysctl, 'utf8').replace(/\n$/, '');
  }

  async writeModprobePath(path: string): Promise<void> {
    if (this.original === null) this.original = await this.readModprobePath();
    writeFileSync(this.sysctl, `${path}\n`);
  }

  async readFile(path: string, opts: { dropCapSyslog?: boolean } = {}): Promise<string> {
    if (!opts.dropCapSyslog) return readFileSync(path, 'utf8');
    const capsh = this.which('capsh');
    if (capsh === null) throw new Error('capsh: command not found');
    const r = await run(capsh, ['--drop=CAP_SYSLOG', '--', '-c', `cat '${path.replace(/'/g, `'\\''`)}'`]);
    if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `capsh exited ${r.exitCode}`);
    return r.stdout;
  }

  async listDir(path: string): Promise<string[]> {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  }

  async date(): Promise<string> {
    const r = await run('date', [], { ...process.env, LC_ALL: 'C' });
    return r.stdout.replace(/\n$/, '');
  }

  async kernelLog(): Promise<string> {
    const r = await run('dmesg', []);
    return r.exitCode === 0 ? r.stdout : '';
  }

  /** put the modprobe path back if we changed it (synchronous: used from signal/exit hooks) */
  restoreSync(): void {
    if (this.original === null) return;
    try {
      if (existsSync(this.sysctl)) writeFileSync(this.sysctl, `${this.original}\n`);
    } catch {
      /* nothing more we can do from a hook */
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.restoreSync();
    this.original = null;
    for (const h of this.hooks) process.removeListener(h.sig, h.fn);
    this.hooks = [];
    if (this.exitHook !== null) process.removeListener('exit', this.exitHook);
    this.exitHook = null;
  }

  private installHooks(): void {
    const signals: [NodeJS.Signals, number][] = [
      ['SIGINT', 2],
      ['SIGTERM', 15],
    ];
    for (const [sig, num] of signals) {
      const fn = (): void => {
        this.restoreSync();
        // alone: behave like the default action; otherwise the other listener (the CLI) decides
        if (process.listenerCount(sig) <= 1) process.exit(128 + num);
      };
      process.on(sig, fn);
      this.hooks.push({ sig, fn });
    }
    this.exitHook = () => this.restoreSync();
    process.on('exit', this.exitHook);
  }
}
