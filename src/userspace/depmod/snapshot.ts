/**
 * DOC: compact module-set snapshots, so nothing needs a real /lib/modules tree to run.
 *
 * scripts/snapshot/ reads Debian's kernel packages with the readers in this directory and writes
 * data/modules/<name>.json.gz. A snapshot is the ModuleSet with modules as fixed-order tuples
 * (gzip removes the rest of the redundancy). The embedded default is Debian's 6.1; `--modules DIR`
 * (loadModuleSet({modulesDir})) reads any real tree instead.
 *
 * `symbols` (modules.symbols) and `builtinAliases` (modules.builtin.modinfo's aliases) were added
 * later as optional fields of the same format: a snapshot without them still reads, and then has
 * no symbol: or built-in alias lookups, as a tree without those files.
 *
 * A snapshot file is validated with zod (loaded, with the schema, on first use) unless it is a
 * shipped one whose bytes are those recorded in data/shipped-checksums.json (../shipped.ts):
 * that one was validated when it was recorded, and is read without zod.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import type { z as Zod } from 'zod';
import { InputError } from '../../errors.js';
import type { AliasEntry, Compression, ModuleInfo, ModuleSet, SectionSizeKey, SectionSizes } from '../moduleset.js';
import { requireRegularFile } from '../files.js';
import { knownShipped } from '../shipped.js';
import { dataPath } from './paths.js';

/** Debian's stripped trees (scripts/snapshot/generate.ts) and, -dbg, the same trees with the
 *  unstripped modules of Debian's -dbg packages: a developer kernel (scripts/snapshot/generate-dbg.ts) */
export const SNAPSHOT_NAMES = ['debian-6.1', 'debian-6.12', 'debian-6.1-dbg', 'debian-6.12-dbg'] as const;
export type SnapshotName = (typeof SNAPSHOT_NAMES)[number];
export const DEFAULT_SNAPSHOT: SnapshotName = 'debian-6.1';
export const SNAPSHOT_FORMAT = 'kmodlab-moduleset/1';

/** SectionSizes in this key order inside a snapshot tuple */
const SECTION_KEYS: SectionSizeKey[] = ['text', 'rodata', 'roAfterInit', 'data', 'initText', 'initRodata', 'initData', 'percpu', 'symtab'];

function buildSchema(z: typeof Zod) {
  const nonneg = z.number().int().nonnegative();
  const moduleTuple = z.tuple([
    z.string().min(1), // name
    z.string().min(1), // path
    nonneg, // fileSize
    z.enum(['none', 'gzip', 'xz', 'zstd']),
    nonneg, // imageSize
    z.union([z.literal(0), z.literal(1)]), // signed
    z.array(z.string()), // deps
    z.array(z.string()), // softdep pre
    z.array(z.string()), // softdep post
    z.array(nonneg).length(SECTION_KEYS.length).nullable(), // sections
  ]);
  const snapshotSchema = z.object({
    format: z.literal(SNAPSHOT_FORMAT),
    release: z.string().min(1),
    /** where the tree came from (package name and version) */
    source: z.string(),
    modules: z.array(moduleTuple),
    aliases: z.array(z.tuple([z.string(), z.string()])),
    builtin: z.array(z.string()),
    order: z.array(z.string()),
    /** modules.symbols: [symbol:NAME, module] */
    symbols: z.array(z.tuple([z.string().startsWith('symbol:'), z.string().min(1)])).optional(),
    /** modules.builtin.modinfo aliases: [pattern, module] in file order */
    builtinAliases: z.array(z.tuple([z.string().min(1), z.string().min(1)])).optional(),
  });
  return snapshotSchema;
}

let schema: ReturnType<typeof buildSchema> | undefined;
function moduleSetSchema(): ReturnType<typeof buildSchema> {
  return (schema ??= buildSchema((createRequire(import.meta.url)('zod') as { z: typeof Zod }).z));
}

export type SnapshotJson = Zod.infer<ReturnType<typeof buildSchema>>;

export function toSnapshotJson(set: ModuleSet, source: string): SnapshotJson {
  return {
    format: SNAPSHOT_FORMAT,
    release: set.release,
    source,
    modules: [...set.modules.values()].map((m) => [
      m.name,
      m.path,
      m.fileSize,
      m.compression,
      m.imageSize,
      m.signed ? 1 : 0,
      m.deps,
      m.softdeps.pre,
      m.softdeps.post,
      m.sections ? SECTION_KEYS.map((k) => m.sections![k]) : null,
    ]),
    aliases: set.aliases.map((a) => [a.pattern, a.module]),
    builtin: [...set.builtin],
    order: set.order,
    ...(set.symbols ? { symbols: [...set.symbols].map(([k, v]): [string, string] => [k, v]) } : {}),
    ...(set.builtinAliases ? { builtinAliases: set.builtinAliases.map((a): [string, string] => [a.pattern, a.module]) } : {}),
  };
}

export function fromSnapshotJson(json: unknown, file: string): ModuleSet {
  const r = moduleSetSchema().safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(`${file}: not a kmodlab module-set snapshot: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return moduleSetOf(r.data);
}

/** the ModuleSet of a valid snapshot (validated here, or a shipped one validated when recorded) */
function moduleSetOf(s: SnapshotJson): ModuleSet {
  // indexed reads, not destructuring: this runs once per process, before the JIT has compiled
  // it, and array destructuring walks the iterator protocol in the interpreter (~17,000
  // instructions a module, ~70 M for a 4,000-module set)
  const modules = new Map<string, ModuleInfo>();
  const tuples = s.modules;
  for (let i = 0; i < tuples.length; i++) {
    const t = tuples[i]!;
    const name = t[0];
    const info: ModuleInfo = { name, path: t[1], fileSize: t[2], compression: t[3] as Compression, imageSize: t[4], signed: t[5] === 1, deps: t[6], softdeps: { pre: t[7], post: t[8] } };
    const sec = t[9];
    if (sec) info.sections = sectionsOf(sec);
    modules.set(name, info);
  }
  return {
    release: s.release,
    modules,
    aliases: aliasEntries(s.aliases),
    builtin: new Set(s.builtin),
    order: s.order,
    ...(s.symbols ? { symbols: new Map(s.symbols) } : {}),
    ...(s.builtinAliases ? { builtinAliases: aliasEntries(s.builtinAliases) } : {}),
  };
}

/** a snapshot's section tuple as SectionSizes, keys in SECTION_KEYS order */
function sectionsOf(sec: readonly number[]): SectionSizes {
  return { text: sec[0]!, rodata: sec[1]!, roAfterInit: sec[2]!, data: sec[3]!, initText: sec[4]!, initRodata: sec[5]!, initData: sec[6]!, percpu: sec[7]!, symtab: sec[8]! };
}

function aliasEntries(pairs: readonly (readonly [string, string])[]): AliasEntry[] {
  const out: AliasEntry[] = new Array<AliasEntry>(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    out[i] = { pattern: p[0], module: p[1] };
  }
  return out;
}

export function writeSnapshotFile(set: ModuleSet, source: string, file: string): Buffer {
  const gz = zlib.gzipSync(JSON.stringify(toSnapshotJson(set, source)), { level: 9 });
  fs.writeFileSync(file, gz);
  return gz;
}

export function readSnapshotFile(file: string): ModuleSet {
  let raw: Buffer;
  // a FIFO named as a snapshot would block the read forever
  requireRegularFile(file);
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    throw new InputError(`${file}: cannot read snapshot: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  // a shipped snapshot, byte for byte the one validated when data/shipped-checksums.json was written
  const known = knownShipped(file, raw);
  let text: string;
  try {
    text = raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  } catch (err) {
    throw new InputError(`${file}: corrupt gzip data: ${err instanceof Error ? err.message : String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (known === null) return fromSnapshotJson(json, file);
  const set = moduleSetOf(json as SnapshotJson);
  if (known.valueHash !== undefined) recordedHashes.set(set, known.valueHash);
  return set;
}

const recordedHashes = new WeakMap<ModuleSet, string>();

/**
 * The hash of a shipped snapshot's module set as recorded with its checksum (the hash a run
 * identity takes of it: a 4,000-module set costs ~50 ms to hash in every sweep), or undefined
 * when the set was not read from a recorded shipped file.
 */
export function recordedValueHash(set: ModuleSet): string | undefined {
  return recordedHashes.get(set);
}

const cache = new Map<string, ModuleSet>();

/** the file of a snapshot name or path (an unknown name is an error) */
function snapshotFile(nameOrPath: string): string {
  if ((SNAPSHOT_NAMES as readonly string[]).includes(nameOrPath)) return dataPath('modules', `${nameOrPath}.json.gz`);
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.json') || nameOrPath.endsWith('.json.gz')) return nameOrPath;
  throw new InputError(`unknown module snapshot '${nameOrPath}' (known: ${SNAPSHOT_NAMES.join(', ')})`);
}

/** A shipped snapshot by name ('debian-6.1', 'debian-6.12', 'debian-6.1-dbg', 'debian-6.12-dbg') or a snapshot file path. Cached. */
export function loadSnapshot(nameOrPath: string = DEFAULT_SNAPSHOT): ModuleSet {
  const hit = cache.get(nameOrPath);
  if (hit) return hit;
  const set = readSnapshotFile(snapshotFile(nameOrPath));
  cache.set(nameOrPath, set);
  return set;
}

/**
 * The hash recordedValueHash would give the module set of loadSnapshot(nameOrPath), without
 * making the set, when the file is a shipped snapshot with its recorded bytes: then reading it
 * can fail in no way, so what a sweep's main thread wants of it (that it reads, and its hash for
 * the run identities) is had from the bytes' checksum alone — no gunzip, JSON.parse or maps
 * (~80 ms of CPU; the worker threads read the set themselves). Undefined otherwise (another file,
 * an edited one, an unknown name, a read error): the caller loads it, and meets its error, as before.
 */
export function shippedSnapshotHash(nameOrPath: string = DEFAULT_SNAPSHOT): string | undefined {
  const hit = cache.get(nameOrPath);
  if (hit) return recordedValueHash(hit);
  let file: string;
  let raw: Buffer;
  try {
    file = snapshotFile(nameOrPath);
    requireRegularFile(file);
    raw = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  return knownShipped(file, raw)?.valueHash;
}

export interface LoadModuleSetOptions {
  snapshot?: SnapshotName | string;
  /** a real /lib/modules/<release> directory; wins over snapshot */
  modulesDir?: string;
}

/**
 * The module set a run uses: a real tree (--modules DIR) or a snapshot (default debian-6.1).
 * The tree reader (its dozen depmod file parsers, ~50 M instructions to import) is loaded only for a tree.
 */
export async function loadModuleSet(opts: LoadModuleSetOptions = {}): Promise<ModuleSet> {
  if (opts.modulesDir) return (await import('./tree.js')).readModulesDir(opts.modulesDir);
  return loadSnapshot(opts.snapshot ?? DEFAULT_SNAPSHOT);
}
