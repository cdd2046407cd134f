/**
 * DOC: SysfsTarget — real files and real errnos, the modprobe path restored on close and on
 * SIGTERM/SIGINT, and the clean skip (exit 4) on a host without test_kmod (this machine).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SysfsTarget } from '../../src/targets/sysfs.js';
import { KnobError } from '../../src/selftest/target.js';
import { runSelftestCli } from '../../src/cli/commands/selftest.js';

const scratchDirs: string[] = [];
after(() => {
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
});

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'kmodlab-sysfs-'));
  scratchDirs.push(dir);
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

/** a child process holding a SysfsTarget on the scratch files, after its first modprobe-path write */
function holder(s: { knobs: string; sysctl: string }) {
  const mod = fileURLToPath(new URL('../../src/targets/sysfs.js', import.meta.url));
  const code = `
    const { SysfsTarget } = await import(${JSON.stringify(mod)});
    const t = new SysfsTarget({ dir: ${JSON.stringify(s.knobs)}, modprobeSysctl: ${JSON.stringify(s.sysctl)} });
    await t.writeModprobePath('/KMOD_TEST_NONEXISTENT');
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, ready, exit };
}

for (const [sig, code] of [
  ['SIGHUP', 129],
  ['SIGQUIT', 131],
  ['SIGUSR2', 140],
] as const) {
  test(`${sig} (a dropped ssh session, Ctrl-\\, …) restores the modprobe path too, then the process ends with ${code}`, async () => {
    const s = scratch();
    const h = holder(s);
    await h.ready;
    assert.equal(readFileSync(s.sysctl, 'utf8'), '/KMOD_TEST_NONEXISTENT\n');
    h.child.kill(sig);
    assert.deepEqual(await h.exit, { code, signal: null });
    assert.equal(readFileSync(s.sysctl, 'utf8'), '/sbin/modprobe\n');
    assert.equal(existsSync(`${s.sysctl}.kmodlab-state.json`), false, 'the state file goes once restored');
  });
}

test('the original is in a state file before the first write, and the file goes when it is restored', async () => {
  const s = scratch();
  const state = join(s.dir, 'state.json');
  const t = new SysfsTarget({ dir: s.knobs, modprobeSysctl: s.sysctl, stateFile: state, signalHooks: false });
  assert.equal(existsSync(state), false);
  await t.writeModprobePath('');
  const st = JSON.parse(readFileSync(state, 'utf8'));
  assert.equal(st.original, '/sbin/modprobe');
  assert.equal(st.sysctl, s.sysctl);
  assert.equal(st.pid, process.pid);
  await t.writeModprobePath('/x');
  assert.equal(JSON.parse(readFileSync(state, 'utf8')).original, '/sbin/modprobe', 'the first original, not a value of ours');
  await t.close();
  assert.equal(readFileSync(s.sysctl, 'utf8'), '/sbin/modprobe\n');
  assert.equal(existsSync(state), false);
});

test('after a kill -9 the next run puts the original back first and says so; the broken value is never its "original"', async () => {
  const s = scratch();
  const h = holder(s);
  await h.ready;
  h.child.kill('SIGKILL');
  await h.exit;
  assert.equal(readFileSync(s.sysctl, 'utf8'), '/KMOD_TEST_NONEXISTENT\n', 'SIGKILL cannot be caught');
  const said: string[] = [];
  const t = new SysfsTarget({ dir: s.knobs, modprobeSysctl: s.sysctl, signalHooks: false, onRestore: (l) => said.push(l) });
  assert.equal(await t.readModprobePath(), '/sbin/modprobe', 'kmod.sh reads the path it will restore at its end: the real one');
  assert.equal(said.length, 1);
  assert.match(said[0]!, new RegExp(`^restored ${s.sysctl} to '/sbin/modprobe' \\(an earlier run, pid ${h.child.pid} at [0-9T:.Z-]+, left it as '/KMOD_TEST_NONEXISTENT'\\)$`));
  await t.writeModprobePath('');
  await t.close();
  assert.equal(readFileSync(s.sysctl, 'utf8'), '/sbin/modprobe\n');
});

test('a state file of a run still going is not taken over', async () => {
  const s = scratch();
  const h = holder(s);
  await h.ready;
  try {
    const t = new SysfsTarget({ dir: s.knobs, modprobeSysctl: s.sysctl, signalHooks: false });
    await assert.rejects(t.writeModprobePath(''), new RegExp(`changed by a kmodlab run still going \\(pid ${h.child.pid}`));
    assert.equal(readFileSync(s.sysctl, 'utf8'), '/KMOD_TEST_NONEXISTENT\n');
  } finally {
    h.child.kill('SIGTERM');
    await h.exit;
  }
  assert.equal(readFileSync(s.sysctl, 'utf8'), '/sbin/modprobe\n');
});

test('kmodlab selftest --target sysfs --restore puts back what a killed run left, and says so; then there is nothing to restore', async () => {
  const s = scratch();
  const h = holder(s);
  await h.ready;
  h.child.kill('SIGKILL');
  await h.exit;
  const env = { KMODLAB_SYSFS_MODPROBE: s.sysctl };
  let err = '';
  const io = { stdout: (x: string) => assert.fail(`stdout: ${x}`), stderr: (x: string) => (err += x), env };
  assert.equal(await runSelftestCli([], { target: 'sysfs', restore: true }, io), 0);
  assert.match(err, new RegExp(`^kmodlab: restored ${s.sysctl} to '/sbin/modprobe' \\(an earlier run, pid ${h.child.pid} at .*, left it as '/KMOD_TEST_NONEXISTENT'\\)\\n$`));
  assert.equal(readFileSync(s.sysctl, 'utf8'), '/sbin/modprobe\n');
  err = '';
  assert.equal(await runSelftestCli([], { target: 'sysfs', restore: true }, io), 0);
  assert.equal(err, `kmodlab: nothing to restore: no run left ${s.sysctl} changed (no ${s.sysctl}.kmodlab-state.json)\n`);
  await assert.rejects(runSelftestCli([], { target: 'sim', restore: true }, io), /^InputError: --restore: only for --target sysfs \(got --target sim\)$/);
});
