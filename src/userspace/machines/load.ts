/**
 * DOC: loading machine profiles by name (data/machines/<name>.json) or path, with the CPU count
 * overridden, and the timings in effect at that CPU count.
 *
 * A bad profile is one line naming the file and the field (zod's issue path), e.g.
 * `data/machines/x.json: timings.fileOpenNs: expected number, received string`. A shipped
 * profile whose bytes are the ones recorded in data/shipped-checksums.json (../shipped.ts) is
 * taken in the validated form recorded there, without loading zod.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.js';
import { dataPath } from '../depmod/paths.js';
import { machineSchemas, type MachineProfile, type Timings } from './schema.js';
import { knownShipped } from '../shipped.js';
import { requireRegularFile } from '../files.js';

/** A profile resolved for one CPU count: `timings` and `moduleInit` already include the overrides. */
export type Machine = MachineProfile;

export interface LoadMachineOptions {
  /** overrides the profile's default CPU count */
  cpus?: number;
}

export function machinesDir(): string {
  return dataPath('machines');
}

/** Names of the shipped profiles, sorted. */
export function listMachineNames(): string[] {
  return fs
    .readdirSync(machinesDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

function issueLine(file: string, issue: { path: PropertyKey[]; message: string }): string {
  const where = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  return `${file}: ${where}: ${issue.message}`;
}

/** Validate a parsed JSON value as a profile; `file` names it in errors. */
export function parseMachine(json: unknown, file: string): MachineProfile {
  const r = machineSchemas().machineSchema.safeParse(json);
  if (!r.success) throw new InputError(issueLine(file, r.error.issues[0]!));
  return r.data;
}

function resolveFile(nameOrPath: string): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.json')) return nameOrPath;
  const f = path.join(machinesDir(), `${nameOrPath}.json`);
  if (!fs.existsSync(f)) {
    let known = '';
    try {
      known = ` (known: ${listMachineNames().join(', ')})`;
    } catch {
      // no data dir: say nothing more
    }
    throw new InputError(`unknown machine '${nameOrPath}'${known}`);
  }
  return f;
}

/** Apply a CPU count: the count itself, then every override whose minCpus it reaches, in order. */
export function forCpus(profile: MachineProfile, cpus = profile.cpus): Machine {
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 8192) throw new InputError(`--cpus ${cpus}: expected an integer from 1 to 8192`);
  let timings: Timings = { ...profile.timings };
  const moduleInit = { ...profile.moduleInit };
  for (const o of [...profile.cpuTimingOverrides].sort((a, b) => a.minCpus - b.minCpus)) {
    if (cpus < o.minCpus) continue;
    timings = { ...timings, ...o.timings };
    Object.assign(moduleInit, o.moduleInit);
  }
  const ramBytes = profile.ramBytesPerCpu === undefined ? profile.ramBytes : Math.max(profile.ramBytes, cpus * profile.ramBytesPerCpu);
  return { ...profile, cpus, ramBytes, timings, moduleInit };
}

export function loadMachine(nameOrPath: string, opts: LoadMachineOptions = {}): Machine {
  const file = resolveFile(nameOrPath);
  let text: string;
  requireRegularFile(file);
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const known = knownShipped(file, text);
  // a fresh copy: a caller may change the profile it gets
  if (known !== null) return forCpus(structuredClone((known.validated ?? JSON.parse(text)) as MachineProfile), opts.cpus);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return forCpus(parseMachine(json, file), opts.cpus);
}

/** A module's init duration on this machine at its CPU count. */
export function initDurationNs(m: Machine, module: string): number {
  const i = m.moduleInit[module];
  return i ? i.baseNs + i.perCpuNs * m.cpus : m.timings.initDefaultNs;
}

/** A module's init result set by the profile (undefined: decided by the kernel model, usually 0). */
export function initResult(m: Machine, module: string): number | undefined {
  return m.moduleInit[module]?.result;
}
