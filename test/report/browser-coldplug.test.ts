/**
 * The waste-vs-vCPUs chart of a real coldplug beside its simulation, in headless Chromium: the
 * records are the committed calibration run (data/calibration/coldplug/debian-6.1.records.json:
 * debian-6.1 at 2, 4, 8 and 16 vCPUs, three boots each, and v6.1-stable on the captured guest),
 * so the picture is the one the calibration note talks about.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderHtml } from '../../src/report/html.js';
import { renderSvg } from '../../src/report/svg.js';
import { validateRecord, type StormParams } from '../../src/results/record.js';
import { chromiumSkip, launchChromium } from './chromium.js';

const skip = chromiumSkip;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const records = (JSON.parse(readFileSync(path.join(root, 'data/calibration/coldplug/debian-6.1.records.json'), 'utf8')) as unknown[]).map((r, i) => validateRecord(r, `record ${i}`));
const cpus = [...new Set(records.map((r) => r.cpus))].sort((a, b) => a - b);
const params: StormParams = { machine: records[0]!.machine, cpus, kernels: ['debian-6.1', 'v6.1-stable'], seeds: [1, 2, 3], command: 'kmodlab storm --target qemu:debian-6.1 --cpus 2,4,8,16 --seeds 3 --compare' };

test('the calibration records hold real and simulated runs at every vCPU count', () => {
  for (const c of cpus) {
    assert.equal(records.filter((r) => r.cpus === c && r.source === 'measured').length, 3, `${c} vCPUs real`);
    assert.equal(records.filter((r) => r.cpus === c && r.source !== 'measured').length, 3, `${c} vCPUs sim`);
  }
});

test('SVG: the waste chart has a real and a simulated line', async () => {
  const svg = await renderSvg(records, params, {});
  assert.match(svg, /debian-6\.1/);
  assert.match(svg, /v6\.1-stable/);
});

test('HTML in headless Chromium: one waste chart, two lines (real, sim), both named in the legend', { skip, timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kmodlab-browser-'));
  const file = path.join(dir, 'report.html');
  await writeFile(file, await renderHtml(records, params, {}));
  const context = await launchChromium(dir);
  try {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const waste = page.locator('figure.chart svg').first();
    assert.equal(await waste.locator('g.mark-line.role-mark path').count(), 2);
    const legend = (await waste.locator('g.role-legend').allInnerTexts()).join(' ') + (await waste.innerHTML());
    assert.match(legend, /debian-6\.1/);
    assert.match(legend, /v6\.1-stable/);
    await page.screenshot({ path: path.join(dir, 'shot.png'), fullPage: false });
    if (process.env.KMODLAB_KEEP_SHOT) await writeFile(process.env.KMODLAB_KEEP_SHOT, readFileSync(path.join(dir, 'shot.png')));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await rm(dir, { recursive: true, force: true });
  }
});
