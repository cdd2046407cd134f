/**
 * DOC: option values shared by the commands: one integer check, one message, everywhere.
 */
import { InputError } from '../errors.js';

/** a decimal integer ≥ min, or a one-line error naming the option ("--cpus 0: want an integer >= 1") */
export function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new InputError(`${name} ${v}: want an integer >= ${min}`);
  return n;
}
