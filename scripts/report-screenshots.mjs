#!/usr/bin/env node
// DOC: screenshots of a storm's HTML report and SVG charts in headless Chromium, to look at them
// as a reader would (docs/screenshots/README.md says what was checked). Debian's /usr/bin/chromium
// under playwright-core (a devDependency), started as test/report/chromium.ts starts it.
//   node scripts/report-screenshots.mjs REPORT.html CHARTS.svg OUTDIR
// writes OUTDIR/report.png (the page's top: header and charts), OUTDIR/report-table.png (the
// results table) and OUTDIR/charts-svg.png (the --svg file), and prints, for one point of each
// chart, the element the mouse finds there and its <title> (what the browser shows on hover).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import process from 'node:process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [html, svg, out] = process.argv.slice(2);
if (!html || !svg || !out) {
  process.stderr.write('usage: report-screenshots.mjs REPORT.html CHARTS.svg OUTDIR\n');
  process.exit(2);
}
const profile = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-shots-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && problems.push(m.text()));
  await page.goto(pathToFileURL(path.resolve(html)).href, { waitUntil: 'load' });
  await page.screenshot({ path: path.join(out, 'report.png'), timeout: 180_000 });
  await page.locator('#results').screenshot({ path: path.join(out, 'report-table.png'), timeout: 180_000 });
  // hover: the element at a point's centre, and its title
  const charts = page.locator('figure.chart svg');
  for (let i = 0; i < (await charts.count()); i++) {
    const point = charts.nth(i).locator('g.mark-symbol.role-mark path').last();
    await point.scrollIntoViewIfNeeded();
    const box = await point.boundingBox();
    if (!box) continue;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const hit = await page.evaluate(([x, y]) => {
      const el = globalThis.document.elementFromPoint(x, y);
      return el ? `${el.tagName} ${el.getAttribute('aria-roledescription') ?? ''}: ${el.querySelector('title')?.textContent ?? '(no title)'}` : 'nothing';
    }, [box.x + box.width / 2, box.y + box.height / 2]);
    process.stdout.write(`chart ${i + 1}, last point: ${hit}\n`);
  }
  await page.goto(pathToFileURL(path.resolve(svg)).href, { waitUntil: 'load' });
  // the --svg file alone, at its own size
  const size = await page.evaluate(() => {
    const r = globalThis.document.documentElement.getBoundingClientRect();
    return { width: Math.ceil(r.width), height: Math.ceil(r.height) };
  });
  await page.setViewportSize(size);
  await page.screenshot({ path: path.join(out, 'charts-svg.png'), timeout: 180_000 });
  process.stdout.write(problems.length ? `console: ${problems.join('; ')}\n` : 'console: no errors or warnings\n');
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
