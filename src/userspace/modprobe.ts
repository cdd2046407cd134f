/**
 * DOC: the modprobe program (kmod's tools/modprobe), as a simulated process (spec §8.1).
 *
 * Why it exists: every request_module() ends in a usermode helper that execs
 * `/sbin/modprobe -q -- NAME`, and the value the kernel hands back is modprobe's wait status
 * (exit 1 → 256). N concurrent request_module("X") calls are N modprobe processes, each with its
 * own libkmod context, racing exactly like udev workers; what they exit with, and when, decides
 * kmod.sh's outcomes. The selftest also runs `modprobe -r` between tests, whose exit codes abort
 * the script.
 *
 * A run costs the machine profile's timings: process start up to the lookup result
 * (modprobeStartNs: fork, exec, libkmod context, config, index load), then libkmod's sysfs reads
 * and file opens, then the kernel's own time inside the syscalls. CPU work is spent on the
 * machine's CpuPool.
 *
 * Messages and exit codes (stderr, "modprobe: " prefix as the real tool prints them):
 *   not found            "FATAL: Module %s not found in directory %s"   exit 1 (silent with -q)
 *   insert failed        "ERROR: could not insert '%s': %s"             exit 1
 *   -r, not loaded       (nothing)                                       exit 0
 *   -r, built in         "FATAL: Module %s is builtin."                  exit 1
 *   -r, in use           "FATAL: Module %s is in use."                   exit 1
 * The kernel's -EEXIST ("already loaded", or an init that returned -EEXIST) is success unless
 * --first-time.
 *
 * Two look-only modes print what the real tool prints and touch nothing: -R/--resolve-alias (the
 * lookup's module names, one per matching entry, repeats kept) and -D/--show-depends (each
 * module's probe list as insmod/install/builtin lines, whatever is loaded).
 */
import { O_NONBLOCK, type Task } from '../kernel/api.js';
import { EEXIST, strerror } from '../kernel/errno.js';
import type { Proc } from '../sim/index.js';
import type { Program } from './fs.js';
import { KmodCtx, mod_strerror, spend, type KmodConfig, type KmodHost, type KmodIndex, type KmodModule, type ProbeFlags } from './libkmod.js';

export interface ModprobeEnv {
  host: KmodHost;
  index: KmodIndex;
  kmodVersion: number;
  /** process start up to the lookup result: fork+exec, libkmod context, config, index load */
  startNs: number;
  config?: KmodConfig;
}

/** What a run printed, for targets that show it (the selftest's `modprobe` calls). */
export interface ModprobeIo {
  stdout: string[];
  stderr: string[];
}

export interface ModprobeResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

interface Args {
  remove: boolean;
  quiet: boolean;
  firstTime: boolean;
  all: boolean;
  dryRun: boolean;
  ignoreInstall: boolean;
  useBlacklist: boolean;
  verbose: boolean;
  resolveAlias: boolean;
  showDepends: boolean;
  names: string[];
  options: string;
}

/** the flag options (made once: every request_module runs a modprobe) */
const LONGS: Readonly<Record<string, keyof Args>> = {
  '--remove': 'remove', '--quiet': 'quiet', '--first-time': 'firstTime', '--all': 'all', '--dry-run': 'dryRun', '--show': 'dryRun',
  '--ignore-install': 'ignoreInstall', '--use-blacklist': 'useBlacklist', '--verbose': 'verbose',
  '--resolve-alias': 'resolveAlias', '--show-depends': 'showDepends',
};
const SHORTS: Readonly<Record<string, keyof Args>> = {
  r: 'remove', q: 'quiet', a: 'all', n: 'dryRun', i: 'ignoreInstall', b: 'useBlacklist', v: 'verbose', R: 'resolveAlias', D: 'showDepends',
};

function parseArgs(argv: readonly string[], io: ModprobeIo): Args | number {
  const a: Args = { remove: false, quiet: false, firstTime: false, all: false, dryRun: false, ignoreInstall: false, useBlacklist: false, verbose: false, resolveAlias: false, showDepends: false, names: [], options: '' };
  const rest: string[] = [];
  let i = 1;
  for (; i < argv.length; i++) {
    const s = argv[i]!;
    if (s === '--') {
      i++;
      break;
    }
    if (!s.startsWith('-') || s === '-') break;
    if (s.startsWith('--')) {
      const k = LONGS[s];
      if (k === undefined) {
        io.stderr.push(`modprobe: unrecognized option '${s}'`);
        return 1;
      }
      (a[k] as boolean) = true;
      continue;
    }
    for (const c of s.slice(1)) {
      const k = SHORTS[c];
      if (k === undefined) {
        io.stderr.push(`modprobe: invalid option -- '${c}'`);
        return 1;
      }
      (a[k] as boolean) = true;
    }
  }
  for (; i < argv.length; i++) rest.push(argv[i]!);
  if (rest.length === 0) {
    io.stderr.push('modprobe: ERROR: missing parameters. See -h.');
    return 1;
  }
  // `modprobe NAME opt=val …` passes the rest as module parameters; -a and -r take names only
  if (a.all || a.remove) a.names = rest;
  else {
    a.names = [rest[0]!];
    a.options = rest.slice(1).join(' ');
  }
  return a;
}

/** The modprobe process body: returns its exit code. */
export function* modprobeMain(env: ModprobeEnv, argv: readonly string[], io: ModprobeIo = { stdout: [], stderr: [] }): Proc<number> {
  const { host } = env;
  const proc = host.sim.current;
  if (proc === null) throw new Error('modprobeMain outside a process');
  const task: Task = { proc, comm: 'modprobe', capSysModule: true, capSyslog: true };
  yield* spend(host, env.startNs);
  const args = parseArgs(argv, io);
  if (typeof args === 'number') return args;
  const ctx = new KmodCtx(env.index, host, { kmodVersion: env.kmodVersion, config: env.config });
  let exit = 0;
  for (const name of args.names) {
    const r = args.remove ? yield* rmmod(ctx, task, name, args, io) : yield* insmod(ctx, task, name, args, io);
    if (r !== 0) exit = 1;
  }
  return exit;
}

function* insmod(ctx: KmodCtx, task: Task, name: string, a: Args, io: ModprobeIo): Proc<number> {
  const list = ctx.kmod_module_new_from_lookup(name);
  if (list.length === 0) {
    if (!a.quiet) io.stderr.push(`modprobe: FATAL: Module ${name} not found in directory ${ctx.index.dirname}`);
    return 1;
  }
  if (a.resolveAlias) {
    for (const mod of list) io.stdout.push(mod.name);
    return 0;
  }
  // every flag, in ProbeFlags' order, frozen: the same shape as udev's (the probe reads both)
  const flags: ProbeFlags = Object.freeze({
    failOnLoaded: a.firstTime,
    applyBlacklist: a.useBlacklist,
    applyBlacklistAliasOnly: true,
    ignoreCommand: a.ignoreInstall,
    dryRun: a.dryRun,
  });
  if (a.showDepends) {
    for (const mod of list) io.stdout.push(...ctx.showDepends(mod, flags, a.options));
    return 0;
  }
  let rc = 0;
  for (const mod of list) {
    const r = yield* ctx.kmod_module_probe_insert_module(task, mod, flags, a.options);
    if (a.verbose) for (const m of r.inserted) io.stdout.push(`insmod ${ctx.index.pathOf(ctx.kmod_module_new_from_name(m).info!)} `);
    if (r.err < 0) {
      const text = r.err === -EEXIST && a.firstTime ? 'Module already in kernel' : mod_strerror(r.err);
      io.stderr.push(`modprobe: ERROR: could not insert '${mod.name}': ${text}`);
      rc = 1;
    }
  }
  return rc;
}

function* rmmod(ctx: KmodCtx, task: Task, name: string, a: Args, io: ModprobeIo): Proc<number> {
  const list = ctx.kmod_module_new_from_lookup(name);
  if (list.length === 0) {
    // not in the index: try the name itself, which may still be loaded (a module from elsewhere)
    const m = ctx.kmod_module_new_from_name(name);
    if (!ctx.host.kernel.moduleState(m.name)) {
      io.stderr.push(`modprobe: FATAL: Module ${name} not found.`);
      return 1;
    }
    list.push(m);
  }
  let rc = 0;
  for (const mod of list) if ((yield* rmmod_do_module(ctx, task, mod, a, io, true)) !== 0) rc = 1;
  return rc;
}

/** remove one module, then its dependencies that nothing uses any more (errors there ignored) */
function* rmmod_do_module(ctx: KmodCtx, task: Task, mod: KmodModule, a: Args, io: ModprobeIo, top: boolean): Proc<number> {
  const { kernel } = ctx.host;
  const state = yield* ctx.kmod_module_get_initstate(mod);
  if (state === 'builtin') {
    if (!top) return 0;
    io.stderr.push(`modprobe: FATAL: Module ${mod.name} is builtin.`);
    return 1;
  }
  if (typeof state === 'number') {
    if (top && a.firstTime) {
      io.stderr.push(`modprobe: FATAL: Module ${mod.name} is not in kernel.`);
      return 1;
    }
    return 0;
  }
  if (kernel.moduleRefcount(mod.name) > 0) {
    if (!top) return 0;
    io.stderr.push(`modprobe: FATAL: Module ${mod.name} is in use.`);
    return 1;
  }
  if (!a.dryRun) {
    const r = yield* kernel.delete_module(task, mod.name, O_NONBLOCK);
    if (r < 0) {
      if (!top) return 0;
      io.stderr.push(`modprobe: FATAL: could not remove '${mod.name}': ${strerror(r)}`);
      return 1;
    }
  }
  const deps = mod.info?.deps ?? [];
  for (const d of deps) yield* rmmod_do_module(ctx, task, ctx.kmod_module_new_from_name(d), a, io, false);
  return 0;
}

/** The program installed at /sbin/modprobe: the raw wait(2) status (exit c → c << 8). */
export function modprobeProgram(env: ModprobeEnv, sink?: (argv: readonly string[], r: ModprobeResult) => void): Program {
  return function* modprobeProcess(argv) {
    const io: ModprobeIo = { stdout: [], stderr: [] };
    const code = yield* modprobeMain(env, argv, io);
    sink?.(argv, { exitCode: code, stdout: joinLines(io.stdout), stderr: joinLines(io.stderr) });
    return (code & 0xff) << 8;
  };
}

/** Run modprobe and keep what it printed (the selftest target's `modprobe ARGS`). */
export function* runModprobe(env: ModprobeEnv, args: readonly string[]): Proc<ModprobeResult> {
  const io: ModprobeIo = { stdout: [], stderr: [] };
  const exitCode = yield* modprobeMain(env, ['modprobe', ...args], io);
  return { exitCode, stdout: joinLines(io.stdout), stderr: joinLines(io.stderr) };
}

function joinLines(l: string[]): string {
  return l.length === 0 ? '' : `${l.join('\n')}\n`;
}
