import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTable } from '../../src/report/table.js';
import { renderReport, parseFormat } from '../../src/report/index.js';
import { formatBytes } from '../../src/report/units.js';
import { fakeParams, fakeRecords } from '../fixtures/report/records.js';

/** GFM table rows: a line starting and ending with an unescaped pipe, split on unescaped pipes */
function cells(line: string): string[] {
  assert.match(line, /^\|.*\|$/, line);
  return line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\([\\|])/g, '$1'));
}

function table(md: string): { head: string[]; delim: string[]; rows: string[][] } {
  const lines = md.trimEnd().split('\n').filter((l) => l.startsWith('|'));
  return { head: cells(lines[0]!), delim: cells(lines[1]!), rows: lines.slice(2).map(cells) };
}

const one = fakeParams({ cpus: [1, 8, 64, 255], kernels: ['v6.1', 'v6.4', 'v6.5'], seeds: [1] });
const oneRecords = fakeRecords(one);
const seeds = fakeParams({ cpus: [8, 64], kernels: ['v6.4', 'v6.1'], seeds: [1, 2, 3] });
const seedRecords = fakeRecords(seeds);

/** the text table's data rows of its first block (header lines and blank lines left out) */
function textRows(t: string): string[] {
  const block = t.split('\n\n')[0]!.split('\n');
  const header = block.findIndex((l) => l.startsWith('cpus'));
  return block.slice(header + 1);
}

test('md: one GFM table, header, delimiter row, the text table\'s rows and numbers', () => {
  const md = renderMarkdown(oneRecords, one);
  const { head, delim, rows } = table(md);
  assert.deepEqual(head, ['cpus', 'kernel', 'wasted', 'wasted kread', 'wasted decompress', 'wasted becoming', 'wasted load', 'failed becoming', 'failed load', 'loaded', 'attempts', 'peak vmalloc', 'peak module area', 'alloc fail', 'settle']);
  assert.equal(delim.length, head.length);
  for (const [i, d] of delim.entries()) assert.match(d, i === 1 ? /^:-{3,}$/ : /^-{3,}:$/, `column ${head[i]}: ${d}`);
  for (const r of rows) assert.equal(r.length, head.length);
  // same rows as the text table (one block of it: every block has every point)
  const text = textRows(renderTable(oneRecords, one));
  assert.equal(rows.length, text.length);
  assert.equal(rows.length, 12);
  rows.forEach((r, i) => assert.deepEqual(text[i]!.trim().split(/\s{2,}/).slice(0, 3), r.slice(0, 3)));
  // the 255-CPU v6.1 waste, formatted as everywhere
  const w = oneRecords.find((r) => r.cpus === 255 && r.kernel === 'v6.1')!.wastedBytes;
  assert.equal(rows.find((r) => r[0] === '255' && r[1] === 'v6.1')![2], formatBytes(w));
  assert.match(md, /^storm on kvm-guest: 12 runs, 3 kernels × 4 CPU counts\n\nseed 1\n\n\|/);
  assert.equal(parseFormat('md'), 'md');
});


test('md: several seeds: the min–max row under its point, as in the text table', async () => {
  const md = await renderReport('md', seedRecords, seeds);
  assert.equal(md, renderMarkdown(seedRecords, seeds));
  const { head, rows } = table(md);
  assert.deepEqual(head.slice(0, 3), ['cpus', 'kernel', 'seeds']);
  // 4 points, each with a min–max row (the waste differs between seeds at every point)
  assert.equal(rows.length, 8);
  const i = rows.findIndex((r) => r[0] === '8' && r[1] === 'v6.4');
  const w = seedRecords.filter((r) => r.cpus === 8 && r.kernel === 'v6.4').map((r) => r.wastedBytes).sort((a, b) => a - b);
  assert.equal(rows[i]![3], `${(w[1]! / 1048576).toFixed(2)} MiB`);
  assert.deepEqual(rows[i + 1]!.slice(0, 3), ['', '', '']);
  assert.equal(rows[i + 1]![3], `${(w[0]! / 1048576).toFixed(2)}–${(w[2]! / 1048576).toFixed(2)} MiB`);
});

test('md: a pipe or backslash in a kernel label is escaped and cannot end a cell', () => {
  const recs = fakeRecords(fakeParams({ cpus: [8], kernels: ['v6.4'] })).map((r) => ({ ...r, kernel: 'v6.4+a|b\\c' }));
  const md = renderMarkdown(recs);
  assert.ok(md.includes('v6.4+a\\|b\\\\c'), md);
  const { head, rows } = table(md);
  assert.equal(rows[0]!.length, head.length);
  assert.equal(rows[0]![1], 'v6.4+a|b\\c');
  assert.equal(renderMarkdown([]), 'no runs\n');
});
