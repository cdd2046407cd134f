import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTable } from '../../src/report/table.js';
import { renderChart } from '../../src/report/chart.js';
import { renderDumbChart } from '../../src/report/dumb-chart.js';
import { renderReport } from '../../src/report/index.js';
import { fakeParams, fakeRecords } from '../fixtures/report/records.js';
import type { StormRunRecord } from '../../src/results/record.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const goldenDir = path.join(root, 'test/fixtures/report/golden');

/** Compare with a checked-in file; UPDATE_GOLDEN=1 rewrites it. */
export function golden(name: string, actual: string): void {
  const file = path.join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(file, actual);
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from ${file} (UPDATE_GOLDEN=1 to accept)`);
}

/** A fixed shuffle: reports must not depend on input order. */
function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  let s = 12345;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const oneSeed = fakeParams({ cpus: [1, 8, 64, 255], kernels: ['v6.1', 'v6.4', 'v6.5'], seeds: [1] });
const oneSeedRecords = fakeRecords(oneSeed);
const seeds = fakeParams({ cpus: [8, 64], kernels: ['v6.4', 'v6.1'], seeds: [1, 2, 3] });
const seedRecords = fakeRecords(seeds);

test('table: golden output, independent of input order', () => {
  const t = renderTable(oneSeedRecords, oneSeed);
  golden('table.txt', t);
  assert.equal(renderTable(shuffled(oneSeedRecords), oneSeed), t);
  const lines = t.split('\n');
  assert.match(lines[0]!, /^storm on kvm-guest: 12 runs, 3 kernels × 4 CPU counts$/);
  const header = lines.filter((l) => l.startsWith('cpus')).join('  ');
  for (const h of ['kernel', 'wasted', 'kread', 'decompress', 'becoming', 'load', 'loaded', 'attempts', 'vmalloc', 'module area', 'alloc fail', 'settle']) {
    assert.ok(header.includes(h), h);
  }
  // Two stacked blocks (the duplicates' cost, then the boot), each with the 12 rows in order
  // cpus, then the sweep's kernel order.
  const blocks = t.split('\n\n');
  assert.equal(blocks.length, 2);
  for (const b of blocks) {
    const rows = b.split('\n').filter((l) => /^\s+\d+\s+v/.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '));
    assert.deepEqual(rows.slice(0, 4), ['1 v6.1', '1 v6.4', '1 v6.5', '8 v6.1']);
    assert.equal(rows.length, 12);
  }
  assert.match(blocks[0]!, /^cpus +kernel +wasted +kread +decompress +becoming +load +becoming +load$/m);
  assert.match(blocks[1]!, /^cpus +kernel +loaded +attempts +vmalloc +module area +alloc fail +settle$/m);
});

/** the widest line, in characters (the rules are one character each) */
const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

test('table: every line fits 100 columns, the key columns repeated in every block', () => {
  const wide = fakeParams({ cpus: [1, 8, 64, 255, 512], kernels: ['v6.1', 'v6.4', 'v6.5'], seeds: [1, 2, 3, 4] });
  const twoMachines = [...fakeRecords(wide), ...fakeRecords({ ...wide, machine: 'big-numa-server' })].map((r) => ({ ...r, kernel: r.kernel === 'v6.1' ? 'v6.1-stable+same-name-policy' : r.kernel }));
  const cases: [string, string][] = [
    ['one seed', renderTable(oneSeedRecords, oneSeed)],
    ['seeds', renderTable(seedRecords, seeds)],
    ['seeds, two machines, a long kernel label', renderTable(twoMachines)],
  ];
  for (const [name, t] of cases) {
    assert.ok(widest(t) <= 100, `${name}: ${widest(t)} columns\n${t}`);
    // before wrapping the same tables were 155 and 189 columns: the limit is what splits them
    const blocks = t.split('\n\n');
    assert.ok(blocks.length >= 2, name);
    const keys = name.includes('machines') ? /^cpus +machine +kernel +seeds /m : name === 'seeds' ? /^cpus +kernel +seeds /m : /^cpus +kernel /m;
    for (const b of blocks) assert.match(b, keys, `${name}: a block without the key columns\n${b}`);
    // every measure is in some block, once
    const headers = blocks.flatMap((b) => b.split('\n').filter((l) => l.startsWith('cpus')));
    const titles = headers.join('  ').split(/ {2,}/).map((x) => x.trim()).filter((x) => !['cpus', 'machine', 'kernel', 'seeds'].includes(x));
    assert.deepEqual(titles, ['wasted', 'kread', 'decompress', 'becoming', 'load', 'becoming', 'load', 'loaded', 'attempts', 'vmalloc', 'module area', 'alloc fail', 'settle'], name);
  }
  // the two-machine table's every point appears in each block
  const t = cases[2]![1];
  for (const b of t.split('\n\n')) assert.equal(b.split('\n').filter((l) => /^\s+\d+\s+(kvm-guest|big-numa-server)\s/.test(l)).length, 30);
});

test('table: several seeds give the median and a min–max line', () => {
  const t = renderTable(seedRecords, seeds);
  golden('table-seeds.txt', t);
  assert.equal(renderTable(shuffled(seedRecords), seeds), t);
  assert.match(t, /median per point, min–max below where seeds differ/);
  const row = t.split('\n').find((l) => /^\s+8\s+v6\.4\s+3\s/.test(l));
  assert.ok(row, 'the 8-CPU v6.4 row, kernels in the sweep order (v6.4 first)');
  // Waste of the three seeds; the row shows the middle one.
  const w = seedRecords.filter((r) => r.cpus === 8 && r.kernel === 'v6.4').map((r) => r.wastedBytes).sort((a, b) => a - b);
  assert.ok(row.includes(`${(w[1]! / 1048576).toFixed(2)} MiB`), row);
  const next = t.split('\n')[t.split('\n').indexOf(row) + 1]!;
  assert.ok(next.includes(`${(w[0]! / 1048576).toFixed(2)}–${(w[2]! / 1048576).toFixed(2)} MiB`), next);
});

test('table: empty input', () => {
  assert.equal(renderTable([]), 'no runs\n');
});

test('chart: golden output, one line style per kernel, legend, CPU axis', () => {
  const c = renderChart(oneSeedRecords, oneSeed);
  golden('chart.txt', c);
  assert.equal(renderChart(shuffled(oneSeedRecords), oneSeed), c);
  assert.ok(!c.includes('\x1b['), 'no ANSI codes unless asked');
  assert.match(c, /^virtual memory wasted by duplicate loads \(GiB\) vs CPUs — kvm-guest\n/);
  assert.match(c, /─── v6\.1 {3}━━━ v6\.4 {3}═══ v6\.5\n$/);
  const axisLabels = c.split('\n').find((l) => l.trimEnd().endsWith('CPUs'))!;
  for (const n of ['1', '64', '255']) assert.match(axisLabels, new RegExp(`\\b${n}\\b`));
  assert.ok(c.includes('━'), 'v6.4 drawn');
  const colored = renderChart(oneSeedRecords, oneSeed, { color: true });
  assert.ok(colored.includes('\x1b[34m'));
});

test('chart: a v6.5-only sweep (all zero) and a single CPU count still draw', () => {
  const zero = fakeRecords(fakeParams({ kernels: ['v6.5'] }));
  const c = renderChart(zero);
  assert.match(c, /\(B\) vs CPUs/);
  const single = renderChart(fakeRecords(fakeParams({ cpus: [64] })));
  assert.match(single, /64 {2}CPUs/);
});

test('text format: the table then the chart', async () => {
  const t = await renderReport('text', oneSeedRecords, oneSeed);
  assert.equal(t, `${renderTable(oneSeedRecords, oneSeed)}\n${renderChart(oneSeedRecords, oneSeed)}`);
});

test('reports do not mutate their input', () => {
  const copy: StormRunRecord[] = structuredClone(oneSeedRecords);
  renderTable(oneSeedRecords, oneSeed);
  renderChart(oneSeedRecords, oneSeed);
  assert.deepEqual(oneSeedRecords, copy);
});

test('dumb chart: golden output, gnuplot-dumb frame, a glyph per kernel and a key', () => {
  const c = renderDumbChart(oneSeedRecords, oneSeed);
  golden('chart-dumb.txt', c);
  assert.equal(renderDumbChart(shuffled(oneSeedRecords), oneSeed), c);
  assert.match(c, /^[\x20-\x7e\n]*$/, 'plain ASCII, no colour');
  assert.ok(widest(c) <= 79, `${widest(c)} columns (gnuplot's 79 by default)`);
  const lines = c.split('\n');
  assert.match(lines[0]!, /virtual memory wasted by duplicate loads \(GiB\) vs CPUs - kvm-guest$/);
  // the frame: top and bottom edges are +---…---+ between the value labels and the right edge
  const top = lines.findIndex((l) => /^ *[\d.]+ \+-/.test(l));
  const bottom = lines.findLastIndex((l) => /^ *[\d.]+ [+A-Z]/.test(l) && /[-+A-Z$*#]+$/.test(l));
  assert.ok(top > 0 && bottom > top + 8, `frame rows ${top}..${bottom}`);
  const L = lines[top]!.indexOf('+');
  const R = lines[top]!.length - 1;
  for (let r = top + 1; r < bottom; r++) assert.match(lines[r]!.charAt(L), /[|A-Z*#$]/, `left edge, row ${r}`);
  // a key entry per kernel, in the sweep's order, with its line character and point letter
  for (const [k, glyph] of [['v6.1', '***A***'], ['v6.4', '###B###'], ['v6.5', '$$$C$$$']] as const) assert.ok(c.includes(`${k} ${glyph}`), `${k} key`);
  // every measured point is its letter where its value puts it: the x axis ends at the data
  // (first and last CPU counts on the frame's edges), the value axis at the top label
  const yTop = Number(lines[top]!.trim().split(' ')[0]);
  const GiB = 1024 ** 3;
  const cpus = [1, 8, 64, 255];
  const cellOf = (k: string, n: number) => {
    const v = oneSeedRecords.find((r) => r.kernel === k && r.cpus === n)!.wastedBytes / GiB;
    return `${bottom - Math.round((v / yTop) * (bottom - top))},${L + Math.round(((n - 1) / (255 - 1)) * (R - L))}`;
  };
  // where two kernels' points fall in one cell, the later kernel's letter is drawn
  const expected = new Map<string, string>();
  for (const [j, k] of ['v6.1', 'v6.4', 'v6.5'].entries()) for (const n of cpus) expected.set(cellOf(k, n), 'ABC'[j]!);
  assert.ok(expected.size >= 8, 'most points have a cell of their own');
  for (const [cell, letter] of expected) {
    const [row, col] = cell.split(',').map(Number) as [number, number];
    assert.equal(lines[row]!.charAt(col), letter, `point ${letter} at row ${row}, column ${col}`);
  }
  const xLabels = lines[bottom + 1]!;
  assert.equal(xLabels.indexOf('1'), L, 'the first CPU count under the left edge');
  assert.equal(xLabels.trimEnd().length - 1, R, 'the last CPU count ends under the right edge');
  assert.match(xLabels, /\b50\b.*\b100\b.*\b150\b.*\b200\b/);
  assert.match(lines[bottom + 2]!, /^ +CPUs$/);
});

test('dumb chart: seeds, counts, a long key below the frame, never wider than 100 columns', () => {
  const s = renderDumbChart(seedRecords, seeds);
  // the title, wider than the frame, is split at its last ' - '
  assert.match(s, /vs CPUs - kvm-guest\n +median of seeds\n/);
  assert.ok(s.includes('v6.4 ***A***') && s.includes('v6.1 ###B###'), s);
  const failed = renderDumbChart(oneSeedRecords, oneSeed, { measure: 'failedBecoming' });
  assert.match(failed, /failed loads \(becoming\) vs CPUs/);
  assert.ok(!/GiB|MiB/.test(failed), 'a count has no byte unit');
  const wide = fakeParams({ cpus: [1, 8, 64, 255, 512], kernels: ['v6.1', 'v6.4', 'v6.5'], seeds: [1] });
  const twoMachines = [...fakeRecords(wide), ...fakeRecords({ ...wide, machine: 'big-numa-server' })].map((r) => ({ ...r, kernel: r.kernel === 'v6.1' ? 'v6.1-stable+same-name-policy' : r.kernel }));
  for (const width of [79, 100, 300]) {
    const c = renderDumbChart(twoMachines, undefined, { width });
    assert.ok(widest(c) <= Math.min(width, 100), `${width}: ${widest(c)} columns\n${c}`);
    assert.equal(c.match(/\b[A-F]\b/g) !== null, true);
    for (const n of ['big-numa-server v6.1-stable+same-name-policy', 'kvm-guest v6.5']) assert.ok(c.includes(n), `${width}: key ${n}`);
  }
  // six series and a long name do not fit a corner of a 79-column frame: the key is under it
  const c = renderDumbChart(twoMachines);
  const key = c.split('\n').findIndex((l) => l.includes('v6.1-stable+same-name-policy'));
  assert.ok(key > c.split('\n').findIndex((l) => l.trim() === 'CPUs'), c);
  assert.equal(renderDumbChart([]), 'no runs\n');
  assert.match(renderDumbChart(fakeRecords(fakeParams({ kernels: ['v6.5'] }))), /\(B\) vs CPUs/);
  assert.match(renderDumbChart(fakeRecords(fakeParams({ cpus: [64] }))), /\b64\b/);
});

test('--chart dumb: the text and chart formats draw the dumb chart, the default stays', async () => {
  assert.equal(await renderReport('chart', oneSeedRecords, oneSeed, { chart: 'dumb' }), renderDumbChart(oneSeedRecords, oneSeed));
  assert.equal(await renderReport('text', oneSeedRecords, oneSeed, { chart: 'dumb' }), `${renderTable(oneSeedRecords, oneSeed)}\n${renderDumbChart(oneSeedRecords, oneSeed)}`);
  assert.equal(await renderReport('chart', oneSeedRecords, oneSeed), renderChart(oneSeedRecords, oneSeed));
});
