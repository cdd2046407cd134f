/**
 * DOC: same-name policy plug-ins — try a new duplicate-handling idea without touching the model.
 *
 * The same-name check is where every release (and every unmerged proposal) decided what a load
 * of an already-present or still-loading module gets: wait, retry, -EEXIST, -EBUSY. A plug-in
 * replaces that step. It is called at both places the kernel could check:
 *   - reason 'becoming': after the signature/ELF/modinfo checks, before any module memory is
 *     allocated (K15's early_mod_check position; presets without K15 have no builtin check here);
 *   - reason 'load': in add_unformed_module, after layout_and_allocate; returning 0 here makes the
 *     kernel insert the module record at once (if a record of that name exists anyway, the load
 *     fails with -EEXIST: names stay unique).
 * A policy returns 0 (proceed) or a negative errno, and may sleep on module_wq through the
 * context. `ctx.builtin()` runs the preset's own check at this point, so a policy can wrap it.
 *
 * A plug-in is an ES module (.js/.mjs, or .ts compiled on the fly when the `typescript` package
 * is installed) whose default export — or export named `policy` — is a SameNamePolicy.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import type { Proc, WaitMode } from '../sim/index.js';
import type { Task } from './api.js';

export type SameNameReason = 'becoming' | 'load';
export type ModuleStateName = 'unformed' | 'coming' | 'live' | 'going';

export interface SameNameCheckContext {
  /** the real module name (mod->name) */
  readonly name: string;
  readonly reason: SameNameReason;
  readonly task: Task;
  /** the kernel preset's name */
  readonly release: string;
  /** virtual time, ns */
  now(): number;
  /** state of the module record with this name (any state, like find_module_all), or null */
  state(): ModuleStateName | null;
  /**
   * Sleep on module_wq until `cond()` holds (re-checked on every wake-up of this name).
   * Default condition: finished_loading as in v6.2+ (no record, LIVE or GOING).
   */
  waitFinished(opts?: { mode?: WaitMode; timeoutNs?: number; cond?: () => boolean }): Proc<'ok' | 'signal' | 'timeout'>;
  /** count a duplicate in the MODULE_STATS table with this reason */
  recordDuplicate(): void;
  /** the preset's own check at this point */
  builtin(): Proc<number>;
}

export interface SameNamePolicy {
  readonly name: string;
  check(ctx: SameNameCheckContext): Proc<number>;
}

function isPolicy(x: unknown): x is SameNamePolicy {
  return typeof x === 'object' && x !== null && typeof (x as SameNamePolicy).name === 'string' && typeof (x as SameNamePolicy).check === 'function';
}

async function importTs(file: string): Promise<unknown> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch {
    throw new InputError(`policy ${file}: a .ts plug-in needs the 'typescript' package; compile it to .js or install typescript`);
  }
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: file,
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'kmodlab-policy-'));
  const js = path.join(dir, `${path.basename(file, '.ts')}.mjs`);
  writeFileSync(js, out.outputText);
  return import(pathToFileURL(js).href);
}

/** Load a same-name policy plug-in by path (dynamic import). */
export async function loadSameNamePolicy(file: string): Promise<SameNamePolicy> {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new InputError(`policy ${file}: no such file`);
  let mod: Record<string, unknown>;
  try {
    mod = (abs.endsWith('.ts') ? await importTs(abs) : await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`policy ${file}: cannot load (${(e as Error).message.split('\n')[0]})`);
  }
  const p = mod.default ?? mod.policy;
  if (!isPolicy(p)) throw new InputError(`policy ${file}: default export must be { name: string, check(ctx) } (a SameNamePolicy)`);
  return p;
}
