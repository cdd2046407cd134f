/**
 * DOC: libkmod — the library modprobe and udev's builtin kmod use to resolve and insert modules
 * (spec §8.1).
 *
 * Two halves, kept apart on purpose:
 *
 * - KmodIndex is the on-disk index of /lib/modules/<release> (modules.dep.bin, modules.alias.bin,
 *   modules.symbols.bin, modules.builtin.bin). It is read-only and shared by every process of
 *   every run over the same module set, like the page cache shares the mmap'ed files. Alias
 *   lookups go through exact-prefix buckets before glob matching, and the answer for each
 *   distinct string is cached here — that models a property of the file, not of a process.
 * - KmodCtx is one process's `struct kmod_ctx` (kmod_new): config, module objects, and the
 *   insert logic. Each modprobe process and each udev worker has its own; nothing in it is shared
 *   between processes, so two workers never learn from each other (no cross-worker dedup, as on
 *   real systems).
 *
 * The race window of spec §8.3 comes from here: kmod_module_probe_insert_module() skips a module
 * only if `initstate` reads "live" (or it is built in); a COMING module is loaded again, and the
 * kernel must sort the duplicates out. kmod ≤ 19 read "directory without initstate" as BUILTIN
 * and so reported success while the module was still loading (option kmodVersion).
 *
 * All CPU work (index load, sysfs reads, file reads, userspace decompression) is spent on the
 * machine's CpuPool, so on a small machine the race window really widens.
 */
import type { KernelApi, KFile, Task } from '../kernel/api.js';
import { MODULE_INIT_COMPRESSED_FILE } from '../kernel/api.js';
import { EEXIST, ENOENT, ENOEXEC, ENOSYS, errnoFromText, strerror } from '../kernel/errno.js';
import type { CpuPool, Proc, Sim } from '../sim/index.js';
import { aliasMatches } from './depmod/alias.js';
import { normaliseName } from './depmod/names.js';
import { joinPath, type ModuleFs } from './fs.js';
import { kmodRelease, type KmodRelease } from './kmod-releases.js';
import type { AliasEntry, Compression, ModuleInfo, ModuleSet } from './moduleset.js';

// ---------------------------------------------------------------------------------------------
// the shared index

export interface KmodIndexOptions {
  /** modules.symbols: "symbol:NAME" → module (absent: the file does not exist) */
  symbols?: ReadonlyMap<string, string>;
  /** aliases of built-in modules (modules.builtin.modinfo) */
  builtinAliases?: readonly AliasEntry[];
  /** module files outside the set (test_module, test_kmod under extra/) */
  extra?: readonly ModuleInfo[];
  /** aliases of the extra modules */
  extraAliases?: readonly AliasEntry[];
}

/** An alias table with exact-prefix buckets: pattern i is tried only if its literal prefix is a prefix of the string. */
class AliasTable {
  private readonly patterns: string[];
  private readonly modules: string[];
  private readonly byPrefix = new Map<string, number[]>();
  private maxPrefix = 0;
  private readonly cache = new Map<string, readonly string[]>();

  constructor(entries: readonly AliasEntry[]) {
    this.patterns = entries.map((a) => normalise(a.pattern));
    this.modules = entries.map((a) => a.module);
    this.patterns.forEach((p, i) => {
      const pre = literalPrefix(p);
      if (pre.length > this.maxPrefix) this.maxPrefix = pre.length;
      let b = this.byPrefix.get(pre);
      if (b === undefined) this.byPrefix.set(pre, (b = []));
      b.push(i);
    });
  }

  /** modules whose pattern matches the (normalised) string, in file order, without repeats */
  lookup(s: string): readonly string[] {
    const hit = this.cache.get(s);
    if (hit !== undefined) return hit;
    const cand: number[] = [];
    const n = Math.min(s.length, this.maxPrefix);
    for (let len = 0; len <= n; len++) {
      const b = this.byPrefix.get(s.slice(0, len));
      if (b !== undefined) for (const i of b) cand.push(i);
    }
    cand.sort((a, b) => a - b);
    const out: string[] = [];
    for (const i of cand) {
      const m = this.modules[i]!;
      if (!out.includes(m) && aliasMatches(this.patterns[i]!, s)) out.push(m);
    }
    const frozen = Object.freeze(out);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(s, frozen);
    return frozen;
  }

  /** every pattern of one module (for fs-NAME aliases) */
  patternsOf(module: string): string[] {
    const out: string[] = [];
    this.modules.forEach((m, i) => {
      if (m === module) out.push(this.patterns[i]!);
    });
    return out;
  }

  forEach(fn: (pattern: string, module: string) => void): void {
    this.patterns.forEach((p, i) => fn(p, this.modules[i]!));
  }
}

const GLOB_CHAR = /[*?[\\]/;

/** text before the first glob character */
function literalPrefix(p: string): string {
  const i = p.search(GLOB_CHAR);
  return i < 0 ? p : p.slice(0, i);
}

/**
 * '-' → '_' outside brackets (depmod/names.ts's normaliseName), with a fast path for the
 * common string without '-': the index normalises 26 000 patterns when it is built.
 */
export function normalise(s: string): string {
  return s.indexOf('-') < 0 ? s : normaliseName(s);
}

export class KmodIndex {
  /** /lib/modules/<release> */
  readonly dirname: string;
  readonly release: string;
  private readonly modules: ReadonlyMap<string, ModuleInfo>;
  private readonly aliases: AliasTable;
  private readonly builtinAliases: AliasTable;
  private readonly builtin: ReadonlySet<string>;
  private readonly symbols: ReadonlyMap<string, string> | undefined;
  private fsByModule: Map<string, string[]> | undefined;

  constructor(set: ModuleSet, opts: KmodIndexOptions = {}) {
    this.release = set.release;
    this.dirname = `/lib/modules/${set.release}`;
    if (opts.extra && opts.extra.length > 0) {
      const m = new Map(set.modules);
      for (const x of opts.extra) m.set(x.name, x);
      this.modules = m;
    } else {
      this.modules = set.modules;
    }
    this.aliases = new AliasTable(opts.extraAliases ? [...set.aliases, ...opts.extraAliases] : set.aliases);
    this.builtinAliases = new AliasTable(opts.builtinAliases ?? []);
    this.builtin = set.builtin;
    this.symbols = opts.symbols;
  }

  private static shared = new WeakMap<ModuleSet, Map<string, KmodIndex>>();

  /** The index for a module set, shared by every run in this process that uses the same set and extras. */
  static forSet(set: ModuleSet, opts: KmodIndexOptions = {}): KmodIndex {
    const key = JSON.stringify([opts.extra ?? [], opts.extraAliases ?? [], opts.symbols ? [...opts.symbols] : null, opts.builtinAliases ?? []]);
    let byKey = KmodIndex.shared.get(set);
    if (byKey === undefined) KmodIndex.shared.set(set, (byKey = new Map()));
    let idx = byKey.get(key);
    if (idx === undefined) byKey.set(key, (idx = new KmodIndex(set, opts)));
    return idx;
  }

  /** modules.dep: the module of that (normalised) name */
  dep(name: string): ModuleInfo | undefined {
    return this.modules.get(name);
  }

  allModules(): Iterable<ModuleInfo> {
    return this.modules.values();
  }

  /** modules.alias */
  alias(name: string): readonly string[] {
    return this.aliases.lookup(name);
  }

  /** modules.builtin.modinfo aliases */
  builtinAlias(name: string): readonly string[] {
    return this.builtinAliases.lookup(name);
  }

  /** modules.symbols ("symbol:NAME"), undefined if absent or no match */
  symbol(name: string): string | undefined {
    return this.symbols?.get(name);
  }

  isBuiltin(name: string): boolean {
    return this.builtin.has(name);
  }

  /** filesystems a module registers, from its "fs-NAME" aliases (normalised: fs_NAME) */
  filesystemsOf(module: string): string[] {
    if (this.fsByModule === undefined) {
      const m = new Map<string, string[]>();
      this.aliases.forEach((p, mod) => {
        if (!p.startsWith('fs_') || /[*?[\\]/.test(p)) return;
        let l = m.get(mod);
        if (l === undefined) m.set(mod, (l = []));
        // the alias was normalised ('-' → '_'); the fs name is what follows "fs-"
        l.push(p.slice(3));
      });
      this.fsByModule = m;
    }
    return this.fsByModule.get(module) ?? [];
  }

  /** absolute path of a module file */
  pathOf(info: ModuleInfo): string {
    return joinPath(this.dirname, info.path);
  }
}

// ---------------------------------------------------------------------------------------------
// configuration (/etc/modprobe.d), modelled minimally

export interface KmodConfig {
  /** `alias PATTERN MODULE` */
  aliases?: readonly AliasEntry[];
  /** `blacklist MODULE` */
  blacklist?: readonly string[];
  /** `install MODULE COMMAND`: the command's exit code stands for running it */
  install?: ReadonlyMap<string, { command: string; exitCode: number }>;
  /** `options MODULE ARGS` */
  options?: ReadonlyMap<string, string>;
  /** `softdep MODULE pre: … post: …` (added to modules.softdep's) */
  softdeps?: ReadonlyMap<string, { pre: string[]; post: string[] }>;
}

// ---------------------------------------------------------------------------------------------
// per-process context

/** What libkmod needs from the machine it runs on. */
export interface KmodHost {
  sim: Sim;
  cpu: CpuPool;
  kernel: KernelApi;
  fs: ModuleFs;
  timings: KmodTimings;
  /** /sys/module/compression: the kernel's in-kernel decompression algorithm, null if absent */
  kernelCompression: Compression | null;
  /**
   * relative jitter (±) on userspace CPU costs, drawn from the seeded "userspace" stream; 0 (the
   * default) makes every cost exact. Real processes never run in lockstep; without jitter N
   * identical workers reach each module at the same instant.
   */
  jitter?: number;
}

/** Spend `ns` of CPU time of a userspace process on the machine's CPUs (with the host's jitter). */
export function* spend(host: KmodHost, ns: number): Proc<void> {
  const j = host.jitter ?? 0;
  yield* host.cpu.compute(j > 0 ? host.sim.rng.stream('userspace').jitter(ns, j) : ns);
}

export interface KmodTimings {
  /** libkmod reading /sys/module/NAME/initstate (or finding it absent) */
  initstateReadNs: number;
  /** opening the module file */
  fileOpenNs: number;
  /** reading a file into memory in userspace (page cache), bytes per second */
  readBytesPerSec: number;
  /** userspace decompression, image bytes produced per second */
  decompressBytesPerSec: number;
  /** fork + exec (install commands) */
  forkExecNs: number;
}

export type KmodInitstate = 'builtin' | 'live' | 'coming' | 'going';

/** kmod's probe flags (the ones this model honours) */
export interface ProbeFlags {
  /** --first-time: an already loaded module is an error (-EEXIST) */
  failOnLoaded?: boolean;
  /** udev: a blacklisted module is skipped whatever way it was found */
  applyBlacklist?: boolean;
  /** modprobe's default: blacklist only applies to modules found by alias */
  applyBlacklistAliasOnly?: boolean;
  /** -i: ignore install commands */
  ignoreCommand?: boolean;
  /** -n: do everything but the syscalls */
  dryRun?: boolean;
}

/** A module object of one context (struct kmod_module). */
export interface KmodModule {
  name: string;
  info: ModuleInfo | undefined;
  builtin: boolean;
  /** the alias it was found by, if not by its own name */
  alias: string | null;
  install: { command: string; exitCode: number } | undefined;
}

export interface KmodCtxOptions {
  /** kmod's version (`kmod --version`): what it does is its row of kmod-releases.ts */
  kmodVersion: number;
  config?: KmodConfig;
}

/** The result of one probe: 0 or -errno, and which module failed (for the message). */
export interface ProbeResult {
  err: number;
  failed: string | null;
  /** modules this probe inserted (finit/init returned 0) */
  inserted: string[];
  /** the requested module was skipped because it is blacklisted */
  blacklisted: boolean;
}

export class KmodCtx {
  private readonly objects = new Map<string, KmodModule>();
  private readonly config: KmodConfig;
  private readonly configAliases: AliasTable | undefined;
  private readonly blacklist: ReadonlySet<string>;
  /** what this kmod version does (resolved once from opts.kmodVersion) */
  private readonly kmod: KmodRelease;

  constructor(
    readonly index: KmodIndex,
    readonly host: KmodHost,
    readonly opts: KmodCtxOptions,
  ) {
    this.config = opts.config ?? {};
    this.configAliases = this.config.aliases && this.config.aliases.length > 0 ? new AliasTable(this.config.aliases) : undefined;
    this.blacklist = new Set(this.config.blacklist ?? []);
    this.kmod = kmodRelease(opts.kmodVersion);
  }

  /** kmod_module_new_from_name: one object per name per context */
  kmod_module_new_from_name(name: string, alias: string | null = null): KmodModule {
    const n = normalise(name);
    let m = this.objects.get(n);
    if (m === undefined) {
      const info = this.index.dep(n);
      m = { name: n, info, builtin: info === undefined && this.index.isBuiltin(n), alias, install: this.config.install?.get(n) };
      this.objects.set(n, m);
    }
    return m;
  }

  /**
   * kmod_module_new_from_lookup: the first source that knows the name wins — config aliases,
   * modules.dep, modules.symbols, install commands, modules.alias, modules.builtin, built-in
   * modinfo aliases. Empty list = not found.
   */
  kmod_module_new_from_lookup(given: string): KmodModule[] {
    const name = normalise(given);
    if (this.configAliases) {
      const l = this.configAliases.lookup(name);
      if (l.length > 0) return l.map((m) => this.kmod_module_new_from_name(m, name));
    }
    if (this.index.dep(name)) return [this.kmod_module_new_from_name(name)];
    if (name.startsWith('symbol:')) {
      const s = this.index.symbol(name);
      if (s !== undefined) return [this.kmod_module_new_from_name(s, name)];
    }
    if (this.config.install?.has(name)) return [this.kmod_module_new_from_name(name)];
    const a = this.index.alias(name);
    if (a.length > 0) return a.map((m) => this.kmod_module_new_from_name(m, name));
    if (this.index.isBuiltin(name)) return [this.kmod_module_new_from_name(name)];
    const b = this.index.builtinAlias(name);
    if (b.length > 0) return b.map((m) => this.kmod_module_new_from_name(m, name));
    return [];
  }

  /**
   * kmod_module_get_initstate: BUILTIN from modules.builtin, else /sys/module/NAME/initstate;
   * a directory without initstate is COMING (kmod ≥ 20) or BUILTIN (kmod ≤ 19); nothing: -ENOENT.
   */
  *kmod_module_get_initstate(m: KmodModule): Proc<KmodInitstate | number> {
    if (m.builtin) return 'builtin';
    yield* spend(this.host, this.host.timings.initstateReadNs);
    const v = this.host.kernel.sysfsModule(m.name);
    if (v.initstate !== null) return v.initstate;
    if (v.dir) return this.kmod.missingInitstateIsBuiltin ? 'builtin' : 'coming';
    return -ENOENT;
  }

  /** module_is_inkernel: LIVE or BUILTIN (kmod < 6 also counted COMING) */
  *module_is_inkernel(m: KmodModule): Proc<boolean> {
    const s = yield* this.kmod_module_get_initstate(m);
    if (s === 'live' || s === 'builtin') return true;
    return s === 'coming' && this.kmod.comingIsInKernel;
  }

  isBlacklisted(m: KmodModule): boolean {
    return this.blacklist.has(m.name);
  }

  softdepsOf(m: KmodModule): { pre: string[]; post: string[] } {
    const fromDep = m.info?.softdeps ?? { pre: [], post: [] };
    const fromCfg = this.config.softdeps?.get(m.name);
    if (!fromCfg) return fromDep;
    return { pre: [...fromCfg.pre, ...fromDep.pre], post: [...fromDep.post, ...fromCfg.post] };
  }

  /**
   * kmod_module_get_probe_list: dependencies first (modules.dep lists them last-loaded-first),
   * each with its soft dependencies, then the module's softdep pre, the module, its softdep post.
   * The boolean says whether failures of that entry are ignored (softdeps).
   */
  probeList(mod: KmodModule, ignoreCommand: boolean): { m: KmodModule; soft: boolean }[] {
    const out: { m: KmodModule; soft: boolean }[] = [];
    const visited = new Set<string>();
    const visit = (m: KmodModule, soft: boolean, withSoftdeps: boolean): void => {
      if (visited.has(m.name)) return;
      visited.add(m.name);
      const sd = withSoftdeps && (ignoreCommand || m.install === undefined) ? this.softdepsOf(m) : { pre: [], post: [] };
      const deps = m.info?.deps ?? [];
      for (let i = deps.length - 1; i >= 0; i--) visit(this.kmod_module_new_from_name(deps[i]!), soft, true);
      for (const p of sd.pre) for (const x of this.kmod_module_new_from_lookup(p)) visit(x, true, true);
      out.push({ m, soft });
      for (const p of sd.post) for (const x of this.kmod_module_new_from_lookup(p)) visit(x, true, true);
    };
    visit(mod, false, true);
    return out;
  }

  /**
   * kmod_module_probe_insert_module: skip a module already in the kernel (LIVE/BUILTIN), else
   * insert its probe list in order. -EEXIST from the kernel counts as loaded unless
   * failOnLoaded applies to the requested module; softdep failures are ignored.
   */
  *kmod_module_probe_insert_module(task: Task, mod: KmodModule, flags: ProbeFlags = {}, extraOptions = ''): Proc<ProbeResult> {
    const res: ProbeResult = { err: 0, failed: null, inserted: [], blacklisted: false };
    if (yield* this.module_is_inkernel(mod)) {
      if (flags.failOnLoaded) res.err = -EEXIST;
      return res;
    }
    if ((flags.applyBlacklist || (flags.applyBlacklistAliasOnly && mod.alias !== null)) && this.isBlacklisted(mod)) {
      res.blacklisted = true;
      return res;
    }

    for (const { m, soft } of this.probeList(mod, flags.ignoreCommand ?? false)) {
      let err: number;
      if (m.install !== undefined && !flags.ignoreCommand) {
        if (!flags.dryRun) yield* spend(this.host, this.host.timings.forkExecNs);
        err = flags.dryRun ? 0 : m.install.exitCode === 0 ? 0 : -ENOENT;
      } else if (yield* this.module_is_inkernel(m)) {
        err = m === mod && flags.failOnLoaded ? -EEXIST : 0;
      } else if (m.builtin) {
        err = 0;
      } else {
        const opts = [this.config.options?.get(m.name) ?? '', m === mod ? extraOptions : ''].filter((s) => s !== '').join(' ');
        err = flags.dryRun ? 0 : yield* this.kmod_module_insert_module(task, m, opts);
        if (err === 0 && !flags.dryRun) res.inserted.push(m.name);
        // "already loaded" (or an init that returned -EEXIST, indistinguishable) is success
        if (err === -EEXIST && !(m === mod && flags.failOnLoaded)) err = 0;
      }
      if (err < 0 && !soft) {
        res.err = err;
        res.failed = m.name;
        return res;
      }
    }
    return res;
  }

  /**
   * kmod_module_insert_module: open the file; finit_module for an uncompressed file or one the
   * kernel can decompress itself (kmod ≥ 31, /sys/module/compression matches, with the
   * compressed-file flag); otherwise read (and decompress) in userspace and init_module.
   */
  *kmod_module_insert_module(task: Task, m: KmodModule, options: string): Proc<number> {
    const info = m.info;
    if (info === undefined) return -ENOENT;
    yield* spend(this.host, this.host.timings.fileOpenNs);
    const file = this.host.fs.open(this.index.pathOf(info));
    if (typeof file === 'number') return file;
    let r: number;
    if (file.compression === 'none') {
      r = yield* this.host.kernel.finit_module(task, file, options, 0);
      if (r === -ENOSYS) r = yield* this.initFromUserspace(task, file, options);
    } else if (this.kmod.finitCompressedFile && this.host.kernelCompression === file.compression) {
      r = yield* this.host.kernel.finit_module(task, file, options, MODULE_INIT_COMPRESSED_FILE);
      if (r === -ENOSYS) r = yield* this.initFromUserspace(task, file, options);
    } else {
      r = yield* this.initFromUserspace(task, file, options);
    }
    return r;
  }

  private *initFromUserspace(task: Task, file: KFile, options: string): Proc<number> {
    const { timings } = this.host;
    yield* spend(this.host, Math.round((file.size * 1e9) / timings.readBytesPerSec));
    let len = file.size;
    if (file.compression !== 'none') {
      len = file.image.imageSize;
      yield* spend(this.host, Math.round((len * 1e9) / timings.decompressBytesPerSec));
    }
    return yield* this.host.kernel.init_module(task, file, len, options);
  }
}

// ---------------------------------------------------------------------------------------------
// helpers shared by modprobe and udevd

/** kmod's wording for insert errors (a few errnos get a module-specific text, like kmod's mod_strerror) */
export function mod_strerror(err: number): string {
  switch (Math.abs(err)) {
    case ENOSYS:
      return 'Kernel does not have module support';
    case ENOEXEC:
      return 'Invalid module format';
    case ENOENT:
      return 'Unknown symbol in module, or unknown parameter (see dmesg)';
    default:
      return strerror(err);
  }
}

/** kmod's own wordings (mod_strerror above) and the errno each stands for */
const KMOD_TEXTS: ReadonlyArray<readonly [string, string]> = [
  ['Kernel does not have module support', 'ENOSYS'],
  ['Invalid module format', 'ENOEXEC'],
  ['Unknown symbol in module', 'ENOENT'],
];

/** The errno name in modprobe's "could not insert 'x': TEXT" (kmod's wording or strerror's), or null. */
export function modprobeErrno(stderr: string): string | null {
  for (const [text, name] of KMOD_TEXTS) if (stderr.includes(text)) return name;
  return errnoFromText(stderr);
}
