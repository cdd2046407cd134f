/**
 * DOC: the storm's sweep axes as the user types them.
 *
 * `--cpus 1,8,64-512:64` and `--kernel v6.1,v6.4` name the points of a sweep. A typo here would
 * otherwise cost a long sweep with the wrong points, so every token is checked and a bad one is
 * reported as one line naming the token (InputError, exit 2). CPU counts come back sorted and
 * deduplicated, because the reports plot them on an axis; kernels keep the order the user gave,
 * because that order is how they want to compare presets (legends, table rows).
 */
import { InputError } from '../errors.js';

/** The largest CPU count accepted: x86's CONFIG_NR_CPUS maximum (MAXSMP). */
export const MAX_CPUS = 8192;

const NUMBER = /^[0-9]+$/;
const RANGE = /^([0-9]+)-([0-9]+)(?::([0-9]+))?$/;

function cpuNumber(text: string, token: string, option: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_CPUS) {
    throw new InputError(`${option}: bad CPU count "${token}": must be between 1 and ${MAX_CPUS}`);
  }
  return n;
}

/**
 * Parse a CPU list: comma-separated counts `N` and ranges `A-B` or `A-B:STEP` (A, A+STEP, … ≤ B,
 * like the kernel's cpulist syntax with a stride). Returns the counts sorted ascending, without
 * duplicates.
 */
export function parseCpuList(text: string, option = '--cpus'): number[] {
  const out = new Set<number>();
  const tokens = text.split(',').map((t) => t.trim());
  if (text.trim() === '') throw new InputError(`${option}: empty CPU list`);
  for (const token of tokens) {
    if (token === '') throw new InputError(`${option}: empty item in "${text}"`);
    if (NUMBER.test(token)) {
      out.add(cpuNumber(token, token, option));
      continue;
    }
    const m = RANGE.exec(token);
    if (!m) {
      throw new InputError(`${option}: bad item "${token}": expected N, A-B or A-B:STEP (e.g. 1,8,64-512:64)`);
    }
    const from = cpuNumber(m[1]!, token, option);
    const to = cpuNumber(m[2]!, token, option);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (from > to) throw new InputError(`${option}: bad range "${token}": start is after end`);
    if (step < 1) throw new InputError(`${option}: bad range "${token}": step must be at least 1`);
    // a step past MAX_CPUS is no different from one of MAX_CPUS; a huge one is a typo, not "0"
    if (!Number.isSafeInteger(step) || step > MAX_CPUS) throw new InputError(`${option}: bad range "${token}": step must be at most ${MAX_CPUS}`);
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** Characters a preset name or a preset file path may hold (no spaces, no list separators). */
const KERNEL_TOKEN = /^[A-Za-z0-9._+/~@-]+$/;

export interface KernelListOptions {
  /** the option name for messages */
  option?: string;
  /** if given, every name must be one of these (or a path to a .json preset file) */
  known?: Iterable<string>;
}

/**
 * Parse a kernel preset list: comma-separated names (`v6.1,v6.4,v6.5+`) or paths to JSON preset
 * files. Keeps the user's order, drops repeats.
 */
export function parseKernelList(text: string, opts: KernelListOptions = {}): string[] {
  const option = opts.option ?? '--kernel';
  const known = opts.known ? new Set(opts.known) : null;
  if (text.trim() === '') throw new InputError(`${option}: empty kernel list`);
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const token = raw.trim();
    if (token === '') throw new InputError(`${option}: empty item in "${text}"`);
    if (!KERNEL_TOKEN.test(token)) throw new InputError(`${option}: bad kernel "${token}": unexpected character`);
    if (known && !known.has(token) && !token.endsWith('.json')) {
      throw new InputError(`${option}: unknown kernel preset "${token}" (known: ${[...known].join(', ')})`);
    }
    if (!out.includes(token)) out.push(token);
  }
  return out;
}

/** Parse a non-negative integer option (`--seed`), one line naming the option if bad. */
export function parseSeed(text: string, option = '--seed'): number {
  const t = text.trim();
  const n = Number(t);
  if (!NUMBER.test(t) || !Number.isSafeInteger(n)) throw new InputError(`${option}: bad seed "${text}": expected a non-negative integer`);
  return n;
}

/** `--seed N --seeds K` → the K seeds N, N+1, … N+K-1 (K from 1 to 10000). */
export function seedList(base: number, countText: string | number = 1, option = '--seeds'): number[] {
  const k = typeof countText === 'number' ? countText : Number(countText.trim());
  if (!Number.isSafeInteger(k) || k < 1 || k > 10000 || (typeof countText === 'string' && !NUMBER.test(countText.trim()))) {
    throw new InputError(`${option}: bad seed count "${countText}": expected an integer from 1 to 10000`);
  }
  // base + k - 1 in doubles rounds at 2^53 (MAX_SAFE + 2 - 1 is MAX_SAFE again): compare before adding
  if (base > Number.MAX_SAFE_INTEGER - (k - 1)) throw new InputError(`${option}: seeds overflow from ${base}`);
  return Array.from({ length: k }, (_, i) => base + i);
}
