/**
 * DOC: SysfsTarget — real files and real errnos, the modprobe path restored on close and on
 * SIGTERM/SIGINT, and the clean skip (exit 4) on a host without test_kmod (this machine).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SysfsTarget } from '../../src/targets/sysfs.js';
import { KnobError } from '../../src/selftest/target.js';
import { runSelftestCli } from '../../src/cli/commands/selftest.js';

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'kmodlab-sysfs-'));
  const knobs = join(dir, 'test_kmod0');
  execFileSync('mkdir', ['-p', knobs]);
  writeFileSync(join(knobs, 'config'), 'Custom trigger configuration for: test_kmod0\n');
  writeFileSync(join(knobs, 'reset'), '');
  const sysctl = join(dir, 'modprobe');
  writeFileSync(sysctl, '/sbin/modprobe\n');
  return { dir, knobs, sysctl };
}

test('knob reads and writes go to the files; errors come back as -errno', async () => {
  const s = scratch();
  const t = new SysfsTarget({ dir: s.knobs, modprobeSysctl: s.sysctl, signalHooks: false });
  assert.equal((await t.preconditions()).testKmodPresent, true);
  assert.equal(await t.readKnob('config'), 'Custom trigger configuration for: test_kmod0\n');
  assert.equal(await t.writeKnob('reset', '1'), 1);
  assert.equal(readFileSync(join(s.knobs, 'reset'), 'utf8'), '1');
  assert.equal(await t.writeKnob('nope', '1'), -2);
  await assert.rejects(t.readKnob('nope'), (e: unknown) => e instanceof KnobError && e.errno === -2);
  assert.equal(await t.writeKnob('reset', '\0'), 1);
  await t.close();
});

test('the original modprobe path is put back by close()', async () => {
  const s = scratch();
  const t = new SysfsTarget({ dir: s.knobs, modprobeSysctl: s.sysctl, signalHooks: false });
  await t.writeModprobePath('/KMOD_TEST_NONEXISTENT');
  assert.equal(readFileSync(s.sysctl, 'utf8'), '/KMOD_TEST_NONEXISTENT\n');
  assert.equal(await t.readModprobePath(), '/KMOD_TEST_NONEXISTENT');
  await t.writeModprobePath('');
  await t.close();
  assert.equal(readFileSync(s.sysctl, 'utf8'), '/sbin/modprobe\n');
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`${sig} in the middle of a run restores the modprobe path, then the process ends`, async () => {
    const s = scratch();
    const mod = fileURLToPath(new URL('../../src/targets/sysfs.js', import.meta.url));
    const code = `
      const { SysfsTarget } = await import(${JSON.stringify(mod)});
      const t = new SysfsTarget({ dir: ${JSON.stringify(s.knobs)}, modprobeSysctl: ${JSON.stringify(s.sysctl)} });
      await t.writeModprobePath('');
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    assert.equal(readFileSync(s.sysctl, 'utf8'), '\n');
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    child.kill(sig);
    assert.equal(await exit, sig === 'SIGTERM' ? 143 : 130);
    assert.equal(readFileSync(s.sysctl, 'utf8'), '/sbin/modprobe\n');
  });
}

const hostHasTestKmod = (() => {
  if (existsSync('/sys/devices/virtual/misc/test_kmod0')) return true;
  try {
    execFileSync('modinfo', ['test_kmod'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('this host has no test_kmod: kmod.sh skips cleanly with exit 4, nothing changed', { skip: hostHasTestKmod ? 'the host has test_kmod' : false }, async () => {
  const before = existsSync('/proc/sys/kernel/modprobe') ? readFileSync('/proc/sys/kernel/modprobe', 'utf8') : null;
  let out = '';
  let err = '';
  const code = await runSelftestCli(['-t', '0001'], { target: 'sysfs' }, { stdout: (x) => (out += x), stderr: (x) => (err += x), env: {} });
  assert.equal(code, 4);
  assert.equal(out, '');
  assert.match(err, /kmod\.sh: (\/sys\/devices\/virtual\/misc\/test_kmod0\/ not present|You need|must be run as root)/);
  if (before !== null) assert.equal(readFileSync('/proc/sys/kernel/modprobe', 'utf8'), before);
});
