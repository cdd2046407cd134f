/**
 * DOC: `--results DIR` — results kept per kernel release, one directory per run, kdevops-style
 * (`results/<uname -r>/…`), so two releases or two runs can be set side by side and read as a
 * diff (`kmodlab baseline diff`, src/experiments/baseline-diff.ts).
 *
 *   DIR/<release>/<run id>/command.json   what ran: kind, argv (without --results), version, commit
 *   DIR/<release>/<run id>/record.json    the run's JSON record(s)
 *   DIR/<release>/<run id>/…              whatever text the run gives (KTAP, kmod.sh text, dmesg, console)
 *
 * `<release>` is the guest's `uname -r` on a real kernel, the preset name prefixed `sim-` on the
 * simulator. `<run id>` is `<UTC yyyymmddThhmmssZ>-<hash>` (sortable by time), except on the
 * simulator with an explicit --seed, where the run is deterministic and so is its id:
 * `seed<N>-<hash>` (the same inputs give the same directory with the same bytes; a re-run replaces
 * it). The hash is of the kind, the release and the argv.
 *
 * A run directory appears whole or not at all: it is written as `DIR/.tmp-*` and renamed into
 * place at the end; a failed or interrupted run leaves only a dot-directory, which readers skip.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError, ioError } from '../errors.js';

/** what a run is: the diff matches runs of the same kind */
export type RunKind = 'selftest' | 'storm' | 'dupstorm';
export const RUN_KINDS: readonly RunKind[] = ['selftest', 'storm', 'dupstorm'];

export const COMMAND_FILE = 'command.json';
export const RECORD_FILE = 'record.json';

export interface RunCommand {
  format: 'kmodlab-results-run';
  kind: RunKind;
  release: string;
  /** where it ran: 'sim' or 'qemu:NAME' */
  target: string;
  /** the command line after `kmodlab`, without --results and its directory */
  argv: string[];
  kmodlabVersion: string;
  /** `git describe --always --dirty` of the kmodlab checkout, when it is one */
  gitCommit?: string;
}

/** The release directory name of a simulator preset. */
export function simRelease(preset: string): string {
  return `sim-${preset}`;
}

/** argv without `--results DIR` / `--results=DIR`: the run's inputs, wherever its results go */
export function withoutResultsOption(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--results') i++;
    else if (!a.startsWith('--results=')) out.push(a);
  }
  return out;
}

function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** The run id: deterministic when `seed` is given (a seeded simulator run), else timestamped. */
export function runId(c: Pick<RunCommand, 'kind' | 'release' | 'argv'>, seed: number | undefined, now: Date = new Date()): string {
  const hash = createHash('sha256').update(JSON.stringify([c.kind, c.release, c.argv])).digest('hex').slice(0, 10);
  return seed !== undefined ? `seed${seed}-${hash}` : `${utcStamp(now)}-${hash}`;
}

/** A release or run id used as a directory name: no separators, no dot-names. */
function safeName(what: string, s: string): string {
  if (s === '' || s.startsWith('.') || /[/\\\0]/.test(s)) throw new InputError(`--results: ${what} ${JSON.stringify(s)} cannot name a directory`);
  return s;
}

/**
 * A run being written: files go into a temp directory under DIR; `commit` renames it to
 * DIR/<release>/<run id>, `discard` removes it. Exactly one of the two ends it.
 */
/**
 * mkdir -p one level at a time: Node's recursive mkdir spins forever where the kernel refuses a
 * new entry with ENOENT (under /proc), so each missing level is made on its own and the first
 * refusal is the error.
 */
function mkdirs(dir: string): void {
  const missing: string[] = [];
  for (let p = path.resolve(dir); ; ) {
    try {
      statSync(p);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    missing.unshift(p);
    const up = path.dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const p of missing) mkdirSync(p);
}

export class PendingRun {
  readonly tmp: string;
  private done = false;

  private constructor(readonly root: string) {
    this.tmp = path.join(root, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /** Create DIR if needed and the run's temp directory in it (a bad DIR fails here, before any work). */
  static open(root: string): PendingRun {
    try {
      mkdirs(root);
      if (!statSync(root).isDirectory()) throw new InputError(`--results ${root}: not a directory`);
      const p = new PendingRun(root);
      mkdirSync(p.tmp);
      return p;
    } catch (err) {
      throw ioError('--results', root, err);
    }
  }

  /** write a file of the run (name relative to the run directory) */
  write(name: string, text: string): void {
    const file = path.join(this.tmp, name);
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    } catch (err) {
      throw ioError('--results', this.root, err);
    }
  }

  /** the run is complete: move it into place; returns its directory */
  commit(command: RunCommand, record: unknown, seed: number | undefined, now?: Date): string {
    this.write(COMMAND_FILE, JSON.stringify(command, null, 2) + '\n');
    this.write(RECORD_FILE, JSON.stringify(record, null, 2) + '\n');
    const relDir = path.join(this.root, safeName('release', command.release));
    const final = path.join(relDir, safeName('run id', runId(command, seed, now)));
    try {
      mkdirSync(relDir, { recursive: true });
      // a deterministic run done again replaces the old one: move it aside first, so the
      // directory is never missing a file, only briefly absent
      let old: string | null = null;
      try {
        statSync(final);
        old = `${this.tmp}.old`;
        renameSync(final, old);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      renameSync(this.tmp, final);
      if (old) rmSync(old, { recursive: true, force: true });
    } catch (err) {
      throw ioError('--results', this.root, err);
    } finally {
      this.done = true;
    }
    return final;
  }

  /** the run failed or was interrupted: nothing of it stays */
  discard(): void {
    if (this.done) return;
    this.done = true;
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

// ---- reading ----------------------------------------------------------------------------------

export interface StoredRun {
  dir: string;
  release: string;
  id: string;
  command: RunCommand;
  record: unknown;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw ioError('', file, err);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`${file}: not valid JSON`);
  }
}

function isRunDir(dir: string): boolean {
  try {
    return statSync(path.join(dir, COMMAND_FILE)).isFile();
  } catch {
    return false;
  }
}

function readRun(dir: string): StoredRun {
  const command = readJson(path.join(dir, COMMAND_FILE)) as Partial<RunCommand>;
  if (command?.format !== 'kmodlab-results-run' || !RUN_KINDS.includes(command.kind as RunKind) || typeof command.release !== 'string' || !Array.isArray(command.argv))
    throw new InputError(`${path.join(dir, COMMAND_FILE)}: not a kmodlab results run`);
  return { dir, release: command.release, id: path.basename(dir), command: command as RunCommand, record: readJson(path.join(dir, RECORD_FILE)) };
}

function subdirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/**
 * The runs under PATH: a run directory, a release directory (DIR/<release>) or a whole results
 * DIR; sorted by release, then run id. A path holding no run is bad input (one line).
 */
export function readResults(p: string): StoredRun[] {
  let st;
  try {
    st = statSync(p);
  } catch (err) {
    throw ioError('', p, err);
  }
  if (!st.isDirectory()) throw new InputError(`${p}: not a results directory (a file)`);
  if (isRunDir(p)) return [readRun(p)];
  const runs: StoredRun[] = [];
  for (const d of subdirs(p)) {
    if (isRunDir(d)) runs.push(readRun(d));
    else for (const r of subdirs(d)) if (isRunDir(r)) runs.push(readRun(r));
  }
  if (runs.length === 0) throw new InputError(`${p}: not a results directory (no run with a ${COMMAND_FILE} in it, its releases or itself)`);
  // directory-name order (byte order of "release NUL id"), not a version order: only a stable one
  const key = (r: StoredRun): string => `${r.release}\0${r.id}`;
  return runs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
