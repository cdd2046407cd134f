/**
 * DOC: modules.alias and kmod's wildcard matching.
 *
 * `alias PATTERN MODULE` lines come from every MODULE_ALIAS and MODULE_DEVICE_TABLE entry. A
 * device's modalias (pci:v00008086d..., cpu:type:x86,...) or a request_module() name is matched
 * against every pattern with fnmatch(3) semantics (no flags): `*` matches any run of characters,
 * `?` one character, `[...]` a set with ranges, negated by a leading `!` or `^`, and `\` quotes the
 * next character. Lookups normalise both sides ('-' → '_' outside brackets) the way depmod's
 * index and libkmod do, and return the matching modules in file order.
 */
import { contentLines, checkText, lineError } from './lines.js';
import { normaliseName } from './names.js';
import type { AliasEntry, ModuleSet } from '../moduleset.js';

export function parseModulesAlias(text: string, file = 'modules.alias'): AliasEntry[] {
  checkText(file, text);
  const out: AliasEntry[] = [];
  for (const line of contentLines(text)) {
    const f = line.text.split(/\s+/);
    if (f[0] !== 'alias') throw lineError(file, line, 'expected "alias PATTERN MODULE"');
    if (f.length !== 3) throw lineError(file, line, `expected 3 fields, found ${f.length}`);
    out.push({ pattern: f[1]!, module: normaliseName(f[2]!) });
  }
  return out;
}

/**
 * One pattern element. Every kind has every field (unused ones empty), so all tokens share one
 * shape and the matcher's reads of them stay monomorphic: four shapes made its loop deoptimise.
 */
interface Token {
  t: 'lit' | 'any' | 'star' | 'set';
  /** the character of a 'lit' */
  c: string;
  /** a negated 'set' */
  neg: boolean;
  /** a 'set''s ranges */
  ranges: [string, string][];
}

const NO_RANGES: [string, string][] = [];
const token = (t: Token['t'], c = '', neg = false, ranges = NO_RANGES): Token => ({ t, c, neg, ranges });

interface Compiled {
  tokens: Token[];
  /** literal text before the first wildcard: a cheap first filter */
  prefix: string;
  /**
   * what follows the prefix: nothing (a literal pattern), one '*' (PREFIX*), `anys` '?' then one
   * '*' (udev's "?*": at least that many characters), or more
   */
  rest: 'none' | 'star' | 'anystar' | 'more';
  anys: number;
}

const compiledCache = new Map<string, Compiled>();

function compile(pattern: string): Compiled {
  const hit = compiledCache.get(pattern);
  if (hit) return hit;
  const chars = [...pattern];
  const tokens: Token[] = [];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '*') {
      // consecutive stars are one star
      if (tokens.at(-1)?.t !== 'star') tokens.push(token('star'));
      i++;
    } else if (c === '?') {
      tokens.push(token('any'));
      i++;
    } else if (c === '\\' && i + 1 < chars.length) {
      tokens.push(token('lit', chars[i + 1]!));
      i += 2;
    } else if (c === '[') {
      const set = parseSet(chars, i + 1);
      if (set) {
        tokens.push(set.token);
        i = set.next;
      } else {
        // an unterminated '[' is an ordinary character for fnmatch
        tokens.push(token('lit', c));
        i++;
      }
    } else {
      tokens.push(token('lit', c));
      i++;
    }
  }
  let prefix = '';
  let lits = 0;
  for (const tk of tokens) {
    if (tk.t !== 'lit') break;
    prefix += tk.c;
    lits++;
  }
  let anys = 0;
  while (tokens[lits + anys]?.t === 'any') anys++;
  const starLast = lits + anys === tokens.length - 1 && tokens[lits + anys]!.t === 'star';
  const rest = lits === tokens.length ? 'none' : starLast ? (anys === 0 ? 'star' : 'anystar') : 'more';
  const compiled: Compiled = { tokens, prefix, rest, anys };
  if (compiledCache.size > 200_000) compiledCache.clear();
  compiledCache.set(pattern, compiled);
  return compiled;
}

/** Parse a bracket expression whose body starts at chars[start]; undefined if it never closes. */
function parseSet(chars: string[], start: number): { token: Token; next: number } | undefined {
  let i = start;
  let neg = false;
  if (chars[i] === '!' || chars[i] === '^') {
    neg = true;
    i++;
  }
  const ranges: [string, string][] = [];
  let first = true;
  while (i < chars.length) {
    let c = chars[i]!;
    if (c === ']' && !first) return { token: token('set', '', neg, ranges), next: i + 1 };
    first = false;
    if (c === '\\' && i + 1 < chars.length) {
      i++;
      c = chars[i]!;
    }
    // a range a-z; a '-' first, last or before ']' is literal
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      let hi = chars[i + 2]!;
      let skip = 3;
      if (hi === '\\' && i + 3 < chars.length) {
        hi = chars[i + 3]!;
        skip = 4;
      }
      ranges.push([c, hi]);
      i += skip;
    } else {
      ranges.push([c, c]);
      i++;
    }
  }
  return undefined;
}

function tokenMatches(tk: Token, ch: string): boolean {
  switch (tk.t) {
    case 'lit':
      return tk.c === ch;
    case 'any':
      return true;
    case 'set': {
      let inSet = false;
      for (const [lo, hi] of tk.ranges) {
        if (ch >= lo && ch <= hi) {
          inSet = true;
          break;
        }
      }
      return inSet !== tk.neg;
    }
    case 'star':
      return false;
  }
}

/** the UTF-16 units of the character (code point) at index i of s: 2 for a surrogate pair, else 1 */
function charWidth(s: string, i: number): number {
  const u = s.charCodeAt(i);
  if (u < 0xd800 || u > 0xdbff || i + 1 >= s.length) return 1;
  const v = s.charCodeAt(i + 1);
  return v >= 0xdc00 && v <= 0xdfff ? 2 : 1;
}

/** fnmatch(pattern, s, 0) === 0 */
export function aliasMatches(pattern: string, s: string): boolean {
  const c = compile(pattern);
  const { tokens, prefix, rest } = c;
  if (!s.startsWith(prefix)) return false;
  // a literal pattern is the string itself; PREFIX* is any string it starts
  if (rest === 'none') return s.length === prefix.length;
  if (rest === 'star') return true;
  if (rest === 'anystar') {
    // PREFIX?…?*: at least `anys` characters after the prefix
    let i = prefix.length;
    for (let k = 0; k < c.anys; k++) {
      if (i >= s.length) return false;
      i += charWidth(s, i);
    }
    return true;
  }
  // Greedy match with backtracking to the last star: linear in practice, never exponential. It
  // walks s by characters (code points, as [...s] splits it) without making that array: a cpu
  // modalias is hundreds of characters, and udev's MODALIAS=="?*" is matched for every event.
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  while (si < s.length) {
    const tk = tokens[ti];
    if (tk && tk.t === 'star') {
      starTi = ti++;
      starSi = si;
      continue;
    }
    const w = charWidth(s, si);
    if (tk && tokenMatches(tk, w === 1 ? s[si]! : s.slice(si, si + 2))) {
      ti++;
      si += w;
    } else if (starTi >= 0) {
      ti = starTi + 1;
      starSi += charWidth(s, starSi);
      si = starSi;
    } else {
      return false;
    }
  }
  while (tokens[ti]?.t === 'star') ti++;
  return ti === tokens.length;
}

const normalisedPatterns = new WeakMap<AliasEntry[], string[]>();

/**
 * The modules an alias string resolves to through modules.alias, in file order, without
 * duplicates (several patterns of one module may match the same string).
 */
export function lookupAlias(set: Pick<ModuleSet, 'aliases'>, s: string): string[] {
  let pats = normalisedPatterns.get(set.aliases);
  if (!pats || pats.length !== set.aliases.length) {
    pats = set.aliases.map((a) => normaliseName(a.pattern));
    normalisedPatterns.set(set.aliases, pats);
  }
  const key = normaliseName(s);
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < pats.length; i++) {
    const mod = set.aliases[i]!.module;
    if (seen.has(mod)) continue;
    if (aliasMatches(pats[i]!, key)) {
      seen.add(mod);
      out.push(mod);
    }
  }
  return out;
}
