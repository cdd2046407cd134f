/**
 * DOC: what decides a storm run's result, as hashes — the run identity behind `--out` resume.
 *
 * Resume must not serve a stored record made from other inputs under the same file name (a
 * changed `--module-area`, `--kmod-version`, `--snapshot`, `--modules` tree, preset file, machine
 * JSON or policy; a preset file named like a built-in; a newer model). So each kernel label of a
 * sweep gets one hash per part of what a run reads (src/results/identity.ts combines them with
 * the run point):
 *
 * - `preset`: the resolved preset — every flag and constant, after `basedOn` — not its name;
 * - `machine`: the machine profile's contents as loaded (not its name or path);
 * - `modules`: the module set the run boots with (snapshot or `--modules` tree), as loaded;
 * - `policy`: the source of the policy module the workers import (a .ts plug-in's compiled form);
 * - `kmod`: the userspace kmod version the run uses (`--kmod-version`, or the profile's);
 * - `moduleArea`: the module area's size (`--module-area`, or the kernel's default);
 * - `model`: kmodlab's model version — a hash of the code that computes a run (the engine, the
 *   kernel, userspace, the machine assembly, the metrics and this experiment), so results made
 *   by another version of the model are recomputed, never mixed in. It changes with any edit of
 *   that code, comments included: recomputing is cheap, a stale result is not.
 *
 * Everything here is read once per sweep in the main thread (checkStormInputs reads each
 * preset's inputs anyway); worker threads never compute identities.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashValue, runIdentity, sha256, type RunIdentity } from '../results/identity.js';
import { runKey } from '../results/run-key.js';
import { DEFAULT_MODULE_AREA_BYTES } from '../kernel/memory.js';
import { recordedValueHash } from '../userspace/depmod/snapshot.js';
import { loadMachine } from '../userspace/machines/load.js';
import type { ModuleSet } from '../userspace/moduleset.js';
import type { KernelPreset } from '../kernel/presets.js';

/** the parts of a storm point (experiments/storm.ts's StormPoint) an identity reads */
export interface IdentityPoint {
  machine: string;
  cpus: number;
  kernel: string;
  seed: number;
  moduleAreaBytes?: number;
  policyFile?: string;
}

/** the code whose behaviour decides a run (relative to the compiled src/ directory) */
const MODEL_CODE = ['sim', 'kernel', 'userspace', 'system', 'metrics', 'testkmod', 'experiments/storm.js', 'results/record.js'];

let modelHash: string | undefined;

function filesUnder(p: string): string[] {
  let names: string[];
  try {
    names = readdirSync(p, { withFileTypes: true }).map((d) => (d.isDirectory() ? `${d.name}/` : d.name));
  } catch {
    return [p];
  }
  return names.sort().flatMap((n) => (n.endsWith('/') ? filesUnder(path.join(p, n.slice(0, -1))) : /\.(js|ts|json)$/.test(n) && !n.endsWith('.d.ts') && !n.endsWith('.map') ? [path.join(p, n)] : []));
}

/** kmodlab's model version: a hash of the code that computes a storm run (read once per process) */
export function modelVersion(): string {
  if (modelHash !== undefined) return modelHash;
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const parts: string[] = [];
  for (const rel of MODEL_CODE) {
    for (const f of filesUnder(path.join(root, rel))) {
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch {
        continue;
      }
      parts.push(`${path.relative(root, f)}\n${sha256(text)}`);
    }
  }
  modelHash = sha256(parts.join('\n'));
  return modelHash;
}

const moduleSetHashes = new WeakMap<object, string>();

/** the hash of a module set a run boots with (what the identity's `modules` part is) */
export function moduleSetHash(set: ModuleSet): string {
  let h = moduleSetHashes.get(set);
  if (h === undefined) {
    // a shipped snapshot's hash was taken when its checksum was recorded (data/shipped-checksums.json)
    h = recordedValueHash(set) ?? hashValue(set);
    moduleSetHashes.set(set, h);
  }
  return h;
}

const machineHashes = new Map<string, string>();

function machineHash(machine: string): string {
  let h = machineHashes.get(machine);
  if (h === undefined) {
    h = hashValue(loadMachine(machine));
    machineHashes.set(machine, h);
  }
  return h;
}

/**
 * The input parts of one kernel label's runs, from a point of it, the hash of the module set it
 * boots with (moduleSetHash, or a shipped snapshot's recorded one) and its kmod version.
 */
export function stormInputs(p: IdentityPoint, read: { moduleSetHash: string; kmodVersion: number }, preset: KernelPreset): Record<string, string> {
  return {
    model: modelVersion(),
    preset: hashValue(preset),
    machine: machineHash(p.machine),
    modules: read.moduleSetHash,
    policy: p.policyFile !== undefined ? sha256(readFileSync(p.policyFile)) : 'none',
    kmod: hashValue(read.kmodVersion),
    moduleArea: hashValue(p.moduleAreaBytes ?? DEFAULT_MODULE_AREA_BYTES),
  };
}

/** The identity function a sweep stores with each record: the label's inputs and the run point. */
export function identityOfPoints(inputs: ReadonlyMap<string, Record<string, string>>): (p: IdentityPoint) => RunIdentity {
  return (p) => {
    const parts = inputs.get(p.kernel);
    if (parts === undefined) throw new Error(`no inputs for ${runKey(p)}`);
    return runIdentity(parts, p);
  };
}
