import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHtml } from '../../src/report/html.js';
import { fakeParams, fakeRecords } from '../fixtures/report/records.js';
import { checkXml } from '../fixtures/report/xml.js';
import type { StormRunRecord } from '../../src/results/record.js';

const params = fakeParams({ cpus: [1, 8, 64, 255, 300], kernels: ['v6.1', 'v6.4', 'v6.5'], seeds: [1, 2] });
const records = fakeRecords(params);

test('html: self-contained — no scripts, no external resources, a CSP that forbids fetching', async () => {
  const html = await renderHtml(records, params, { moduleAreaBytes: 1024 ** 3 });
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
  assert.ok(!/<script/i.test(html), 'no script');
  assert.ok(!/<link\b/i.test(html), 'no link');
  assert.ok(!/\bsrc=/i.test(html), 'no src attributes');
  assert.ok(!/@import|url\((?!#)/i.test(html), 'no CSS fetches');
  // The only URLs are XML namespace names (never fetched) and the vega-lite schema is not embedded.
  const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
  assert.deepEqual([...new Set(urls)].sort(), ['http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg']);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">/);
});

test('html: charts, main table, duplicate tables and parameters', async () => {
  const html = await renderHtml(records, params, { moduleAreaBytes: 1024 ** 3 });
  const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
  assert.equal(svgs.length, 3);
  for (const s of svgs) checkXml(s);
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'ids unique across the inlined charts');
  const main = html.slice(html.indexOf('<table class="results">'), html.indexOf('</table>', html.indexOf('<table class="results">')));
  assert.equal((main.match(/<tr>/g) ?? []).length, 2 + 15, 'two header rows and one row per point');
  assert.equal((html.match(/<details /g) ?? []).length, records.length, 'a duplicate section per run');
  assert.equal((html.match(/<table class="dups">/g) ?? []).length, records.filter((r) => r.duplicates.length > 0).length);
  assert.match(html, /<td class="text">kvm_intel<\/td><td class="num">\d+<\/td><td class="text">Becoming<\/td>/);
  assert.match(html, /<td class="text">kvm<\/td><td class="num">\d+<\/td><td class="text">Becoming &amp; Load<\/td>/);
  assert.match(html, /<dt>CPU counts<\/dt><dd>1, 8, 64, 255, 300<\/dd>/);
  assert.match(html, /<dt>command<\/dt><dd>kmodlab storm --machine kvm-guest/);
  assert.match(html, /legitimate loads failed by allocation/);
});

test('html: byte-identical for identical input, whatever the input order', async () => {
  const a = await renderHtml(records, params);
  const b = await renderHtml([...records].reverse(), params);
  assert.equal(a, b);
});

test('html: text from records is escaped', async () => {
  const evil: StormRunRecord[] = records.slice(0, 1).map((r) => ({ ...r, machine: '<b>m&m</b>', duplicates: [{ module: '<script>x</script>', count: 1, reason: 'Load' }] }));
  const html = await renderHtml(evil);
  assert.ok(!html.includes('<script>'));
  assert.ok(html.includes('&lt;script&gt;x&lt;/script&gt;'));
  assert.ok(html.includes('&lt;b&gt;m&amp;m&lt;/b&gt;'));
});
