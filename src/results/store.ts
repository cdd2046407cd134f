/**
 * DOC: the storm's result store — `--out DIR`, resume, `storm merge`.
 *
 * A big sweep (hundreds of CPU counts × presets × seeds) must survive Ctrl-C, crashes and being
 * spread over many machines by whatever job runner is at hand. So results are kept kdevops-style,
 * one file per run, never one big file:
 *
 * - each run is `DIR/run_<machine>_c<cpus>_<kernel>_s<seed>.json`, a name that is a pure function
 *   of the run point (fields percent-encoded so the name is unambiguous), written atomically
 *   (write-file-atomic: temp file + fsync + rename), so a file either holds a whole record or
 *   does not exist;
 * - `manifest.json` records the sweep's parameters, and refuses a different sweep into the same
 *   directory (mixing them would make resume skip the wrong runs);
 * - the run files hold the record and nothing else (any reader of records can read them);
 *   what each was made from lives in the manifest's `runs` index: the run's identity (a hash of
 *   everything that decided the result, src/results/identity.ts) and a checksum over the
 *   record and that identity. The index is rewritten atomically after each record, batched: a
 *   record whose entry was lost with a killed writer has no identity, and is recomputed;
 * - resume = `listStored`: a run whose file exists, parses as a record and matches its checksum
 *   is found; the sweep reuses it only when its identity is the one the run would have now
 *   (src/experiments/sweep.ts). Temp files left by a killed writer are ignored, and removed once
 *   they are clearly stale;
 * - `merge` joins result directories, keeps identical duplicates once and rejects conflicting
 *   ones, naming both files; it refuses a record whose checksum does not match, and the same
 *   kernel label run from different inputs in two files.
 *
 * Which points a sweep (or one `--shard i/N` of it) runs is the experiment's business
 * (src/experiments/points.ts); this file only keys, stores and reads their records.
 */
import { mkdir, readFile, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoText, InputError, ioError } from '../errors.js';
import { recordJson } from './json.js';
import { changedInputs, hashValue, recordChecksum, type RunIdentity } from './identity.js';
import { kernelOrder, paramsFromRecords, pointComparator } from './order.js';
import { firstIssue, recordSchemas, validateRecord, type StormParams, type StormRunRecord } from './record.js';
import { runFileName, runKey, type RunPoint } from './run-key.js';

/** write-file-atomic (and its signal-exit hooks) is imported at the first write: a run that writes no file never loads it */
async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const { default: write } = await import('write-file-atomic');
  await write(file, data);
}

export { runFileName, runKey, type RunPoint };

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'kmodlab-storm-results';

/** What a stored run was made from, as the manifest's index keeps it. */
export interface RunEntry {
  /** the run identity's id (absent: stored without one) */
  identity?: string;
  /** key into the manifest's `inputs`: the identity's parts */
  inputs?: string;
  /** recordChecksum of the run file's record and identity */
  checksum: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  params: StormParams;
  /** run key → what the stored record was made from (src/results/identity.ts) */
  runs?: Record<string, RunEntry>;
  /** hash of a set of identity parts → the parts (shared by every run made from them) */
  inputs?: Record<string, Record<string, string>>;
}

/** Temp files of write-file-atomic: `<target>.<32-bit hash>`. */
const TEMP_FILE = /^(run_.*|manifest)\.json\.\d+$/;
const RUN_FILE = /^run_.*\.json$/;
/** A temp file older than this belongs to a dead writer (a live one renames within ms). */
const STALE_TEMP_MS = 60_000;

// ---- writing ----------------------------------------------------------------------------------

function sameParams(a: StormParams, b: StormParams): boolean {
  const norm = (p: StormParams) =>
    JSON.stringify([p.machine, [...p.cpus].sort((x, y) => x - y), [...p.kernels].sort(), [...p.seeds].sort((x, y) => x - y)]);
  return norm(a) === norm(b);
}

async function readManifest(dir: string): Promise<Manifest | null> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InputError(`${file}: cannot read: ${errnoText(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(`${file}: not valid JSON`);
  }
  const v = value as Partial<Manifest>;
  if (v?.format !== MANIFEST_FORMAT || v.version !== 1) throw new InputError(`${file}: not a kmodlab storm manifest`);
  const p = recordSchemas().stormParamsSchema.safeParse(v.params);
  if (!p.success) throw new InputError(`${file}: bad params (${firstIssue(p.error)})`);
  const isMap = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (v.runs !== undefined && (!isMap(v.runs) || !Object.values(v.runs).every((e) => isMap(e) && typeof e.checksum === 'string'))) {
    throw new InputError(`${file}: bad runs index`);
  }
  if (v.inputs !== undefined && (!isMap(v.inputs) || !Object.values(v.inputs).every((e) => isMap(e) && Object.values(e).every((h) => typeof h === 'string')))) {
    throw new InputError(`${file}: bad inputs index`);
  }
  return v as Manifest;
}

/**
 * A file of the store that could not be written: the option, the user's directory and the file
 * in it (`--out res: res/run_….json: is a directory`); "--out res: is a directory" would blame
 * the directory, which is one.
 */
function fileError(dir: string, file: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  return new InputError(`--out ${dir}: ${path.join(dir, path.basename(file))}: ${errnoText(err)}`);
}

/**
 * Prepare DIR for a sweep: create it, write the manifest, or check that the manifest already
 * there is for the same sweep (the command line may differ, e.g. in `--shard`).
 */
export async function openStore(dir: string, params: StormParams): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw ioError('--out', dir, err);
  }
  const existing = await readManifest(dir);
  if (existing) {
    if (!sameParams(existing.params, params)) {
      throw new InputError(
        `--out ${dir}: holds results of a different sweep (machine ${existing.params.machine}, cpus ${existing.params.cpus.join(',')}, kernels ${existing.params.kernels.join(',')}, seeds ${existing.params.seeds.join(',')}); use another directory`,
      );
    }
    return;
  }
  const manifest: Manifest = { format: MANIFEST_FORMAT, version: 1, params };
  try {
    await writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  } catch (err) {
    throw fileError(dir, MANIFEST_FILE, err);
  }
}

/** Write one run's record (and, in the manifest's index, what it was made from) atomically; returns the file's path. */
export async function writeRecord(dir: string, record: StormRunRecord, identity?: RunIdentity): Promise<string> {
  const file = path.join(dir, runFileName(record));
  try {
    await writeFileAtomic(file, recordJson(record, 2) + '\n');
  } catch (err) {
    throw fileError(dir, file, err);
  }
  await indexRun(dir, runKey(record), identity, recordChecksum(recordJson(record), identity));
  return file;
}

interface PendingIndex {
  entries: Map<string, { entry: RunEntry; parts?: Readonly<Record<string, string>> }>;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
  writing: boolean;
}

const indexQueues = new Map<string, PendingIndex>();

/**
 * Add a run's entry to DIR's manifest index. Entries arriving while a manifest write is under
 * way are written together by the next one (one rewrite per batch, not per run); the manifest
 * is read again before each write, so entries another writer added are kept.
 */
function indexRun(dir: string, key: string, identity: RunIdentity | undefined, checksum: string): Promise<void> {
  let q = indexQueues.get(dir);
  if (q === undefined) {
    q = { entries: new Map(), waiters: [], writing: false };
    indexQueues.set(dir, q);
  }
  const entry: RunEntry = identity !== undefined ? { identity: identity.id, inputs: hashValue(identity.inputs), checksum } : { checksum };
  q.entries.set(key, identity !== undefined ? { entry, parts: identity.inputs } : { entry });
  const done = new Promise<void>((resolve, reject) => q.waiters.push({ resolve, reject }));
  if (!q.writing) void flushIndex(dir, q);
  return done;
}

async function flushIndex(dir: string, q: PendingIndex): Promise<void> {
  q.writing = true;
  while (q.entries.size > 0) {
    const entries = q.entries;
    const waiters = q.waiters;
    q.entries = new Map();
    q.waiters = [];
    try {
      const m = await readManifest(dir);
      if (m !== null) {
        const runs = { ...(m.runs ?? {}) };
        const inputs = { ...(m.inputs ?? {}) };
        for (const [key, { entry, parts }] of entries) {
          runs[key] = entry;
          if (parts !== undefined && entry.inputs !== undefined) inputs[entry.inputs] = { ...parts };
        }
        await writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify({ ...m, runs, inputs }, null, 2) + '\n');
      }
      for (const w of waiters) w.resolve();
    } catch (err) {
      const e = fileError(dir, MANIFEST_FILE, err);
      for (const w of waiters) w.reject(e);
    }
  }
  q.writing = false;
  indexQueues.delete(dir);
}

// ---- reading ----------------------------------------------------------------------------------

/** A record file as found: the record, the identity it was stored with, and whether its checksum holds. */
export interface StoredRecord {
  file: string;
  record: StormRunRecord;
  /** absent for runs stored before identities, by hand, or whose index entry was lost */
  identity?: RunIdentity;
  /** `ok`: matches; `missing`: the index has no entry; `bad`: the record or identity changed since it was written */
  checksum: 'ok' | 'missing' | 'bad';
}

/** The record's index entry checked: its identity, and whether the checksum holds. */
function checkEntry(record: StormRunRecord, manifest: Manifest | null): Pick<StoredRecord, 'identity' | 'checksum'> {
  const entry = manifest?.runs?.[runKey(record)];
  if (entry === undefined) return { checksum: 'missing' };
  const parts = entry.inputs !== undefined ? manifest?.inputs?.[entry.inputs] : undefined;
  const identity = entry.identity !== undefined && parts !== undefined ? { id: entry.identity, inputs: parts } : undefined;
  const ok = entry.checksum === recordChecksum(recordJson(record), identity) && (entry.identity === undefined || identity !== undefined);
  return { ...(identity !== undefined ? { identity } : {}), checksum: ok ? 'ok' : 'bad' };
}

/** Read every complete record file in DIR; unreadable ones are skipped (resume reruns them). */
async function scan(dir: string, strict: boolean, cleanTemp: boolean): Promise<StoredRecord[]> {
  let manifest: Manifest | null;
  try {
    manifest = await readManifest(dir);
  } catch (err) {
    if (strict) throw err;
    manifest = null; // a broken manifest: nothing is known of what the runs were made from
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (strict) throw new InputError(`${dir}: no such directory`);
      return [];
    }
    throw err;
  }
  names.sort();
  const out: StoredRecord[] = [];
  const now = Date.now();
  for (const name of names) {
    const file = path.join(dir, name);
    if (TEMP_FILE.test(name)) {
      if (cleanTemp) {
        try {
          const st = await stat(file);
          if (now - st.mtimeMs > STALE_TEMP_MS) await unlink(file);
        } catch {
          // gone already, or not ours to remove: either way it is not a result
        }
      }
      continue;
    }
    if (!RUN_FILE.test(name)) continue;
    let record: StormRunRecord;
    try {
      record = validateRecord(JSON.parse(await readFile(file, 'utf8')), file);
    } catch (err) {
      if (strict) throw err instanceof InputError ? err : new InputError(`${file}: not valid JSON`);
      continue;
    }
    const stored = { record, ...checkEntry(record, manifest) };
    if (runFileName(record) !== name) {
      if (strict) throw new InputError(`${file}: holds the run ${runKey(record)}, not the one its name says`);
      continue;
    }
    if (strict && stored.checksum === 'bad') throw new InputError(`${file}: checksum mismatch: the record was changed after kmodlab wrote it`);
    out.push({ file, ...stored });
  }
  return out;
}

/**
 * Every run stored in DIR (for resume): key → the record with its identity and checksum status.
 * Unreadable files are left out (resume reruns them); stale temp files of killed writers are removed.
 */
export async function listStored(dir: string): Promise<Map<string, StoredRecord>> {
  const found = new Map<string, StoredRecord>();
  for (const s of await scan(dir, false, true)) found.set(runKey(s.record), s);
  return found;
}

/**
 * The runs already done in DIR: key → record. A run counts as done when its file exists, parses
 * as a record of that run and does not fail its checksum (a file without one, from an older
 * kmodlab, counts); identities are the sweep's business (listStored).
 */
export async function listDone(dir: string): Promise<Map<string, StormRunRecord>> {
  const done = new Map<string, StormRunRecord>();
  for (const [k, s] of await listStored(dir)) if (s.checksum !== 'bad') done.set(k, s.record);
  return done;
}

/** Everything in a result directory: its manifest (if any) and its records. */
export async function readStore(dir: string): Promise<{ manifest: Manifest | null; records: StormRunRecord[] }> {
  const manifest = await readManifest(dir);
  const records = (await scan(dir, true, false)).map((s) => s.record);
  return { manifest, records };
}

// ---- merging ----------------------------------------------------------------------------------

export interface MergeResult {
  records: StormRunRecord[];
  params: StormParams;
}

/**
 * Join result directories (shards of one sweep, or sweeps to compare). Returns the records sorted
 * by (machine, cpus, kernel, seed) — kernels in the manifests' order — and parameters spanning
 * them. The same run found twice must hold the same record; otherwise this throws, naming both.
 */
export async function merge(dirs: readonly string[], command = ''): Promise<MergeResult> {
  if (dirs.length === 0) throw new InputError('merge: no result directories given');
  const seen = new Map<string, { file: string; json: string; record: StormRunRecord }>();
  /** kernel label → the first file of it that has an identity: every other must have the same inputs */
  const inputsOf = new Map<string, { file: string; inputs: Readonly<Record<string, string>> }>();
  const kernelsGiven: string[] = [];
  for (const dir of dirs) {
    const st = await stat(dir).catch(() => null);
    if (!st) throw new InputError(`merge: ${dir}: no such directory`);
    if (!st.isDirectory()) throw new InputError(`merge: ${dir}: not a directory`);
    const manifest = await readManifest(dir);
    const files = await scan(dir, true, false);
    if (!manifest && files.length === 0) throw new InputError(`merge: ${dir}: no storm results here (no manifest, no run files)`);
    for (const k of manifest?.params.kernels ?? []) if (!kernelsGiven.includes(k)) kernelsGiven.push(k);
    for (const { file, record, identity } of files) {
      const key = runKey(record);
      if (identity !== undefined) {
        const first = inputsOf.get(record.kernel);
        if (first === undefined) inputsOf.set(record.kernel, { file, inputs: identity.inputs });
        else {
          const changed = changedInputs(first.inputs, identity.inputs);
          if (changed.length > 0) throw new InputError(`merge: ${first.file} and ${file}: kernel ${record.kernel} was run from different inputs (${changed.join(', ')}); merge the results of one sweep`);
        }
      }
      const json = recordJson(record);
      const prev = seen.get(key);
      if (!prev) {
        seen.set(key, { file, json, record });
      } else if (prev.json !== json) {
        throw new InputError(`merge: conflicting results for ${key}: ${prev.file} and ${file} differ`);
      }
    }
  }
  const all = [...seen.values()].map((v) => v.record);
  all.sort(pointComparator(kernelOrder(all, { kernels: kernelsGiven })));
  return { records: all, params: paramsFromRecords(all, command, { kernels: kernelsGiven }) };
}
