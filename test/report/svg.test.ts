import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg, renderSvgCharts, normalizeSvgIds } from '../../src/report/svg.js';
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
