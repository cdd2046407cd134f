/**
 * DOC: `explore --out DIR` — an exploration kept on disk so Ctrl-C, a crash or a budget loses
 * nothing, and re-running the same command resumes where it stopped.
 *
 * One file per (scenario, preset, strategy, depth, seed, points): `DIR/explore_<...>.json`, a name
 * that is a pure function of everything that decides the exploration except its length (fields
 * percent-encoded, so names are unambiguous). It holds the exploration so far — runs, outcomes
 * with counts and first schedules, the exhaustive walk's cursor, shrunk schedules — and a hash
 * of the scenario's validated content: a file explored with a different scenario under the same
 * name is refused, not mixed in. Every write is atomic (write-file-atomic: temp file, fsync,
 * rename), so a file holds a whole exploration or an older whole one. Because seeds run in order
 * and the walk's cursor is saved, a resumed exploration ends exactly as an uninterrupted one.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { InputError, ioError } from '../../errors.js';
import type { Strategy } from './choices.js';
import type { Exploration } from './explore.js';
import type { Scenario } from './scenario.js';

export const STORE_FORMAT = 'kmodlab-explore';

interface StoreFile {
  format: typeof STORE_FORMAT;
  version: 1;
  scenarioHash: string;
  exploration: Exploration;
}

export interface StoreKey {
  scenario: Scenario;
  kernel: string;
  strategy: Strategy;
  depth: number;
  seed: number;
  points: number;
}

function enc(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9.-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

export function scenarioHash(sc: Scenario): string {
  return createHash('sha256').update(JSON.stringify(sc)).digest('hex').slice(0, 16);
}

/** the file of one exploration in DIR */
export function storeFile(dir: string, k: StoreKey): string {
  const parts = [k.scenario.name, k.kernel, k.strategy];
  if (k.strategy !== 'random') parts.push(`d${k.depth}`);
  parts.push(`s${k.seed}`);
  if (k.strategy === 'exhaustive') parts.push(`p${k.points}`);
  return path.join(dir, `explore_${parts.map(enc).join('_')}.json`);
}

/** the exploration saved in DIR for this key, or undefined; a file of another scenario is refused */
export function loadStored(option: string, dir: string, k: StoreKey): Exploration | undefined {
  const file = storeFile(dir, k);
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new InputError(`${option} ${dir}: ${path.basename(file)} is not a regular file`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(option, file, err);
  }
  let data: StoreFile;
  try {
    data = JSON.parse(text) as StoreFile;
  } catch {
    throw new InputError(`${option} ${dir}: ${path.basename(file)} is not valid JSON; remove it to start over`);
  }
  if (data?.format !== STORE_FORMAT || data.version !== 1 || typeof data.exploration !== 'object' || data.exploration === null || !Array.isArray(data.exploration.outcomes))
    throw new InputError(`${option} ${dir}: ${path.basename(file)} is not a kmodlab explore result; remove it to start over`);
  if (data.scenarioHash !== scenarioHash(k.scenario))
    throw new InputError(`${option} ${dir}: ${path.basename(file)} was explored with a different scenario ${k.scenario.name}; use another directory`);
  return data.exploration;
}

/** save an exploration (atomically) */
export async function saveStored(option: string, dir: string, k: StoreKey, e: Exploration): Promise<void> {
  const file = storeFile(dir, k);
  const data: StoreFile = { format: STORE_FORMAT, version: 1, scenarioHash: scenarioHash(k.scenario), exploration: e };
  try {
    mkdirSync(dir, { recursive: true });
    await writeFileAtomic(file, JSON.stringify(data, null, 2) + '\n');
  } catch (err) {
    throw ioError(option, dir, err);
  }
}
