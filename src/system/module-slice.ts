/**
 * DOC: a module set's slice — the modules and look-up answers a kmod.sh run or a shipped
 * machine's coldplug needs, without reading the whole snapshot.
 *
 * Why it exists: a selftest looks up about eight names (test_module, xfs, fs-xfs, their "nope-"
 * variants, crc32c through libcrc32c's softdep, …) and a coldplug storm a few dozen (the
 * machine's modaliases and the udev rules' `kmod load` names) in a module set of ~4,000 modules
 * and 26,000 aliases; reading that snapshot (gunzip, JSON.parse, maps) cost ~40 ms of a ~0.7 s
 * selftest, and a 255-CPU storm ~0.9 G of its ~4.9 G instructions (the read, a file and a
 * behaviour for each of the 4,000 modules, the alias buckets, and GC copying a heap that holds
 * it all run long; 3.9 G on the slice). A slice (data/modules/<snapshot>.slice.json, written by
 * scripts/snapshot/module-slice.ts from the snapshot, the shipped machine profiles and udev
 * rules) records, for a closed set of names, what the full index answers for each of them (dep,
 * modules.alias, modules.builtin, built-in aliases, symbol), the modules those answers reach, the
 * set's release and module count (what a storm record names).
 *
 * The names (scripts/snapshot/module-slice.ts sliceNames): kmod.sh's defaults, and for every shipped machine profile every
 * modalias its coldplug can send — the CPUs', the ACPI processors', each device's, those a
 * module's init creates — and every name its udev rules load by name. Their answers' modules,
 * modules.dep dependencies and soft dependencies are followed until closed.
 *
 * SlicedKmodIndex answers a name of the slice from it, and anything else (another name, the
 * whole module list) from the full index, which it loads then, once: so every answer is the full
 * index's, whatever the machine (a profile of one's own, an edited one) looks up. A slice is used
 * only while the snapshot's bytes are the ones it was made from (size and CRC-32), and
 * test/system/module-slice.test.ts fails when a shipped slice is out of date (snapshot, profiles
 * or rules changed). KMODLAB_FULL_INDEX=1 makes a machine read the full index at once (the test
 * compares a storm's output both ways).
 */
import fs from 'node:fs';
import { KmodIndex, normalise, type KmodIndexOptions } from '../userspace/libkmod.js';
import type { ModuleInfo, ModuleSet } from '../userspace/moduleset.js';
import { dataPath } from '../userspace/depmod/paths.js';
import { loadSnapshot } from '../userspace/depmod/snapshot.js';
import { checksum } from '../userspace/shipped.js';

export const SLICE_FORMAT = 'kmodlab-module-slice/2';

/** the names kmod.sh looks up with its defaults (DEFAULT_KMOD_DRIVER test_module, DEFAULT_KMOD_FS xfs) */
export const KMOD_SH_NAMES: readonly string[] = ['test_kmod', 'test_module', 'nope-test_module', 'xfs', 'fs-xfs', 'nope-xfs', 'fs-nope-xfs', '', 'fs-'];

/** what the full index answers for one (normalised) name */
export interface SliceAnswer {
  /** modules.alias matches, in the index's order */
  alias: string[];
  /** modules.builtin.modinfo alias matches */
  builtinAlias: string[];
  builtin: boolean;
  /** modules.symbols, for a "symbol:" name */
  symbol: string | null;
}

export interface ModuleSliceJson {
  format: typeof SLICE_FORMAT;
  /** the snapshot it was made from, and its bytes' size and CRC-32 */
  snapshot: string;
  size: number;
  crc32: number;
  release: string;
  /** how many modules the set has (the test modules and other extra ones not counted) */
  moduleCount: number;
  /** every module any answer reaches (with its dependencies and soft dependencies), in the set's order */
  modules: ModuleInfo[];
  /** each module's position in the set's order (its file's inode is the tree's first + this) */
  positions: number[];
  /** by normalised name: the closed set of names the slice answers */
  names: Record<string, SliceAnswer>;
  /** the filesystems of the names that have any (a module's fs-NAME aliases) */
  filesystems: Record<string, string[]>;
}

/**
 * The slice of `set` for `names`: they and every name their answers lead to (the modules found,
 * their modules.dep dependencies and soft dependencies), closed, with the full index's answers.
 */
export function makeModuleSlice(set: ModuleSet, names: readonly string[], snapshot: { name: string; size: number; crc32: number }): ModuleSliceJson {
  const index = new KmodIndex(set);
  const answers: Record<string, SliceAnswer> = {};
  const reached = new Set<string>();
  const todo = names.map(normalise);
  while (todo.length > 0) {
    const n = todo.shift()!;
    if (Object.hasOwn(answers, n)) continue;
    const a: SliceAnswer = {
      alias: [...index.alias(n)],
      builtinAlias: [...index.builtinAlias(n)],
      builtin: index.isBuiltin(n),
      symbol: n.startsWith('symbol:') ? (index.symbol(n) ?? null) : null,
    };
    answers[n] = a;
    const found = [...a.alias, ...a.builtinAlias, ...(a.symbol !== null ? [a.symbol] : [])];
    if (index.dep(n) !== undefined) found.push(n);
    for (const m of found) {
      const name = normalise(m);
      todo.push(name);
      const info = index.dep(name);
      if (info === undefined) continue;
      reached.add(name);
      todo.push(...info.deps, ...info.softdeps.pre, ...info.softdeps.post);
    }
  }
  const all = [...set.modules.values()];
  const modules: ModuleInfo[] = [];
  const positions: number[] = [];
  all.forEach((m, i) => {
    if (!reached.has(m.name)) return;
    modules.push(m);
    positions.push(i);
  });
  const filesystems: Record<string, string[]> = {};
  for (const n of Object.keys(answers)) {
    const f = index.filesystemsOf(n);
    if (f.length > 0) filesystems[n] = f;
  }
  return { format: SLICE_FORMAT, snapshot: snapshot.name, size: snapshot.size, crc32: snapshot.crc32, release: set.release, moduleCount: set.modules.size, modules, positions, names: answers, filesystems };
}

/** the shipped slice file of a snapshot name */
export function sliceFile(snapshot: string): string {
  return dataPath('modules', `${snapshot}.slice.json`);
}

/** the snapshot file's size and CRC-32 (what a slice records of it; shipped.ts's checksum) */
export function snapshotChecksum(snapshot: string): { size: number; crc32: number } {
  return checksum(fs.readFileSync(dataPath('modules', `${snapshot}.json.gz`)));
}

/**
 * The shipped slice of a shipped snapshot, or null when there is none or the snapshot's bytes
 * are not the ones it was made from (then the caller reads the snapshot, as without a slice).
 */
export function loadModuleSlice(snapshot: string): ModuleSliceJson | null {
  let slice: ModuleSliceJson;
  let sum: { size: number; crc32: number };
  try {
    slice = JSON.parse(fs.readFileSync(sliceFile(snapshot), 'utf8')) as ModuleSliceJson;
    sum = snapshotChecksum(snapshot);
  } catch {
    return null;
  }
  if (slice.format !== SLICE_FORMAT || slice.snapshot !== snapshot || slice.size !== sum.size || slice.crc32 !== sum.crc32) return null;
  return slice;
}

/**
 * A KmodIndex that answers the slice's names from the slice and loads the full index (once) for
 * anything else. `onFull` is told when it does, with the full index (the machine adds the rest
 * of the module files then).
 */
export class SlicedKmodIndex extends KmodIndex {
  private readonly answers: ReadonlyMap<string, SliceAnswer>;
  private readonly sliceModules: ReadonlyMap<string, ModuleInfo>;
  private readonly fsOf: ReadonlyMap<string, string[]>;
  private fullIndex: KmodIndex | null = null;

  constructor(
    private readonly slice: ModuleSliceJson,
    private readonly opts: KmodIndexOptions,
    private readonly onFull: (full: KmodIndex) => void,
  ) {
    const modules = new Map(slice.modules.map((m) => [m.name, m]));
    for (const x of opts.extra ?? []) modules.set(x.name, x);
    super({ release: slice.release, modules, aliases: [], builtin: new Set(), order: [] });
    this.sliceModules = modules;
    this.answers = new Map(Object.entries(slice.names));
    this.fsOf = new Map(Object.entries(slice.filesystems));
  }

  /** the modules the slice has files for (the extra ones included) */
  slicedModules(): Iterable<ModuleInfo> {
    return this.sliceModules.values();
  }

  /**
   * The slice's files and their positions in the full index's module order (the set's, then the
   * extra modules not in it), and how many modules that order has: what numbers a tree's inodes.
   * An extra module of a name the set has takes that module's place, as in the full index; every
   * such name is one the slice answers (kmod.sh's test_kmod, test_module), so its place is known.
   */
  slicedTree(): { modules: ModuleInfo[]; positions: number[]; count: number } {
    const pos = new Map<string, number>();
    this.slice.modules.forEach((m, i) => pos.set(m.name, this.slice.positions[i]!));
    let count = this.slice.moduleCount;
    for (const x of this.opts.extra ?? []) if (!pos.has(x.name)) pos.set(x.name, count++);
    const modules = [...this.sliceModules.values()];
    return { modules, positions: modules.map((m) => pos.get(m.name)!), count };
  }

  /** whether something asked what the slice does not answer (and the full index was read) */
  get readFull(): boolean {
    return this.fullIndex !== null;
  }

  /** the full index, read on first need */
  private full(): KmodIndex {
    if (this.fullIndex === null) {
      this.fullIndex = KmodIndex.forSet(loadSnapshot(this.slice.snapshot), this.opts);
      this.onFull(this.fullIndex);
    }
    return this.fullIndex;
  }

  override dep(name: string): ModuleInfo | undefined {
    return this.answers.has(name) ? this.sliceModules.get(name) : this.full().dep(name);
  }

  override allModules(): Iterable<ModuleInfo> {
    return this.full().allModules();
  }

  override alias(name: string): readonly string[] {
    return this.answers.get(name)?.alias ?? this.full().alias(name);
  }

  override builtinAlias(name: string): readonly string[] {
    return this.answers.get(name)?.builtinAlias ?? this.full().builtinAlias(name);
  }

  override symbol(name: string): string | undefined {
    const a = this.answers.get(name);
    if (a === undefined) return this.full().symbol(name);
    return a.symbol ?? undefined;
  }

  override isBuiltin(name: string): boolean {
    return this.answers.get(name)?.builtin ?? this.full().isBuiltin(name);
  }

  override filesystemsOf(module: string): string[] {
    return this.answers.has(module) ? (this.fsOf.get(module) ?? []) : this.full().filesystemsOf(module);
  }
}
