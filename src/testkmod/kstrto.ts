/**
 * DOC: the kernel's kstrto*() number parsers, as test_kmod's knobs use them (lib/kstrtox.c).
 *
 * The sysfs store handler gets the written bytes with a NUL appended, so parsing stops at the
 * first NUL. Rules for base 10:
 *
 * * kstrtoull: an optional leading '+', then at least one decimal digit, then optionally ONE
 *   newline, then the end of the string. No digits → -EINVAL; anything left over → -EINVAL;
 *   more than 64 bits → -ERANGE (the overflow check comes before the leftover check, so
 *   "99999999999999999999x" is -ERANGE but "99999x" is -EINVAL).
 * * kstrtouint: kstrtoull, then a value above UINT_MAX → -ERANGE. A '-' is junk → -EINVAL.
 * * kstrtoll / kstrtoint: a leading '-' negates a parse of the rest that takes no '+' (so
 *   "--1" and "-+1" are -EINVAL; "+1" is 1); a result outside the signed range → -ERANGE.
 *
 * Results are `{ ok: true, value }` or `{ ok: false, errno }` with a negative errno.
 */
import { EINVAL, ERANGE } from '../kernel/errno.js';

export type KstrtoResult = { ok: true; value: bigint } | { ok: false; errno: number };

const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = (1n << 32n) - 1n;
const S32_MAX = (1n << 31n) - 1n;
const S32_MIN = -(1n << 31n);
const S64_MAX = (1n << 63n) - 1n;

/** the store handler's view: the written bytes up to the first NUL */
export function cstring(buf: string): string {
  const nul = buf.indexOf('\0');
  return nul < 0 ? buf : buf.slice(0, nul);
}

/** kstrtoull(s, 10): an optional '+' then _kstrtoull */
export function kstrtoull(input: string): KstrtoResult {
  const s = cstring(input);
  return parseU64(s.startsWith('+') ? s.slice(1) : s);
}

/** _kstrtoull(s, 10): digits, one optional newline, end */
function parseU64(s: string): KstrtoResult {
  let i = 0;
  let value = 0n;
  let overflow = false;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    value = value * 10n + BigInt(c - 48);
    if (value > U64_MAX) overflow = true;
    i++;
  }
  if (overflow) return { ok: false, errno: -ERANGE };
  if (i === 0) return { ok: false, errno: -EINVAL };
  if (s[i] === '\n') i++;
  if (i !== s.length) return { ok: false, errno: -EINVAL };
  return { ok: true, value };
}

/** kstrtouint(s, 10) */
export function kstrtouint(input: string): KstrtoResult {
  const r = kstrtoull(input);
  if (!r.ok) return r;
  if (r.value > U32_MAX) return { ok: false, errno: -ERANGE };
  return r;
}

/** kstrtoll(s, 10) */
export function kstrtoll(input: string): KstrtoResult {
  const s = cstring(input);
  if (s.startsWith('-')) {
    const r = parseU64(s.slice(1));
    if (!r.ok) return r;
    if (r.value > S64_MAX + 1n) return { ok: false, errno: -ERANGE };
    return { ok: true, value: -r.value };
  }
  const r = kstrtoull(s);
  if (!r.ok) return r;
  if (r.value > S64_MAX) return { ok: false, errno: -ERANGE };
  return r;
}

/** kstrtoint(s, 10) */
export function kstrtoint(input: string): KstrtoResult {
  const r = kstrtoll(input);
  if (!r.ok) return r;
  if (r.value > S32_MAX || r.value < S32_MIN) return { ok: false, errno: -ERANGE };
  return r;
}
