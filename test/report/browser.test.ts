import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderHtml } from '../../src/report/html.js';
import { fakeParams, fakeRecords } from '../fixtures/report/records.js';
import { chromiumSkip, launchChromium } from './chromium.js';

const skip = chromiumSkip;

test('html report in headless Chromium: no console errors, no requests, a chart and the table', { skip, timeout: 120_000 }, async () => {
  const params = fakeParams({ cpus: [1, 8, 64, 128, 255], kernels: ['v6.1', 'v6.4', 'v6.5'], seeds: [1, 2, 3] });
  const records = fakeRecords(params);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kmodlab-browser-'));
  const file = path.join(dir, 'report.html');
  await writeFile(file, await renderHtml(records, params, { moduleAreaBytes: 1024 ** 3 }));
  const context = await launchChromium(dir);
  try {
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
    const url = pathToFileURL(file).href;
    const res = await page.goto(url, { waitUntil: 'load' });
    assert.ok(res?.ok(), 'page loads');
    assert.equal(await page.title(), 'kmodlab storm — kvm-guest');

    // Charts: three SVGs, drawn with real size, with line marks (one per kernel in the waste chart).
    const charts = page.locator('figure.chart svg');
    assert.equal(await charts.count(), 3);
    const box = await charts.first().boundingBox();
    assert.ok(box && box.width > 300 && box.height > 200, `chart is laid out: ${JSON.stringify(box)}`);
    assert.equal(await charts.first().locator('g.mark-line.role-mark path').count(), 3);
    const pathLen = await charts.first().locator('g.mark-line.role-mark path').first().evaluate((p) => (p as unknown as { getTotalLength(): number }).getTotalLength());
    assert.ok(pathLen > 100, `the line is drawn (${pathLen}px)`);
    assert.ok(await charts.first().isVisible());
    // hover: what the mouse finds at a measured point is that point, with its exact values as <title>
    const point = charts.first().locator('g.mark-symbol.role-mark path').last();
    await point.scrollIntoViewIfNeeded();
    const pbox = (await point.boundingBox())!;
    // (the page's DOM, typed by hand: the project's lib has no DOM types)
    type El = { tagName: string; querySelector(s: string): { textContent: string | null } | null };
    const hit = await page.evaluate(([x, y]) => {
      const doc = (globalThis as unknown as { document: { elementFromPoint(x: number, y: number): El | null } }).document;
      const el = doc.elementFromPoint(x!, y!);
      return el?.querySelector('title')?.textContent ?? `no title on ${el?.tagName ?? 'nothing'}`;
    }, [pbox.x + pbox.width / 2, pbox.y + pbox.height / 2]);
    assert.match(hit, /^v6\.5, 255 CPUs: median wasted 0 B \(0 bytes\); the same in all 3 seeds$/);

    // The main table: visible, one row per point, headers.
    const table = page.locator('table.results');
    assert.ok(await table.isVisible());
    assert.equal(await table.locator('tbody tr').count(), 15);
    const headers = await table.locator('thead tr').nth(1).locator('th').allInnerTexts();
    assert.deepEqual(headers.slice(0, 4), ['cpus', 'kernel', 'seeds', 'wasted']);
    assert.equal((await table.locator('tbody tr').first().locator('td').first().innerText()).trim(), '1');

    // Duplicate tables open on click; parameters present.
    const first = page.locator('details:has(table.dups)').first();
    assert.equal(await first.locator('table.dups').isVisible(), false, 'closed at first');
    await first.locator('summary').click();
    assert.ok(await first.locator('table.dups').isVisible());
    assert.match(await page.locator('dl.params').innerText(), /CPU counts\s+1, 8, 64, 128, 255/);

    assert.deepEqual(problems, [], 'no console errors or warnings');
    assert.deepEqual(requests, [url], 'nothing fetched besides the page itself');
  } finally {
    await context.close();
    await rm(dir, { recursive: true, force: true });
  }
});
