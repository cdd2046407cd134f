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
 * context. `ctx.builtin()` runs the next check at this point — the next policy's, and after the
 * last the preset's own — so a policy can wrap it.
 *
 * Two optional hooks reach further: `init_module_from_file` wraps one finit_module call's
 * kernel_read_file, decompression and load_module, so a policy can refuse a file before it is
 * read, and `free_module` hears when a module record goes. The unmerged proposals of spec §5.10
 * are policies of this kind (kernel/whatif/); the kernel runs the user's plug-in first, then the
 * what-ifs its preset turns on.
 *
 * A plug-in is an ES module whose default export — or export named `policy` — is a
 * SameNamePolicy; io/policy.ts loads one from a file (.js/.mjs, or .ts compiled on the fly).
 */
import { InputError } from '../errors.js';
import { isKnownErrno } from './errno.js';
import type { Proc, WaitMode } from '../sim/index.js';
import type { KFile, Task } from './api.js';

export type SameNameReason = 'becoming' | 'load';
export type ModuleStateName = 'unformed' | 'coming' | 'live' | 'going';

/** A module record as a policy sees it (struct module: its name and state). */
export interface ModuleRecord {
  readonly name: string;
  readonly state: ModuleStateName;
}

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
   * Sleep on module_wq until `cond()` holds (re-checked at the wake-ups of this name, and at
   * any module's once this name's record has changed).
   * Default condition: finished_loading as in v6.2+ (no record, LIVE or GOING).
   */
  waitFinished(opts?: { mode?: WaitMode; timeoutNs?: number; cond?: () => boolean }): Proc<'ok' | 'signal' | 'timeout'>;
  /** count a duplicate in the MODULE_STATS table with this reason */
  recordDuplicate(): void;
  /** the next check at this point: the next policy's, after the last one the preset's own */
  builtin(): Proc<number>;
  /** call `fn` once when this load attempt ends; `ok`: its module went LIVE */
  atLoadEnd(fn: (ok: boolean) => void): void;
}

/** What an init_module_from_file hook sees: the file of one finit_module call. */
export interface LoadFileContext {
  readonly task: Task;
  readonly file: KFile;
  /** the record (any state) named like the file's module; after `next()` returned 0, this load's */
  record(): ModuleRecord | undefined;
}

export interface SameNamePolicy {
  readonly name: string;
  check(ctx: SameNameCheckContext): Proc<number>;
  /**
   * Wraps init_module_from_file(): `next()` runs the rest (the next policy's hook, then
   * kernel_read_file, decompression and load_module). Return its value, or a -errno without
   * calling it to refuse the file before anything is read or allocated.
   */
  init_module_from_file?(ctx: LoadFileContext, next: () => Proc<number>): Proc<number>;
  /** free_module() is freeing this record (the module is gone) */
  free_module?(mod: ModuleRecord): void;
}

function isPolicy(x: unknown): x is SameNamePolicy {
  return typeof x === 'object' && x !== null && typeof (x as SameNamePolicy).name === 'string' && typeof (x as SameNamePolicy).check === 'function';
}

function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return typeof v;
}

function isGenerator(x: unknown): x is Proc<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as Proc<unknown>).next === 'function' && typeof (x as Proc<unknown>)[Symbol.iterator] === 'function';
}

/**
 * A plug-in's hooks, checked where they answer: each must be a generator (function*) and end
 * with 0 or a negative errno of the model's set (-EEXIST, -EBUSY, …). Anything else — `'banana'`,
 * 12345, undefined — would be taken as a load's return value and produce nonsense, so it is an
 * InputError naming the plug-in, the hook and the value.
 */
const checkedPolicies = new WeakMap<SameNamePolicy, SameNamePolicy>();

function checkedPolicy(p: SameNamePolicy, file: string): SameNamePolicy {
  // one wrapper per exported policy: the same module gives the same policy, wherever it is loaded
  const known = checkedPolicies.get(p);
  if (known !== undefined) return known;
  const verdict = (hook: string, v: unknown): number => {
    if (v === 0 || (typeof v === 'number' && v < 0 && isKnownErrno(-v))) return v;
    throw new InputError(`policy ${file}: ${hook} returned ${shown(v)}: want 0 or a negative errno (-EEXIST, -EBUSY, …)`);
  };
  const run = function* (hook: string, gen: unknown): Proc<number> {
    if (!isGenerator(gen)) throw new InputError(`policy ${file}: ${hook} must be a generator function (function*), returned ${shown(gen)}`);
    return verdict(hook, yield* gen);
  };
  const out: SameNamePolicy = {
    name: p.name,
    check: (ctx) => run('check', p.check(ctx)),
    ...(p.init_module_from_file !== undefined ? { init_module_from_file: (ctx: LoadFileContext, next: () => Proc<number>) => run('init_module_from_file', p.init_module_from_file!(ctx, next)) } : {}),
    ...(p.free_module !== undefined ? { free_module: (mod: ModuleRecord) => p.free_module!(mod) } : {}),
  };
  checkedPolicies.set(p, out);
  return out;
}

/**
 * The policy a plug-in module exports (its default export, or the export named `policy`), with
 * its answers checked; `file` names the plug-in in the error. Loading the module is the caller's
 * business (io/policy.ts).
 */
export function policyOfModule(mod: Record<string, unknown>, file: string): SameNamePolicy {
  const p = mod.default ?? mod.policy;
  if (!isPolicy(p)) throw new InputError(`policy ${file}: default export must be { name: string, check(ctx) } (a SameNamePolicy)`);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(p.name)) throw new InputError(`policy ${file}: name ${JSON.stringify(p.name)}: want 1 to 64 letters, digits, '.', '_' or '-' (it labels the results)`);
  return checkedPolicy(p, file);
}
