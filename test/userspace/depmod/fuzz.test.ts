/**
 * DOC: fuzzing every reader with fast-check: random and truncated input never crashes, it either
 * parses or throws one-line InputErrors. fast-check prints the seed and path of any failure, so a
 * failing case replays with `fc.assert(..., { seed, path })`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { InputError } from '../../../src/errors.js';
import { aliasMatches, parseModulesAlias } from '../../../src/userspace/depmod/alias.js';
import { parseModulesBuiltin, parseModulesOrder } from '../../../src/userspace/depmod/builtin.js';
import { parseModulesDep } from '../../../src/userspace/depmod/dep.js';
import { koFactsFromBuffer } from '../../../src/userspace/depmod/kofile.js';
import { parseModulesSoftdep } from '../../../src/userspace/depmod/softdep.js';
import { parseModulesSymbols } from '../../../src/userspace/depmod/symbols.js';
import { parseModulesBuiltinModinfo } from '../../../src/userspace/depmod/builtin-modinfo.js';
import { fromSnapshotJson } from '../../../src/userspace/depmod/snapshot.js';
import { appendSignature, buildKo } from '../../fixtures/modules/build-ko.js';

function onlyInputErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    assert.ok(!e.message.includes('\n'), `multi-line error: ${e.message}`);
  }
}

async function onlyInputErrorsAsync(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    assert.ok(!e.message.includes('\n'), `multi-line error: ${e.message}`);
  }
}

// text that looks like depmod output often enough to reach deep paths
const token = fc.constantFrom('alias', 'softdep', 'pre:', 'post:', 'kernel/fs/xfs/xfs.ko', 'a.ko.xz', 'b-c.ko:', ':', ' ', '\t', '#', '\n', 'x', '[', ']', '*', '\0', '\r');
const textish = fc.oneof(fc.string({ maxLength: 300 }), fc.array(token, { maxLength: 60 }).map((a) => a.join('')), fc.string({ unit: 'binary', maxLength: 200 }));

const textReaders: [string, (t: string) => unknown][] = [
  ['modules.dep', (t) => parseModulesDep(t)],
  ['modules.alias', (t) => parseModulesAlias(t)],
  ['modules.softdep', (t) => parseModulesSoftdep(t)],
  ['modules.builtin', (t) => parseModulesBuiltin(t)],
  ['modules.order', (t) => parseModulesOrder(t)],
  ['modules.symbols', (t) => parseModulesSymbols(t)],
  ['modules.builtin.modinfo', (t) => parseModulesBuiltinModinfo(t)],
];

for (const [name, read] of textReaders) {
  test(`fuzz ${name}: random text never crashes`, () => {
    fc.assert(fc.property(textish, (t) => onlyInputErrors(() => read(t))), { numRuns: 500 });
  });
}

test('fuzz aliasMatches against a RegExp oracle', () => {
  const pat = fc.array(fc.constantFrom('a', 'b', '-', '*', '?', '[ab]', '[!a]', '[^b]', '[a-b]', '\\*', '*'), { maxLength: 8 }).map((a) => a.join(''));
  const str = fc.array(fc.constantFrom('a', 'b', '-', '*'), { maxLength: 10 }).map((a) => a.join(''));
  const toRegExp = (p: string): RegExp => {
    let r = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      if (c === '*') r += '[^]*';
      else if (c === '?') r += '[^]';
      else if (c === '\\') r += `\\${p[++i]}`;
      else if (c === '[') {
        const end = p.indexOf(']', i + 2);
        let body = p.slice(i + 1, end);
        if (body[0] === '!') body = `^${body.slice(1)}`;
        r += `[${body}]`;
        i = end;
      } else r += c === '-' ? '\\-' : c;
    }
    return new RegExp(`^${r}$`);
  };
  fc.assert(fc.property(pat, str, (p, s) => aliasMatches(p, s) === toRegExp(p).test(s)), { numRuns: 2000 });
  fc.assert(fc.property(fc.string(), fc.string(), (p, s) => typeof aliasMatches(p, s) === 'boolean'), { numRuns: 1000 });
});

const ko = appendSignature(buildKo(), 77);

test('fuzz .ko: every truncation and random corruption of a real image', async () => {
  for (let n = 0; n <= ko.length; n += 7) await onlyInputErrorsAsync(() => koFactsFromBuffer(ko.subarray(0, n), 't.ko'));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(ko.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }), async (edits) => {
      const b = Buffer.from(ko);
      for (const [at, v] of edits) b[at] = v;
      await onlyInputErrorsAsync(() => koFactsFromBuffer(b, 't.ko'));
    }),
    { numRuns: 1000 },
  );
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => onlyInputErrorsAsync(() => koFactsFromBuffer(Buffer.from(bytes), 'r.ko'))),
    { numRuns: 500 },
  );
});

test('fuzz compressed .ko: truncated and corrupted gzip, xz, zstd', async () => {
  const variants: [string, Buffer][] = [['t.ko.gz', zlib.gzipSync(ko)]];
  for (const [tool, args, name] of [['xz', ['--check=crc32', '-c'], 't.ko.xz'], ['zstd', ['-q', '-c'], 't.ko.zst']] as const) {
    const r = spawnSync(tool, [...args], { input: ko });
    if (r.status === 0) variants.push([name, r.stdout]);
  }
  for (const [name, data] of variants) {
    for (let n = 0; n < data.length; n += 3) await onlyInputErrorsAsync(() => koFactsFromBuffer(data.subarray(0, n), name));
    await fc.assert(
      fc.asyncProperty(fc.nat(data.length - 1), fc.integer({ min: 0, max: 255 }), async (at, v) => {
        const b = Buffer.from(data);
        b[at] = v;
        await onlyInputErrorsAsync(() => koFactsFromBuffer(b, name));
      }),
      { numRuns: 150 },
    );
  }
});

test('fuzz snapshot JSON', () => {
  fc.assert(fc.property(fc.jsonValue(), (j) => onlyInputErrors(() => fromSnapshotJson(j, 's.json'))), { numRuns: 500 });
  const near = fc.record({
    format: fc.constantFrom('kmodlab-moduleset/1', 'x'),
    release: fc.string(),
    source: fc.string(),
    modules: fc.array(fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string())), { maxLength: 11 }), { maxLength: 3 }),
    aliases: fc.array(fc.array(fc.string(), { maxLength: 3 }), { maxLength: 3 }),
    builtin: fc.array(fc.string()),
    order: fc.array(fc.string()),
  });
  fc.assert(fc.property(near, (j) => onlyInputErrors(() => fromSnapshotJson(j, 's.json'))), { numRuns: 500 });
});
