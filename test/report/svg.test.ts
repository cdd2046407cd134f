import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNEL_COLORS, LIMIT_COLOR, renderSvg, renderSvgCharts, normalizeSvgIds } from '../../src/report/svg.js';
import { fakeParams, fakeRecords } from '../fixtures/report/records.js';
import { checkXml, countInGroups } from '../fixtures/report/xml.js';

const params = fakeParams({ cpus: [1, 8, 64, 128, 255], kernels: ['v6.1', 'v6.4', 'v6.5'], seeds: [1] });
const records = fakeRecords(params);
const GiB = 1024 ** 3;

/** Elements inside vega's mark groups of one role (axes and legends are other roles). */
const marks = (svg: string, mark: string, tag: string) => countInGroups(svg, `mark-${mark} role-mark`, tag);

test('charts are valid SVG documents with one line per kernel', async () => {
  const c = await renderSvgCharts(records, params, { moduleAreaBytes: GiB });
  for (const [name, svg] of Object.entries(c)) {
    const info = checkXml(svg);
    assert.equal(info.root, 'svg', name);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, name);
  }
  assert.equal(marks(c.waste, 'line', 'path'), 3, 'waste: a line per kernel');
  assert.equal(marks(c.waste, 'symbol', 'path'), records.length, 'waste: a point per run');
  assert.equal(marks(c.failed, 'line', 'path'), 6, 'failed: becoming and load per kernel');
  assert.equal(marks(c.moduleArea, 'line', 'path'), 3, 'module area: a line per kernel');
  assert.equal(marks(c.moduleArea, 'rule', 'line'), 1, 'module area: the size as a rule');
  assert.match(c.moduleArea, /module area size 1 GiB/);
  for (const k of ['v6.1', 'v6.4', 'v6.5']) assert.ok(c.waste.includes(`>${k}</text>`), `legend ${k}`);
  assert.match(c.waste, /wasted \(GiB\)/);
  const none = await renderSvgCharts(records, params);
  assert.equal(marks(none.moduleArea, 'rule', 'line'), 0, 'no rule without an area size');
});

test('several seeds: median lines plus a min–max band', async () => {
  const p = fakeParams({ cpus: [8, 64], kernels: ['v6.1', 'v6.4'], seeds: [1, 2, 3] });
  const c = await renderSvgCharts(fakeRecords(p), p);
  assert.equal(marks(c.waste, 'line', 'path'), 2);
  assert.equal(marks(c.waste, 'area', 'path'), 2);
  assert.match(c.waste, /median, band: min–max over seeds/);
});

test('stacked and grouped category bars: one bar per point and category', async () => {
  for (const mode of ['stacked', 'grouped'] as const) {
    const c = await renderSvgCharts(records, params, { categories: mode });
    checkXml(c.waste);
    assert.equal(marks(c.waste, 'rect', 'path'), records.length * 4, mode);
    for (const cat of ['kread', 'decompress', 'becoming', 'load']) assert.ok(c.waste.includes(`>${cat}</text>`), `${mode}: legend ${cat}`);
  }
});

test('one combined SVG for --svg, byte-identical across renders and input order', async () => {
  const a = await renderSvg(records, params, { moduleAreaBytes: GiB });
  const b = await renderSvg([...records].reverse(), params, { moduleAreaBytes: GiB });
  assert.equal(a, b);
  checkXml(a);
  assert.equal(marks(a, 'line', 'path'), 12);
  const ids = [...a.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'unique ids');
  assert.ok(ids.every((id) => id!.startsWith('km-')));
});

test('id normalisation renames ids and their references consistently', () => {
  const svg = '<svg><defs><clipPath id="clip7"><rect/></clipPath></defs><g clip-path="url(#clip7)"/><use xlink:href="#clip7"/><g clip-path="url(#clip9)"/><clipPath id="clip9"/></svg>';
  assert.equal(
    normalizeSvgIds(svg, 'p-'),
    '<svg><defs><clipPath id="p-1"><rect/></clipPath></defs><g clip-path="url(#p-1)"/><use xlink:href="#p-1"/><g clip-path="url(#p-2)"/><clipPath id="p-2"/></svg>',
  );
});

test('the XML checker rejects broken documents', () => {
  assert.throws(() => checkXml('<svg><g></svg>'), /closes/);
  assert.throws(() => checkXml('<svg a="1" a="2"/>'), /repeated/);
  assert.throws(() => checkXml('<svg>a & b</svg>'), /stray &/);
  assert.throws(() => checkXml('<svg/><svg/>'), /second root/);
  assert.equal(checkXml('<svg><text>a &amp; b</text></svg>').elements.get('text'), 1);
});

/** the <title> of each point in the chart's mark groups of MARK, in document order */
function titles(svg: string, mark = 'symbol'): string[] {
  const out: string[] = [];
  for (const g of svg.matchAll(new RegExp(`<g class="mark-${mark} role-mark[^"]*"[^>]*>([\\s\\S]*?)</g>`, 'g'))) {
    for (const t of g[1]!.matchAll(/<(?:path|line|rect)\b[^>]*><title>([^<]*)<\/title><\/(?:path|line|rect)>/g)) out.push(t[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&amp;/g, '&'));
  }
  return out;
}

test('tooltips: every point, bar and limit rule has a <title> with its exact values', async () => {
  const c = await renderSvgCharts(records, params, { moduleAreaBytes: GiB });
  for (const svg of Object.values(c)) checkXml(svg);
  const w = titles(c.waste);
  assert.equal(w.length, records.length, 'a title per point');
  assert.equal(checkXml(c.waste).elements.get('title'), records.length, 'and no other');
  for (const r of records) {
    const bytes = r.wastedBytes;
    const unit = bytes >= GiB ? `${(bytes / GiB).toFixed(2)} GiB` : bytes >= 1024 ** 2 ? `${(bytes / 1024 ** 2).toFixed(2)} MiB` : `${bytes} B`;
    assert.ok(w.includes(`${r.kernel}, ${r.cpus} CPU${r.cpus === 1 ? '' : 's'}: wasted ${unit} (${bytes} bytes) (seed 1)`), `${r.kernel} ${r.cpus}: ${w.join(' | ')}`);
  }
  const f = titles(c.failed);
  assert.equal(f.length, records.length * 2);
  for (const r of records) {
    assert.ok(f.includes(`${r.kernel}, ${r.cpus} CPU${r.cpus === 1 ? '' : 's'}: failed loads (becoming) ${r.failedBecoming} (seed 1)`), `${r.kernel} ${r.cpus} becoming`);
    assert.ok(f.includes(`${r.kernel}, ${r.cpus} CPU${r.cpus === 1 ? '' : 's'}: failed loads (load) ${r.failedLoad} (seed 1)`), `${r.kernel} ${r.cpus} load`);
  }
  assert.deepEqual(titles(c.moduleArea, 'rule'), ['module area size: 1.00 GiB (1073741824 bytes)']);
  // several seeds: the median and the exact min–max
  const p = fakeParams({ cpus: [8, 64], kernels: ['v6.1'], seeds: [1, 2, 3] });
  const rs = fakeRecords(p);
  const s = titles((await renderSvgCharts(rs, p)).waste);
  const at8 = rs.filter((r) => r.cpus === 8).map((r) => r.wastedBytes).sort((a, b) => a - b);
  assert.equal(s.length, 2);
  assert.match(s[0]!, new RegExp(`^v6\\.1, 8 CPUs: median wasted [\\d.]+ MiB \\(${at8[1]} bytes\\); min–max over 3 seeds: [\\d.]+ MiB \\(${at8[0]} bytes\\) – [\\d.]+ MiB \\(${at8[2]} bytes\\)$`));
  // category bars carry theirs too
  const bars = titles((await renderSvgCharts(records, params, { categories: 'stacked' })).waste, 'rect');
  assert.equal(bars.length, records.length * 4);
  assert.ok(bars.some((t) => /^v6\.1, 255 CPUs: wasted \(kread\) [\d.]+ GiB \(\d+ bytes\) \(seed 1\)$/.test(t)), bars[0]);
});

test('the CPU axis ends at the data: the first and last CPU counts sit on the plot edges', async () => {
  const c = await renderSvgCharts(records, params, { moduleAreaBytes: GiB });
  for (const [name, svg] of Object.entries(c)) {
    const g = /<g class="mark-symbol role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(svg)![1]!;
    const xs = [...g.matchAll(/transform="translate\(([-\d.e]+),/g)].map((m) => Number(m[1]));
    assert.equal(Math.min(...xs), 0, `${name}: 1 CPU at the left edge`);
    assert.equal(Math.max(...xs), 560, `${name}: 255 CPUs at the right edge (no axis rounded out past the data)`);
  }
});

test('one colour per kernel in every chart, never a limit line\'s', async () => {
  const c = await renderSvgCharts(records, params, { moduleAreaBytes: GiB });
  const strokes = (svg: string) => {
    // vega draws each series' line in a group of its own
    const gs = [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/g)].map((m) => m[1]!);
    return gs.flatMap((g) => [...g.matchAll(/<path aria-label="([^"]*)"[^>]*stroke="(#[0-9a-f]+)"/g)].map((m) => [m[1]!, m[2]!] as const));
  };
  const want = new Map([['v6.1', KERNEL_COLORS[0]], ['v6.4', KERNEL_COLORS[1]], ['v6.5', KERNEL_COLORS[2]]]);
  for (const [name, svg] of Object.entries(c)) {
    const lines = strokes(svg);
    assert.ok(lines.length >= 3, name);
    for (const [kernel, color] of lines) assert.equal(color, want.get(kernel), `${name}: ${kernel}`);
  }
  const rule = /<line [^>]*aria-roledescription="rule mark"[^>]*stroke="(#[0-9a-f]+)"[^>]*stroke-dasharray/.exec(c.moduleArea);
  assert.ok(rule, 'a dashed limit rule');
  assert.equal(rule[1], LIMIT_COLOR);
  assert.ok(!KERNEL_COLORS.includes(LIMIT_COLOR));
  assert.equal(new Set(KERNEL_COLORS).size, KERNEL_COLORS.length, 'no colour given twice');
});
