/**
 * DOC: option values shared by the commands: one integer check, one message, everywhere.
 */
import { InputError } from '../errors.js';

/** a decimal integer ≥ min, or a one-line error naming the option ("--cpus 0: want an integer >= 1") */
export function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  // digits past 2^53 are a number, just not one a double holds: ">= 1" would read as nonsense
  if (/^\d+$/.test(v) && !Number.isSafeInteger(n)) throw new InputError(`${name} ${v}: want an integer >= ${min}, at most ${Number.MAX_SAFE_INTEGER}`);
  if (!/^\d+$/.test(v) || n < min) throw new InputError(`${name} ${v}: want an integer >= ${min}`);
  return n;
}

/**
 * The most seconds a time option takes: Node's timers hold at most 2^31 - 1 ms (24.8 days) and
 * fire at once beyond it (TimeoutOverflowWarning) — `--run-timeout 3000000` stopped every run as
 * hung, `selftest --timeout 3000000` ended the suite at its start with exit 124. 1,000,000 s
 * (11.5 days) leaves room for a watchdog's margin over the budget.
 */
export const MAX_TIMEOUT_S = 1_000_000;

/** whole seconds from min to MAX_TIMEOUT_S, for an option that becomes a timer */
export function secondsOption(name: string, v: string, min: number): number {
  const n = intOption(name, v, min);
  if (n > MAX_TIMEOUT_S) throw new InputError(`${name} ${v}: want at most ${MAX_TIMEOUT_S} (seconds)`);
  return n;
}
