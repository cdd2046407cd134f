/**
 * DOC: the trace-event JSON of `kmodlab trace` (src/report/trace.ts) against the format's rules
 * and a real viewer. The rules (Chrome's Trace Event Format): every event has a name, a phase,
 * a timestamp in µs, pid and tid; slices are complete events (`X`) with a duration, nesting
 * per track; instants carry a scope; counters numeric args. kmodlab's own: events in time order,
 * one name per kind (the values — module, errno, what a wait was on — in args), no state event
 * that changes nothing. The viewer: speedscope (its npm package, the real app) in headless
 * Chromium imports the file with no warning — it is the viewer that pairs slice begins and ends
 * strictly and says so on the console. Skips the browser part without /usr/bin/chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChromeTrace, TraceEvent } from '../../src/report/trace.js';
import { runCli } from '../cli/run-cli.js';
import { chromiumSkip, launchChromium } from './chromium.js';

const noBrowser = chromiumSkip;

const traces = new Map<string, string>();
/** `kmodlab trace … --out -`: the JSON on stdout */
async function trace(args: string[]): Promise<string> {
  const key = args.join(' ');
  if (!traces.has(key)) {
    const r = await runCli(['trace', ...args, '--out', '-']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^kmodlab: wrote stdout \(\d+ events, \d+ log records\)\n$/);
    traces.set(key, r.stdout);
  }
  return traces.get(key)!;
}

const BOOTS = [
  ['--machine', 'kvm-guest', '--cpus', '8', '--kernel', 'v6.4'],
  ['--machine', 'kvm-guest', '--cpus', '16', '--kernel', 'v6.1-stable'],
  ['--machine', 'kvm-guest', '--cpus', '8', '--kernel', 'newest-dups'],
];

const KINDS = new Map<string, TraceEvent['ph']>([
  ['finit_module', 'X'],
  ['init_module', 'X'],
  ['request_module', 'X'],
  ['do_init_module', 'X'],
  ['wait', 'X'],
  ['module state', 'i'],
  ['same-name check', 'i'],
  ['dups', 'i'],
  ['idempotent', 'i'],
  ['umh', 'i'],
  ['printk', 'i'],
  ['signal', 'i'],
  ['alloc failed', 'i'],
  ['module area used (bytes)', 'C'],
  ['vmalloc used (bytes)', 'C'],
  ['percpu used (bytes)', 'C'],
]);

for (const boot of BOOTS) {
  test(`trace event format: ${boot.join(' ')}`, { timeout: 120_000 }, async () => {
    const t = JSON.parse(await trace(boot)) as ChromeTrace;
    assert.equal(t.displayTimeUnit, 'ns');
    const ev = t.traceEvents;
    const body = ev.filter((e) => e.ph !== 'M');
    assert.ok(body.length > 500, `${body.length} events`);
    for (const e of ev) {
      assert.equal(typeof e.name, 'string');
      assert.ok(Number.isFinite(e.ts) && e.ts >= 0, JSON.stringify(e));
      assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e));
      if (e.ph === 'M') assert.ok(['process_name', 'thread_name'].includes(e.name) && typeof e.args?.name === 'string');
      else assert.equal(KINDS.get(e.name), e.ph, `one name per kind: ${e.ph} ${e.name}`);
      if (e.ph === 'X') assert.ok(typeof e.dur === 'number' && e.dur >= 0, JSON.stringify(e));
      if (e.ph === 'i') assert.equal(e.s, 't');
      if (e.ph === 'C') assert.ok(Object.values(e.args ?? {}).every((v) => typeof v === 'number'));
      if (e.name === 'module state') assert.notEqual(e.args!.from, e.args!.to, 'a state event that changes nothing');
    }
    // time order
    for (let i = 1; i < body.length; i++) assert.ok(body[i - 1]!.ts <= body[i]!.ts, `event ${i} out of order`);
    // slices nest per track, a contained one ending inside its container (in ns: the file's
    // resolution, so float rounding cannot reorder them)
    const ns = (x: number): number => Math.round(x * 1000);
    const byTid = new Map<number, TraceEvent[]>();
    for (const e of body) if (e.ph === 'X') byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e]);
    for (const [tid, xs] of byTid) {
      const stack: { end: number; e: TraceEvent }[] = [];
      for (const e of xs) {
        const start = ns(e.ts);
        const end = start + ns(e.dur!);
        while (stack.length && stack.at(-1)!.end <= start) stack.pop();
        const top = stack.at(-1);
        if (top) assert.ok(end < top.end || (end === top.end && end === start), `tid ${tid}: ${JSON.stringify(e)} overlaps or ends with ${JSON.stringify(top.e)}`);
        stack.push({ end, e });
      }
    }
    // the values are in args
    const finit = body.find((e) => e.name === 'finit_module')!;
    assert.equal(typeof finit.args!.module, 'string');
    assert.equal(typeof finit.args!.ret, 'number');
    assert.ok(body.some((e) => e.name === 'wait' && typeof e.args!.on === 'string'), 'what a wait is on');
  });
}

test('trace --out - is the same JSON as --out FILE, byte for byte', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-trace-'));
  try {
    const file = path.join(dir, 'boot.json');
    const r = await runCli(['trace', ...BOOTS[0]!, '--out', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(`${readFileSync(file, 'utf8')}\n`, await trace(BOOTS[0]!));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('speedscope (headless Chromium) imports every trace with no warning', { skip: noBrowser, timeout: 240_000 }, async () => {
  const app = path.join(path.dirname(createRequire(import.meta.url).resolve('speedscope/package.json')), 'dist', 'release', 'index.html');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-speedscope-'));
  const context = await launchChromium(dir);
  try {
    for (const [i, boot] of BOOTS.entries()) {
      // what speedscope's own CLI does: a script that hands the file to the app, opened by the
      // #localProfilePath fragment
      const name = `boot${i}.json`;
      const loader = path.join(dir, `load${i}.js`);
      writeFileSync(loader, `speedscope.loadFileFromBase64(${JSON.stringify(name)}, ${JSON.stringify(Buffer.from(await trace(boot)).toString('base64'))})`);
      const page = await context.newPage();
      const messages: string[] = [];
      const problems: string[] = [];
      page.on('console', (m) => {
        messages.push(m.text());
        // SwiftShader's notes about its emulated GPU are not about the file
        if ((m.type() === 'warning' || m.type() === 'error') && !/GL Driver Message/.test(m.text())) problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`${pathToFileURL(app).href}#localProfilePath=${loader}`, { waitUntil: 'load' });
      await page.waitForFunction(`document.title === ${JSON.stringify(`${name} - speedscope`)}`, undefined, { timeout: 60_000 });
      // the import ran (speedscope logs its timing when it is done), as a trace-event file
      for (let k = 0; k < 100 && !messages.some((m) => m.startsWith('import:')); k++) await page.waitForTimeout(100);
      assert.ok(messages.includes('Importing as Trace Event Format profile'), messages.join('\n'));
      assert.ok(messages.some((m) => m.startsWith('import:')), 'the import finished');
      // one profile per track: the machine's name on the first
      assert.match(await page.locator('body').innerText(), /kvm-guest, \d+ CPUs, .*\(pid 1\)/);
      assert.deepEqual(problems, [], `${boot.join(' ')}: no warnings`);
      assert.ok(requests.every((u) => u.startsWith('file:')), 'nothing fetched from the network');
      await page.close();
    }
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
