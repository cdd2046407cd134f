/**
 * DOC: SysfsTarget — the kmod.sh port on a real Linux host, as root, like kmod.sh itself.
 *
 * Knobs are /sys/devices/virtual/misc/test_kmod0/<knob> (or $DIR): a write is one open(2) +
 * write(2) through fs.openSync/fs.writeSync, so the kernel's own errno comes back (-EINVAL for
 * a bad number, -ENOMEM from trigger_config, …) instead of a shell's message. modprobe, kmod,
 * capsh, date and dmesg are the host's own programs.
 *
 * /proc/sys/kernel/modprobe is global state of the host: the value found before the first
 * write is restored by close(), by a process 'exit' hook, and on every catchable signal that
 * would end the process — SIGINT, SIGTERM, SIGHUP (a dropped ssh session), SIGQUIT and the rest
 * (restored synchronously in the signal handler; if nobody else listens for the signal the
 * process then exits with 128 + signal number). SIGKILL cannot be caught, so before the first
 * write the original is also recorded in a state file (/run/kmodlab/sysfs-modprobe.json; /run
 * is emptied at boot, as the sysctl is reset): a run that finds one left by a dead process puts
 * that original back first and says so — the broken value never becomes the next run's
 * "original" — and `kmodlab selftest --target sysfs --restore` does only that. The state file
 * goes when the path is restored. A host without test_kmod (no module, or not loadable) shows
 * up in preconditions() as testKmodPresent = false, which the runner turns into kmod.sh's skip
 * (exit 4) — nothing on the host is changed in that case.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants as fsc, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { constants as osc, release } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { KnobError, type Preconditions, type ProcessResult, type Target, type WriteResult } from '../selftest/target.js';

export const TEST_KMOD_DIR = '/sys/devices/virtual/misc/test_kmod0/';
export const MODPROBE_SYSCTL = '/proc/sys/kernel/modprobe';
/** where the original modprobe path is kept while a run has changed it (tmpfs: gone after a reboot, like the change) */
export const MODPROBE_STATE_FILE = '/run/kmodlab/sysfs-modprobe.json';

/**
 * The signals whose default action ends the process and that a process can catch (not SIGKILL,
 * SIGSTOP; not the synchronous SIGSEGV/SIGBUS/SIGFPE/SIGILL, nor SIGUSR1, Node's inspector's).
 */
export const RESTORE_SIGNALS: readonly NodeJS.Signals[] = (
  ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ', 'SIGPWR', 'SIGSTKFLT'] as NodeJS.Signals[]
).filter((s) => (osc.signals as Record<string, number | undefined>)[s] !== undefined);

/** What the state file holds: the sysctl changed, its value before, and who changed it. */
export interface ModprobeState {
  sysctl: string;
  original: string;
  pid: number;
  time: string;
}

/** the state file of a sysctl: the host's in /run; one pointed elsewhere (tests) keeps its state beside it, never in /run */
export function stateFileFor(sysctl: string | undefined): string {
  return sysctl === undefined ? MODPROBE_STATE_FILE : `${sysctl}.kmodlab-state.json`;
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readState(stateFile: string): ModprobeState | null {
  let text: string;
  try {
    text = readFileSync(stateFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InputError(`${stateFile}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let v: Partial<ModprobeState>;
  try {
    v = JSON.parse(text) as Partial<ModprobeState>;
  } catch {
    throw new InputError(`${stateFile}: not JSON (remove it once /proc/sys/kernel/modprobe is right)`);
  }
  if (typeof v?.sysctl !== 'string' || typeof v.original !== 'string' || typeof v.pid !== 'number') {
    throw new InputError(`${stateFile}: not a kmodlab modprobe state file (remove it once /proc/sys/kernel/modprobe is right)`);
  }
  return { sysctl: v.sysctl, original: v.original, pid: v.pid, time: typeof v.time === 'string' ? v.time : '' };
}

/** write the state file atomically (temp + rename), so a kill during the write leaves the old or the new one */
function writeState(stateFile: string, state: ModprobeState): void {
  mkdirSync(dirname(stateFile), { recursive: true, mode: 0o755 });
  const tmp = `${stateFile}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o644 });
  renameSync(tmp, stateFile);
}

/**
 * Put back the modprobe path an earlier run left changed, from its state file: returns one line
 * saying what was done, or null when there is no state file. A state file of a process still
 * running is not touched (that run restores its own); one whose sysctl is another file is
 * refused (this run would restore the wrong one).
 */
export function restoreFromState(opts: { sysctl?: string; stateFile?: string } = {}): string | null {
  const sysctl = opts.sysctl ?? MODPROBE_SYSCTL;
  const stateFile = opts.stateFile ?? stateFileFor(opts.sysctl);
  const st = readState(stateFile);
  if (st === null) return null;
  if (st.pid !== process.pid && pidAlive(st.pid)) {
    throw new InputError(`${sysctl}: changed by a kmodlab run still going (pid ${st.pid}, state file ${stateFile}); wait for it to end`);
  }
  if (st.sysctl !== sysctl) throw new InputError(`${stateFile}: records ${st.sysctl}, not ${sysctl}`);
  let was: string;
  try {
    was = readFileSync(sysctl, 'utf8').replace(/\n$/, '');
    writeFileSync(sysctl, `${st.original}\n`);
  } catch (e) {
    throw new InputError(`${sysctl}: cannot restore it to '${st.original}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    unlinkSync(stateFile);
  } catch {
    /* restored all the same */
  }
  return `restored ${sysctl} to '${st.original}' (an earlier run, pid ${st.pid}${st.time !== '' ? ` at ${st.time}` : ''}, left it as '${was}')`;
}

export interface SysfsTargetOptions {
  /** the test_kmod0 directory ($DIR of kmod.sh) */
  dir?: string;
  /** /proc/sys/kernel/modprobe (tests point it elsewhere) */
  modprobeSysctl?: string;
  /** PATH searched for modprobe, kmod and capsh (default: $PATH) */
  path?: string;
  /** install the signal and exit hooks that restore the modprobe path (default true) */
  signalHooks?: boolean;
  /** the state file holding the original while it is changed (default MODPROBE_STATE_FILE; with modprobeSysctl, beside that file) */
  stateFile?: string;
  /** told, in one line, when an earlier run's change is put back before this run's first write */
  onRestore?: (line: string) => void;
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
  private readonly stateFile: string;
  private readonly onRestore: (line: string) => void;
  private readonly pathDirs: string[];
  /** the modprobe path before our first write, or null if we never wrote */
  private original: string | null = null;
  /** the state file holds `original` (false again once the path is restored) */
  private stateRecorded = false;
  /** an earlier run's state file was looked for */
  private recovered = false;
  private hooks: { sig: NodeJS.Signals; fn: () => void }[] = [];
  private exitHook: (() => void) | null = null;
  private closed = false;

  constructor(opts: SysfsTargetOptions = {}) {
    const d = opts.dir ?? TEST_KMOD_DIR;
    this.dir = d.endsWith('/') ? d : `${d}/`;
    this.sysctl = opts.modprobeSysctl ?? MODPROBE_SYSCTL;
    this.stateFile = opts.stateFile ?? stateFileFor(opts.modprobeSysctl);
    this.onRestore = opts.onRestore ?? (() => {});
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

  /**
   * Once, before the sysctl is first read or written: an earlier run killed before it could
   * restore left a state file, whose original is the real one (kmod.sh reads the path at its
   * start to put it back at its end: it must not read the broken value)
   */
  private recoverOnce(): void {
    if (this.recovered) return;
    this.recovered = true;
    const note = restoreFromState({ sysctl: this.sysctl, stateFile: this.stateFile });
    if (note !== null) this.onRestore(note);
  }

  async readModprobePath(): Promise<string> {
    if (this.original === null) this.recoverOnce();
    return readFileSync(this.sysctl, 'utf8').replace(/\n$/, '');
  }

  async writeModprobePath(path: string): Promise<void> {
    if (this.original === null) {
      this.recoverOnce();
      const original = await this.readModprobePath();
      try {
        writeState(this.stateFile, { sysctl: this.sysctl, original, pid: process.pid, time: new Date().toISOString() });
      } catch (e) {
        throw new InputError(`${this.stateFile}: cannot record the original modprobe path before changing it: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      this.original = original;
      this.stateRecorded = true;
    } else if (!this.stateRecorded) {
      // restored by a signal hook whose process went on: record it again before changing it again
      writeState(this.stateFile, { sysctl: this.sysctl, original: this.original, pid: process.pid, time: new Date().toISOString() });
      this.stateRecorded = true;
    }
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
      return; // not restored: the state file stays for the next run or --restore
    }
    this.stateRecorded = false;
    try {
      unlinkSync(this.stateFile);
    } catch {
      /* gone already */
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
    for (const sig of RESTORE_SIGNALS) {
      const num = (osc.signals as Record<string, number>)[sig]!;
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
