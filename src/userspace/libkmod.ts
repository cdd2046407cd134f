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
import { frame, type CpuPool, type Proc, type Rng, type Sim } from '../sim/index.js';
import { aliasMatches } from './depmod/alias.js';
import { normaliseName } from './depmod/names.js';
import { joinPath, type ModuleFs } from './fs.js';
import { kmodRelease, type KmodRelease } from './kmod-releases.js';
import type { AliasEntry, Compression, ModuleInfo, ModuleSet } from './moduleset.js';

// ---------------------------------------------------------------------------------------------
// the shared index

export interface KmodIndexOptions {
  /** modules.symbols: "symbol:NAME" → module (default: the set's; absent: the file does not exist) */
  symbols?: ReadonlyMap<string, string>;
  /** aliases of built-in modules (modules.builtin.modinfo; default: the set's) */
  builtinAliases?: readonly AliasEntry[];
  /** module files outside the set (test_module, test_kmod under extra/) */
  extra?: readonly ModuleInfo[];
  /** aliases of the extra modules */
  extraAliases?: readonly AliasEntry[];
}

/**
 * How an index orders the values a wildcard search collects (libkmod's index_mm_searchwild keeps
 * them sorted by the priority depmod stored, a later-found value going before earlier ones of the
 * same priority):
 * - 'module': modules.alias and modules.symbols, whose priority is the module's position in
 *   depmod's module order — the order depmod also wrote modules.alias in, so a module's first line
 *   in the file ranks it; one module's several matches stay together;
 * - 'none': modules.builtin.alias.bin, where every value has priority 0, so the answer is the
 *   search's visiting order reversed (see visitOrder);
 * - 'file': configuration aliases, which libkmod scans as a list in the order it read them.
 */
type IndexOrder = 'module' | 'none' | 'file';

/**
 * An alias table with exact-prefix buckets: pattern i is tried only if its literal prefix is a
 * prefix of the string. A lookup returns one module per matching line — libkmod does not remove
 * repeats, so a module with two matching patterns (or the same line twice) comes back twice, and
 * whoever walks the list (udev's builtin kmod) handles it twice.
 */
class AliasTable {
  private readonly patterns: string[];
  private readonly modules: string[];
  /** per entry: the rank its value has in the index (smaller first); made on first use */
  private rankOf: number[] | null = null;
  /** made once scans have cost SCAN_BUDGET: a run that looks up a handful of names never pays for it */
  private byPrefix: Map<string, number[]> | null = null;
  private maxPrefix = 0;
  private scanBudget = SCAN_BUDGET;
  /** per entry: its pattern's first character (a scan skips most patterns on it) */
  private readonly firstChar: Uint16Array;
  private readonly cache = new Map<string, readonly string[]>();

  constructor(
    entries: readonly AliasEntry[],
    private readonly order: IndexOrder = 'module',
  ) {
    this.patterns = [];
    this.modules = [];
    this.firstChar = new Uint16Array(entries.length);
    for (const a of entries) {
      const p = normalise(a.pattern);
      this.firstChar[this.patterns.length] = p.length === 0 ? GLOB_STAR : p.charCodeAt(0);
      this.patterns.push(p);
      this.modules.push(a.module);
    }
  }

  private get rank(): number[] {
    if (this.rankOf === null) {
      const firstLine = new Map<string, number>();
      this.rankOf = this.modules.map((m, i) => {
        let r = firstLine.get(m);
        if (r === undefined) firstLine.set(m, (r = i));
        return r;
      });
    }
    return this.rankOf;
  }

  private buckets(): Map<string, number[]> {
    const byPrefix = new Map<string, number[]>();
    this.patterns.forEach((p, i) => {
      const pre = literalPrefix(p);
      if (pre.length > this.maxPrefix) this.maxPrefix = pre.length;
      let b = byPrefix.get(pre);
      if (b === undefined) byPrefix.set(pre, (b = []));
      b.push(i);
    });
    return byPrefix;
  }

  /*
   * The candidates' two loops are methods of their own: the first scan of thousands of patterns
   * gets lookup() compiled mid-loop (on-stack replacement) before the code after the loop had
   * ever run, and that code deoptimised on every later call that entered it.
   */

  /** the candidates by a scan of every pattern (the same the buckets give; the order does not matter: the sort decides) */
  private scan(s: string): number[] {
    const cand: number[] = [];
    const ps = this.patterns;
    const first = this.firstChar;
    // an empty pattern stands as '*' here: its (empty) literal prefix is a prefix of every string
    const s0 = s.length === 0 ? -1 : s.charCodeAt(0);
    let checked = 0;
    for (let i = 0; i < ps.length; i++) {
      const c = first[i]!;
      if (c !== s0 && !isGlobChar(c)) continue;
      checked++;
      if (literalPrefixOf(ps[i]!, s)) cand.push(i);
    }
    this.scanBudget -= SCAN_COST + checked;
    return cand;
  }

  /** the candidates from the exact-prefix buckets (made on first use) */
  private bucketed(s: string): number[] {
    const cand: number[] = [];
    const byPrefix = (this.byPrefix ??= this.buckets());
    const n = Math.min(s.length, this.maxPrefix);
    for (let len = 0; len <= n; len++) {
      const b = byPrefix.get(s.slice(0, len));
      if (b !== undefined) for (const i of b) cand.push(i);
    }
    return cand;
  }

  /** modules whose pattern matches the (normalised) string, one per matching entry, in the index's order */
  lookup(s: string): readonly string[] {
    const hit = this.cache.get(s);
    if (hit !== undefined) return hit;
    const cand = this.byPrefix === null && this.scanBudget > 0 ? this.scan(s) : this.bucketed(s);
    const hits = cand.filter((i) => aliasMatches(this.patterns[i]!, s));
    if (hits.length > 1) {
      if (this.order === 'file') hits.sort((a, b) => a - b);
      else if (this.order === 'module') {
        const rank = this.rank;
        hits.sort((a, b) => rank[a]! - rank[b]! || a - b);
      } else hits.sort((a, b) => -visitOrder(this.patterns[a]!, this.patterns[b]!) || a - b);
    }
    const frozen = Object.freeze(hits.map((i) => this.modules[i]!));
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

/**
 * The order libkmod's wildcard search of a trie index visits two patterns that both match one
 * string (< 0: a first). It walks the string's characters down the trie and, at each depth,
 * searches the subtrees starting with '*', '?', '[' before going one character deeper, so a
 * pattern whose first wildcard comes earlier is visited earlier and an exact key last; inside a
 * wildcard subtree it goes depth first, children in byte order before a node's own values, so of
 * two patterns one of which extends the other, the longer one comes first. Equal patterns share a
 * node (0).
 */
export function visitOrder(a: string, b: string): number {
  const wa = firstWildcard(a);
  const wb = firstWildcard(b);
  if (wa !== wb) return wa - wb;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return b.length - a.length;
}

function firstWildcard(p: string): number {
  const i = p.search(GLOB_CHAR_NO_ESCAPE);
  return i < 0 ? Number.MAX_SAFE_INTEGER : i;
}

/** the characters libkmod's trie search treats as the start of a wildcard */
const GLOB_CHAR_NO_ESCAPE = /[*?[]/;

const GLOB_CHAR = /[*?[\\]/;

/** text before the first glob character */
function literalPrefix(p: string): string {
  const i = p.search(GLOB_CHAR);
  return i < 0 ? p : p.slice(0, i);
}

const GLOB_STAR = 0x2a;

/** the character code is one of GLOB_CHAR's: * ? [ \ */
function isGlobChar(c: number): boolean {
  return c === GLOB_STAR || c === 0x3f || c === 0x5b || c === 0x5c;
}

/** literalPrefix(p) is a prefix of s (without making the prefix) */
function literalPrefixOf(p: string, s: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (isGlobChar(c)) return true;
    if (s.charCodeAt(i) !== c) return false;
  }
  return true;
}

/**
 * What an alias table's scans may cost before it builds its prefix buckets, in patterns checked
 * past their first character (plus SCAN_COST a scan): a kmod.sh run looks up 6 names (fs-xfs,
 * crc32c, …: a few hundred checks each) and never builds them — Debian 6.1's 26,000 patterns cost
 * ~120 M instructions to bucket in a fresh process —, a coldplug's first pci or cpu modalias
 * checks thousands and the buckets are built at once.
 */
const SCAN_BUDGET = 20_000;
const SCAN_COST = 1_000;

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
    this.builtinAliases = new AliasTable(opts.builtinAliases ?? set.builtinAliases ?? [], 'none');
    this.builtin = set.builtin;
    this.symbols = opts.symbols ?? set.symbols;
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

  /** absolute path of a module file (one string per module: a path looked up again hashes at no cost) */
  pathOf(info: ModuleInfo): string {
    let p = this.paths.get(info);
    if (p === undefined) this.paths.set(info, (p = joinPath(this.dirname, info.path)));
    return p;
  }
  private readonly paths = new Map<ModuleInfo, string>();
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
  /** the run's "userspace" stream (sim.rng.stream('userspace')), held so spend() needs no look-up by name */
  userspaceRng?: Rng;
}

/**
 * Spend `ns` of CPU time of a userspace process on the machine's CPUs (with the host's jitter).
 * Not a generator of its own (one frame less on every step of the work): the jitter is drawn
 * when it is called, which is the moment the `yield* spend(…)` every caller writes starts it.
 */
export function spend(host: KmodHost, ns: number): Proc<void> {
  const j = host.jitter ?? 0;
  return host.cpu.compute(j > 0 ? (host.userspaceRng ?? host.sim.rng.stream('userspace')).jitter(ns, j) : ns);
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
  /**
   * the install command is not run: set on a module that has soft dependencies once a probe list
   * took them in (libkmod's mod->ignorecmd, kept on the object), or on the requested module under
   * -i
   */
  ignorecmd: boolean;
}

/** One entry of a probe list: the module and whether its failure fails the probe. */
export interface ProbeEntry {
  m: KmodModule;
  /** not required: a soft dependency (or something only a soft dependency needs), failures ignored */
  soft: boolean;
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

/** the soft dependencies of a module that has none, by name and as objects (shared, never written to) */
const NO_SOFTDEPS: { pre: string[]; post: string[] } = Object.freeze({ pre: Object.freeze([]) as unknown as string[], post: Object.freeze([]) as unknown as string[] });
const NO_SOFTDEP_MODULES: { pre: KmodModule[]; post: KmodModule[] } = Object.freeze({ pre: Object.freeze([]) as unknown as KmodModule[], post: Object.freeze([]) as unknown as KmodModule[] });

function noSoftdeps(sd: { pre: readonly string[]; post: readonly string[] }): boolean {
  return sd.pre.length === 0 && sd.post.length === 0;
}

export class KmodCtx {
  /**
   * the context's module pool, keyed as libkmod keys it: a module found by name under its name,
   * one found through an alias under "NAME\\ALIAS" — so the same module reached by two aliases is
   * two objects, each with its own visited/required marks in a probe list
   */
  private readonly objects = new Map<string, KmodModule>();
  /**
   * the objects found through an alias, by alias then name: the same pool as keyed "NAME\\ALIAS",
   * without building (and hashing) that string — a cpu modalias is hundreds of characters long —
   * on every look-up
   */
  private readonly aliasObjects = new Map<string, Map<string, KmodModule>>();
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
    this.configAliases = this.config.aliases && this.config.aliases.length > 0 ? new AliasTable(this.config.aliases, 'file') : undefined;
    this.blacklist = new Set(this.config.blacklist ?? []);
    this.kmod = kmodRelease(opts.kmodVersion);
  }

  /**
   * kmod_module_new_from_name (alias null) or kmod_module_new_from_alias: one object per key per
   * context. `builtin` marks an object made from the built-in alias index, which libkmod flags
   * built-in whatever modules.builtin says.
   */
  kmod_module_new_from_name(name: string, alias: string | null = null, builtin = false): KmodModule {
    const n = normalise(name);
    let pool = this.objects;
    if (alias !== null) {
      let byName = this.aliasObjects.get(alias);
      if (byName === undefined) this.aliasObjects.set(alias, (byName = new Map()));
      pool = byName;
    }
    let m = pool.get(n);
    if (m === undefined) {
      const info = this.index.dep(n);
      m = { name: n, info, builtin: builtin || (info === undefined && this.index.isBuiltin(n)), alias, install: this.config.install?.get(n), ignorecmd: false };
      pool.set(n, m);
    } else if (builtin) {
      m.builtin = true;
    }
    return m;
  }

  /**
   * kmod_module_new_from_lookup: the first source that knows the name wins — config aliases,
   * modules.dep, modules.symbols, install commands, modules.alias, modules.builtin, built-in
   * modinfo aliases. One entry per matching line, repeats kept. Empty list = not found.
   */
  kmod_module_new_from_lookup(given: string): KmodModule[] {
    const name = normalise(given);
    if (this.configAliases) {
      const l = this.configAliases.lookup(name);
      if (l.length > 0) return l.map((m) => this.kmod_module_new_from_name(m, name));
    }
    // module names hold no ':', so libkmod does not look such a name up in modules.dep
    if (!name.includes(':') && this.index.dep(name)) return [this.kmod_module_new_from_name(name)];
    if (name.startsWith('symbol:')) {
      const s = this.index.symbol(name);
      if (s !== undefined) return [this.kmod_module_new_from_name(s, name)];
    }
    if (this.config.install?.has(name)) return [this.kmod_module_new_from_name(name)];
    const a = this.index.alias(name);
    if (a.length > 0) return a.map((m) => this.kmod_module_new_from_name(m, name));
    if (this.index.isBuiltin(name)) return [this.kmod_module_new_from_name(name, null, true)];
    const b = this.index.builtinAlias(name);
    if (b.length > 0) return b.map((m) => this.kmod_module_new_from_name(m, name, true));
    return [];
  }

  /**
   * kmod_module_get_initstate: BUILTIN from modules.builtin, else /sys/module/NAME/initstate;
   * a directory without initstate is COMING (kmod ≥ 20) or BUILTIN (kmod ≤ 19); nothing: -ENOENT.
   */
  *kmod_module_get_initstate(m: KmodModule): Proc<KmodInitstate | number> {
    if (m.builtin) return 'builtin';
    yield* this.initstateRead();
    return this.initstateOf(m);
  }

  /**
   * The two halves of kmod_module_get_initstate for a module not built in, for the hot callers
   * (udev's builtin kmod, the probe) to write `yield* ctx.initstateRead(); ctx.initstateOf(m)`
   * inline: the same CPU time at the same moment, one generator less per look.
   */
  initstateRead(): Proc<void> {
    return spend(this.host, this.host.timings.initstateReadNs);
  }

  /** what /sys/module/NAME says now (the read's answer; see initstateRead) */
  initstateOf(m: KmodModule): KmodInitstate | number {
    const v = this.host.kernel.sysfsModule(m.name);
    if (v.initstate !== null) return v.initstate;
    if (v.dir) return this.kmod.missingInitstateIsBuiltin ? 'builtin' : 'coming';
    return -ENOENT;
  }

  /**
   * module_is_inkernel's answer from an initstate: LIVE or BUILTIN (kmod < 6 also counted
   * COMING). Its read (kmod_module_get_initstate) is written out where it is called (probeInsert).
   */
  private inKernel(s: KmodInitstate | number): boolean {
    if (s === 'live' || s === 'builtin') return true;
    return s === 'coming' && this.kmod.comingIsInKernel;
  }

  isBlacklisted(m: KmodModule): boolean {
    return this.blacklist.has(m.name);
  }

  /**
   * kmod_module_get_softdeps, by name: the first softdep entry for the module counts and the rest
   * are never read. The configuration's `softdep` lines (this model's KmodConfig.softdeps) come
   * before modules.softdep's, as /etc/modprobe.d/*.conf files named below "modules.softdep" do.
   */
  softdepsOf(m: KmodModule): { pre: string[]; post: string[] } {
    return this.config.softdeps?.get(m.name) ?? m.info?.softdeps ?? NO_SOFTDEPS;
  }

  private hasSoftdeps(m: KmodModule): boolean {
    return !noSoftdeps(this.softdepsOf(m));
  }

  /** the soft dependencies as module objects (each name looked up; one that resolves to nothing is dropped) */
  private softdepModules(m: KmodModule): { pre: KmodModule[]; post: KmodModule[] } {
    const sd = this.softdepsOf(m);
    // most modules have none: nothing to look up, and no lists to make
    if (noSoftdeps(sd)) return NO_SOFTDEP_MODULES;
    const look = (l: string[]): KmodModule[] => l.flatMap((n) => this.kmod_module_new_from_lookup(n));
    return { pre: look(sd.pre), post: look(sd.post) };
  }

  /**
   * kmod_module_get_probe_list. The requested module and its modules.dep dependencies are
   * "required"; then each dependency in load order (modules.dep lists them last-loaded-first)
   * with its soft dependencies around it, then the module with its own (unless -i). A soft
   * dependency brings its whole probe list and is visited once per object; a dependency is added
   * without that check, so a module that is both a dependency and a soft dependency's dependency
   * appears twice (Debian's crc-t10dif lists crct10dif_common three times).
   */
  probeList(mod: KmodModule, ignoreCommand: boolean): ProbeEntry[] {
    // the common case, a module without dependencies or soft dependencies: the walk below would
    // list it alone, required, with ignorecmd = -i
    if ((mod.info === undefined || mod.info.deps.length === 0) && !this.hasSoftdeps(mod)) {
      mod.ignorecmd = ignoreCommand;
      return [{ m: mod, soft: false }];
    }
    const list: KmodModule[] = [];
    const visited = new Set<KmodModule>();
    const required = new Set<KmodModule>();
    const deps = (m: KmodModule): KmodModule[] => {
      const d = m.info?.deps ?? [];
      const out: KmodModule[] = [];
      for (let i = d.length - 1; i >= 0; i--) out.push(this.kmod_module_new_from_name(d[i]!));
      return out;
    };
    const fillSoftdep = (m: KmodModule): void => {
      const sd = this.softdepModules(m);
      for (const p of sd.pre) getProbeList(p, false, false);
      list.push(m);
      m.ignorecmd = sd.pre.length > 0 || sd.post.length > 0;
      for (const p of sd.post) getProbeList(p, false, false);
    };
    const getProbeList = (m: KmodModule, isRequired: boolean, ignorecmd: boolean): void => {
      if (visited.has(m)) return;
      visited.add(m);
      const ds = deps(m);
      if (isRequired) {
        required.add(m);
        for (const d of ds) required.add(d);
      }
      for (const d of ds) fillSoftdep(d);
      if (ignorecmd) {
        list.push(m);
        m.ignorecmd = true;
      } else fillSoftdep(m);
    };
    getProbeList(mod, true, ignoreCommand);
    return list.map((m) => ({ m, soft: !required.has(m) }));
  }

  /**
   * kmod_module_probe_insert_module: skip a module already in the kernel (LIVE/BUILTIN), else
   * insert its probe list in order; each entry already in the kernel is skipped. -EEXIST from the
   * kernel counts as loaded unless failOnLoaded applies to the requested module; failures of
   * entries that are not required (softdeps) are ignored.
   */
  kmod_module_probe_insert_module(task: Task, mod: KmodModule, flags: ProbeFlags = {}, extraOptions = ''): Proc<ProbeResult> {
    // its own frame (sim/frame.ts): the probe's many steps do not resume the caller's generators
    return frame(this.probeInsert(task, mod, flags, extraOptions));
  }

  private *probeInsert(task: Task, mod: KmodModule, flags: ProbeFlags, extraOptions: string): Proc<ProbeResult> {
    const res: ProbeResult = { err: 0, failed: null, inserted: [], blacklisted: false };
    // module_is_inkernel(mod), written out here and below: one generator less per look
    let loaded = mod.builtin;
    if (!loaded) {
      yield* this.initstateRead();
      loaded = this.inKernel(this.initstateOf(mod));
    }
    if (loaded) {
      if (flags.failOnLoaded) res.err = -EEXIST;
      return res;
    }
    if ((flags.applyBlacklist || (flags.applyBlacklistAliasOnly && mod.alias !== null)) && this.isBlacklisted(mod)) {
      res.blacklisted = true;
      return res;
    }

    // an index, not for-of: a generator keeps an iterator (and a result object per step) alive across its yields
    const list = this.probeList(mod, flags.ignoreCommand ?? false);
    for (let i = 0; i < list.length; i++) {
      const { m, soft } = list[i]!;
      let err: number;
      let inKernel = m.builtin;
      if (!inKernel) {
        yield* this.initstateRead();
        inKernel = this.inKernel(this.initstateOf(m));
      }
      if (inKernel) {
        err = -EEXIST;
      } else if (m.install !== undefined && !m.ignorecmd) {
        if (!flags.dryRun) yield* spend(this.host, this.host.timings.forkExecNs);
        err = flags.dryRun ? 0 : m.install.exitCode === 0 ? 0 : -ENOENT;
      } else if (m.builtin) {
        err = 0;
      } else {
        const opts = this.optionsOf(m, m === mod ? extraOptions : '');
        err = flags.dryRun ? 0 : yield* this.kmod_module_insert_module(task, m, opts);
        if (err === 0 && !flags.dryRun) res.inserted.push(m.name);
      }
      // "already loaded" (or an init that returned -EEXIST, indistinguishable) is success, unless
      // --first-time and it is the requested module
      if (err === -EEXIST && m === mod && flags.failOnLoaded) {
        res.err = err;
        res.failed = m.name;
        return res;
      }
      if (err === -EEXIST || soft) err = 0;
      if (err < 0) {
        res.err = err;
        res.failed = m.name;
        return res;
      }
    }
    return res;
  }

  /** a module's options: the configuration's `options` line, then the command line's, space-separated */
  private optionsOf(m: KmodModule, extra: string): string {
    const conf = this.config.options?.get(m.name) ?? '';
    if (conf === '') return extra;
    return extra === '' ? conf : `${conf} ${extra}`;
  }

  /**
   * What `modprobe --show-depends` prints for one module of a lookup (a dry run that ignores what
   * is loaded): its probe list as "insmod PATH OPTIONS", "install COMMAND OPTIONS" or "builtin
   * NAME" lines; a module with neither file nor built-in entry prints nothing. A blacklisted
   * module found by alias prints nothing at all.
   */
  showDepends(mod: KmodModule, flags: ProbeFlags = {}, extraOptions = ''): string[] {
    if ((flags.applyBlacklist || (flags.applyBlacklistAliasOnly && mod.alias !== null)) && this.isBlacklisted(mod)) return [];
    const out: string[] = [];
    for (const { m } of this.probeList(mod, flags.ignoreCommand ?? false)) {
      const opts = this.optionsOf(m, m === mod ? extraOptions : '');
      if (m.install !== undefined && !m.ignorecmd) out.push(`install ${m.install.command} ${opts}`);
      else if (m.info !== undefined) out.push(`insmod ${this.index.pathOf(m.info)} ${opts}`);
      else if (m.builtin) out.push(`builtin ${m.name}`);
    }
    return out;
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
