/**
 * Same-name policy plug-ins loaded by path (.js, and .ts compiled on the fly), and their one-line
 * errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError } from '../../src/errors.js';
import { loadPolicyPlugin, loadSameNamePolicy } from '../../src/io/policy.js';
import { EBUSY, EEXIST, policyOfModule } from '../../src/kernel/index.js';
import { makeModuleFile } from '../kernel/testing/fixtures.js';
import { finitAt, MS, tally, world } from '../kernel/helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const fixture = (f: string) => path.join(root, 'test/fixtures/kernel', f);

for (const ext of ['js', 'ts'] as const) {
  test(`same-name policy plug-in loaded by path (.${ext}) replaces the duplicate handling`, async () => {
    const file = ext === 'js' ? path.join(root, 'dist/test/fixtures/kernel/policy-fail-fast.js') : fixture('policy-fail-fast.ts');
    const policy = await loadSameNamePolicy(file);
    assert.equal(policy.name, 'fail-fast');
    const f = makeModuleFile({ name: 'kvm', size: 100_000, behaviour: { initSleepNs: 100 * MS } });
    const w = world('v6.2', [f], { policy });
    const ps = [0, 1, 2, 3].map((i) => finitAt(w, f, i * MS));
    w.sim.run(50 * MS);
    // rejected before allocation: nothing but the winner's module memory
    assert.equal(w.k.memory.vmalloc.used, 0);
    w.sim.run();
    assert.deepEqual(tally(ps.map((p) => p.result)), { '0': 1, [-EBUSY]: 3 });
    assert.equal(w.k.stats.duplicates()[0]?.reason, 'Becoming');
    const late = finitAt(w, f);
    w.sim.run();
    assert.equal(late.result, -EEXIST);
  });
}

test('policy plug-in errors are one line', async () => {
  await assert.rejects(loadSameNamePolicy(fixture('nope.js')), /policy .*nope\.js: no such file/);
  await assert.rejects(loadSameNamePolicy(fixture('good-preset.json')), (e: unknown) => e instanceof InputError && /policy .*: (cannot load|default export)/.test(e.message));
});

test('the plug-in module a worker thread imports: the .js itself, or the .mjs a .ts plug-in was compiled to', async () => {
  const js = path.join(root, 'dist/test/fixtures/kernel/policy-fail-fast.js');
  assert.equal((await loadPolicyPlugin(js)).module, js);
  const ts = await loadPolicyPlugin(fixture('policy-fail-fast.ts'));
  assert.match(ts.module, /kmodlab-policy-[^/]*\/policy-fail-fast\.mjs$/);
  const again = policyOfModule((await import(pathToFileURL(ts.module).href)) as Record<string, unknown>, ts.module);
  assert.equal(again, ts.policy);
});

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) {
  test(`a .ts plug-in's compiled module goes on ${sig} too, and the process still ends by the signal`, async () => {
    const loader = path.join(root, 'dist/src/io/policy.js');
    const code = `
      const { loadPolicyPlugin } = await import(${JSON.stringify(loader)});
      const p = await loadPolicyPlugin(${JSON.stringify(fixture('policy-fail-fast.ts'))});
      process.stdout.write(p.module + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const module = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    assert.match(module, /kmodlab-policy-[^/]*\/policy-fail-fast\.mjs$/);
    assert.ok(existsSync(module));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (c, s) => resolve({ code: c, signal: s })));
    child.kill(sig);
    assert.deepEqual(await exit, { code: null, signal: sig }, 'ended by the signal, as without the clean-up');
    assert.equal(existsSync(path.dirname(module)), false, 'the compiled module\'s directory is gone');
  });
}
