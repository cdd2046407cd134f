/**
 * DOC: "Version behaviour is data" (DESIGN.md, Principles), checked by a grep: no version
 * comparison anywhere in src/ outside the two tables that own release differences — the kernel
 * presets (src/kernel/presets.ts) and the kmod releases (src/userspace/kmod-releases.ts).
 *
 * Everything else asks the data what a release does (`preset.flags.testKmodLegacyShow`,
 * `kmodRelease(v).finitCompressedFile`, the kmod.sh script's test list) and never "which release
 * is this?". A comparison counts when an ordering operator (`<`, `<=`, `>`, `>=`) has an operand
 * named like a release — version, era, release, since, lastTest (a test number standing in for
 * the script's era) — or when such an operand is tested for equality with a version literal
 * (`era === 'v4.13'`). Comments and string contents are ignored, and prettier's spacing tells a
 * comparison (`a < b`) from a type argument (`Record<KmodShEra, number>`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../src/userspace/depmod/paths.js';

/** the only files allowed to compare versions */
const TABLES = new Set(['src/kernel/presets.ts', 'src/userspace/kmod-releases.ts']);

/** an identifier path: a.b?.c, x[i], f(…) */
const OPERAND = String.raw`[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*|\[[^\]]*\]|\([^()]*\))*`;
const LEFT = new RegExp(`(${OPERAND})\\s*$`);
const RIGHT = new RegExp(`^\\s*(${OPERAND})`);
/** ordering operators with prettier's spaces (a type argument `A<B>` has none; `=>` is not `>`) */
const ORDERING = /(?<=\s)(<=|>=|<|>)(?=\s)/g;
const VERSION_LITERAL = String.raw`'v\d+(?:\.\d+)*'`;
const EQUALITY_LEFT = new RegExp(`(${OPERAND})\\s*(?:===|!==|==|!=)\\s*${VERSION_LITERAL}`, 'g');
const EQUALITY_RIGHT = new RegExp(`${VERSION_LITERAL}\\s*(?:===|!==|==|!=)\\s*(${OPERAND})`, 'g');

/** does an operand name a release (its identifier words, camelCase and snake_case split)? */
export function namesARelease(operand: string): boolean {
  const text = operand.replace(/\([^()]*\)/g, '');
  if (/lasttest/i.test(text.replace(/[^A-Za-z]/g, ''))) return true;
  const words = text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w.toLowerCase());
  return words.some((w) => /^(versions?|eras?|releases?|since)$/.test(w));
}

/** A file's lines with comments removed: `code` with string contents emptied, `withStrings` with them kept. */
export function stripSource(source: string): { code: string; withStrings: string }[] {
  const out: { code: string; withStrings: string }[] = [];
  let inBlock = false;
  for (const line of source.split('\n')) {
    let code = '';
    let withStrings = '';
    let quote: string | null = null;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (inBlock) {
        if (c === '*' && line[i + 1] === '/') {
          inBlock = false;
          i++;
        }
        continue;
      }
      if (quote !== null) {
        if (c === '\\') {
          withStrings += line.slice(i, i + 2);
          i++;
          continue;
        }
        if (c === quote) {
          quote = null;
          code += c;
        }
        withStrings += c;
        continue;
      }
      if (c === '/' && line[i + 1] === '/') break;
      if (c === '/' && line[i + 1] === '*') {
        inBlock = true;
        i++;
        continue;
      }
      if (c === "'" || c === '"' || c === '`') quote = c;
      code += c;
      withStrings += c;
    }
    out.push({ code, withStrings });
  }
  return out;
}

/** The version comparisons in one file's text, as line numbers (1-based) with the line. */
export function versionComparisons(source: string): { line: number; text: string }[] {
  const raw = source.split('\n');
  const hits: { line: number; text: string }[] = [];
  stripSource(source).forEach(({ code, withStrings }, i) => {
    let hit = false;
    for (const m of code.matchAll(ORDERING)) {
      const left = LEFT.exec(code.slice(0, m.index))?.[1];
      const right = RIGHT.exec(code.slice(m.index + m[0].length))?.[1];
      if ((left !== undefined && namesARelease(left)) || (right !== undefined && namesARelease(right))) hit = true;
    }
    for (const m of withStrings.matchAll(EQUALITY_LEFT)) if (namesARelease(m[1]!)) hit = true;
    for (const m of withStrings.matchAll(EQUALITY_RIGHT)) if (namesARelease(m[1]!)) hit = true;
    if (hit) hits.push({ line: i + 1, text: raw[i]!.trim() });
  });
  return hits;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

test('the patterns catch the version comparisons the layering issue lists, and nothing like them', () => {
  const caught = [
    "  return KMOD_TESTS.filter((t) => ERA_ORDER[t.since] <= ERA_ORDER[era]);",
    "  return ERA_ORDER[era] >= ERA_ORDER['v5.7'];",
    "  if (lastTest >= 12) return 'v5.8';",
    '    if (p.kmodVersion === null || p.kmodVersion <= 19) {',
    "    if (v.dir) return this.opts.kmodVersion <= 19 ? 'builtin' : 'coming';",
    "    return s === 'coming' && this.opts.kmodVersion < 6;",
    '    } else if (this.opts.kmodVersion >= 31 && this.host.kernelCompression === file.compression) {',
    "    testKmodOptions: { legacyShow: era === 'v4.13' },",
    "  const s = era === 'v4.13' ? 'Run test ID x test-count number of times' : 'Run test ID once';",
    '  if (12 <= preset.constants.kmodShLastTest) return true;',
    '  return parseVersion(release) > 5;',
  ];
  for (const l of caught) assert.equal(versionComparisons(l).length, 1, `not caught: ${l}`);
  const fine = [
    'const ERA_ORDER: Record<KmodShEra, number> = {};',
    "    return [`${SCRIPT}: You need at least kmod 20`, 'kmod <= 19 is buggy, for details see:'];",
    '  /** kmod version <= 19 has the bug */',
    '  kmodVersion: number; // ≥ 31 passes compressed files (kmodVersion >= 31)',
    "  if (k.preset.flags.sameNameCheck === 'v4.9') return;",
    '  const f = (version: number) => version;',
    '  for (let i = 0; i < tests.length; i++) {}',
    "  if (release === uname) return 'same';",
  ];
  for (const l of fine) assert.deepEqual(versionComparisons(l), [], `false positive: ${l}`);
  assert.equal(versionComparisons('/*\n * kmodVersion <= 19\n */\nx.version >= 2;\n')[0]?.line, 4, 'block comments are skipped, lines counted');
});

test('no version comparison outside the preset and kmod-release tables', () => {
  const root = packageRoot();
  const found: string[] = [];
  for (const file of sourceFiles(join(root, 'src'))) {
    const rel = relative(root, file).split('\\').join('/');
    if (TABLES.has(rel)) continue;
    for (const h of versionComparisons(readFileSync(file, 'utf8'))) found.push(`${rel}:${h.line}: ${h.text}`);
  }
  assert.deepEqual(found, [], `version comparisons outside ${[...TABLES].join(' and ')}:\n${found.join('\n')}`);
});
