/**
 * `kmodlab explore` as a user runs it: --out keeps the exploration and the same command resumes
 * it to byte-identical output (random and the exhaustive walk, after a shorter run and after
 * Ctrl-C); a changed scenario under the same name is refused; the replay command printed for a
 * shrunk outcome reproduces it; a scenario can be a TypeScript module; JSON keeps its fields; a
 * long exploration prints progress.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bin, runCli } from '../../cli/run-cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kmodlab-explore-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('--out: a shorter run, then the same command, gives what one uninterrupted run gives', async () => {
  for (const args of [
    ['same-name-slow-init', '--runs', '300'],
    ['rmmod-during-load', '--strategy', 'exhaustive', '--runs', '5000'],
  ]) {
    const dir = path.join(tmp, `out-${args[0]}`);
    const whole = await runCli(['explore', ...args]);
    assert.equal(whole.status, 0, whole.stderr);
    const part = await runCli(['explore', ...args.slice(0, -1), '7', '--out', dir]);
    assert.equal(part.status, 0, part.stderr);
    assert.match(part.stdout, / 7 schedules /);
    const resumed = await runCli(['explore', ...args, '--out', dir]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal(resumed.stdout, whole.stdout);
    // one file per preset, whole JSON (no temp file left)
    const files = readdirSync(dir);
    assert.equal(files.length, 2, files.join(' '));
    for (const f of files) assert.equal(JSON.parse(readFileSync(path.join(dir, f), 'utf8')).format, 'kmodlab-explore');
  }
});

test('--out: Ctrl-C keeps what ran (exit 130, the outcomes so far), the same command finishes it', async () => {
  const dir = path.join(tmp, 'out-int');
  const args = ['explore', 'kmod-limit-timeout', '--kernel', 'v6.4', '--runs', '300', '--no-shrink'];
  const child = spawn(process.execPath, [bin, ...args, '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  // interrupt once the first batch is on disk
  const file = await new Promise<string>((resolve) => {
    const t = setInterval(() => {
      let fs: string[] = [];
      try {
        fs = readdirSync(dir).filter((f) => f.endsWith('.json'));
      } catch {
        // not made yet
      }
      if (fs.length > 0) {
        clearInterval(t);
        resolve(path.join(dir, fs[0]!));
      }
    }, 50);
  });
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  assert.equal(code, 130, err);
  assert.match(err, /interrupted; the outcomes above are those found so far \(kept in .*; the same command resumes\)/);
  const kept = JSON.parse(readFileSync(file, 'utf8')).exploration.runs as number;
  assert.ok(kept > 0 && kept < 300, String(kept));
  assert.match(out, /^kmod-limit-timeout on v6\.4: \d+ schedules/);
  const resumed = await runCli([...args, '--out', dir]);
  const whole = await runCli(args);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(resumed.stdout, whole.stdout);
});

test('--out: a different scenario under the same name is refused with one line, exit 2', async () => {
  const dir = path.join(tmp, 'out-foreign');
  const sc = (initMs: number) => JSON.stringify({ name: 'mine', modules: [{ name: 'm', initMs }], processes: [{ name: 'p', count: 2, actions: [{ op: 'finit_module', module: 'm' }] }] });
  writeFileSync(path.join(tmp, 'mine.json'), sc(1));
  assert.equal((await runCli(['explore', path.join(tmp, 'mine.json'), '--runs', '5', '--out', dir])).status, 0);
  writeFileSync(path.join(tmp, 'mine.json'), sc(2));
  const r = await runCli(['explore', path.join(tmp, 'mine.json'), '--runs', '5', '--out', dir]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^kmodlab: --out .*out-foreign: explore_mine_newest_random_s1\.json was explored with a different scenario mine; use another directory\n$/);
});

test('the replay command printed for a shrunk outcome reproduces its outcome and steps', async () => {
  const r = await runCli(['explore', 'self-load', '--kernel', 'v6.11', '--runs', '40']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const i = lines.findIndex((l) => l.includes('-EINTR'));
  const m = /shrunk: .*: kmodlab explore (.*)$/.exec(lines[i + 1]!)!;
  assert.ok(m, lines[i + 1]);
  const steps = lines.slice(i + 2).filter((l) => l.startsWith('        ')).map((l) => l.trim());
  const again = await runCli(['explore', ...m[1]!.split(' ')]);
  assert.equal(again.status, 0, again.stderr);
  const [head, ...rest] = again.stdout.trimEnd().split('\n');
  assert.match(head!, /^self-load on v6\.11, seed \d+, path [\d:]+: modprobe: 0 · killer: sent SIGKILL · aes_neonbs\.init finit_module aes_neonbs=-EINTR · aes_neonbs live, 1 init · waste: none$/);
  assert.deepEqual(rest.map((l) => l.trim()), steps.slice(0, rest.length));
});

test('a scenario as a TypeScript module: computed processes, validated like JSON', async () => {
  const ts = path.join(tmp, 'three.ts');
  writeFileSync(ts, [
    "const n: number = 3;",
    "export default {",
    "  name: 'three', kernels: ['v6.4', 'v6.5'],",
    "  modules: [{ name: 'kml_slow', initMs: [800, 1200] as [number, number] }],",
    "  processes: Array.from({ length: n }, (_, i) => ({ name: `insmod${i}`, kind: 'insmod', startMs: [0, 20], actions: [{ op: 'finit_module', module: 'kml_slow' }] })),",
    "};",
  ].join('\n'));
  const r = await runCli(['explore', ts, '--runs', '30', '--format', 'json', '--no-shrink']);
  assert.equal(r.status, 0, r.stderr);
  const es = JSON.parse(r.stdout) as { kernel: string; runs: number; outcomes: { key: string; count: number; firstSeed: number }[] }[];
  assert.deepEqual(es.map((e) => [e.kernel, e.runs]), [['v6.4', 30], ['v6.5', 30]]);
  assert.deepEqual(es[1]!.outcomes.map((o) => o.key), ['insmod0: 0 · insmod1: 0 · insmod2: 0 · kml_slow live, 1 init · waste: none']);
  assert.ok(es[0]!.outcomes.every((o) => (o.key.match(/-EEXIST/g) ?? []).length === 2));
  const bad = path.join(tmp, 'bad.ts');
  writeFileSync(bad, "export default { name: 'b', modules: [], processes: [{ name: 'p', actions: [{ op: 'finit_module', module: 'zz' }] }] };\n");
  const b = await runCli(['explore', bad]);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /^kmodlab: scenario .*bad\.ts: processes\.0\.actions\.0\.module: unknown module zz\n$/);
});

test('progress on a long exploration: a line on stderr every 2 s with the schedules run and the outcomes so far', async () => {
  // a 3 s budget on the 62-process scenario: longer than one progress interval, far from its 100,000 runs
  const r = await runCli(['explore', 'kmod-limit-timeout', '--kernel', 'v6.4', '--runs', '100000', '--budget', '3s', '--no-shrink']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^kmodlab explore: v6\.4: \d+\/100000 schedules, \d+ outcomes$/m);
  const n = Number(/^kmod-limit-timeout on v6\.4: (\d+) schedules/m.exec(r.stdout)?.[1]);
  assert.ok(n > 0 && n < 100000, r.stdout);
});

test('--format json: each outcome has the count, share and 95% interval the text prints, and its first seed', async () => {
  const args = ['explore', 'initstate-late-arrival', '--kernel', 'v6.5', '--runs', '120', '--no-shrink'];
  const text = await runCli(args);
  const json = await runCli([...args, '--format', 'json']);
  assert.equal(json.status, 0, json.stderr);
  const [e] = JSON.parse(json.stdout) as { runs: number; outcomes: { key: string; count: number; share: number; interval: [number, number]; firstSeed: number }[] }[];
  assert.ok(e!.outcomes.length >= 2, json.stdout);
  const p = (x: number) => `${(100 * x).toFixed(1)}%`;
  for (const o of e!.outcomes) {
    assert.equal(o.share, o.count / e!.runs);
    assert.ok(o.interval[0] < o.share && o.share < o.interval[1], JSON.stringify(o));
    const row = `${String(o.count).padStart(6)}  ${p(o.share).padStart(6)}  [${p(o.interval[0])}, ${p(o.interval[1])}]  seed ${o.firstSeed}\n      ${o.key}\n`;
    assert.ok(text.stdout.includes(row), `${row} not in\n${text.stdout}`);
  }
});

test('--replay SEED --trace --dmesg: the outcome explore reported for that seed, the same bytes every time; one preset at a time', async () => {
  const ex = await runCli(['explore', 'initstate-late-arrival', '--kernel', 'v6.5', '--runs', '60', '--format', 'json', '--no-shrink']);
  const late = (JSON.parse(ex.stdout) as { outcomes: { key: string; firstSeed: number }[] }[])[0]!.outcomes.find((o) => o.key.includes('becoming'))!;
  assert.ok(late, ex.stdout);
  const outs = [];
  for (const i of [1, 2]) {
    const trace = path.join(tmp, `replay${i}.json`);
    const dmesg = path.join(tmp, `replay${i}.txt`);
    const r = await runCli(['explore', 'initstate-late-arrival', '--kernel', 'v6.5', '--replay', String(late.firstSeed), '--trace', trace, '--dmesg', dmesg]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], `initstate-late-arrival on v6.5, seed ${late.firstSeed}: ${late.key}`);
    outs.push([r.stdout, readFileSync(trace, 'utf8'), readFileSync(dmesg, 'utf8')]);
  }
  assert.deepEqual(outs[1], outs[0]);
  const [, trace, dmesg] = outs[0]!;
  // the trace has both workers' modprobe runs; dmesg is the kernel's log of the schedule
  const names = (JSON.parse(trace!) as { traceEvents: { name: string; args?: { name?: string } }[] }).traceEvents.filter((ev) => ev.name === 'thread_name').map((ev) => ev.args?.name ?? '');
  assert.ok(names.some((n) => n.startsWith('udev-a')) && names.some((n) => n.startsWith('udev-b')), names.join(', '));
  assert.match(dmesg!, /kvm_intel: /);
  // the scenario's two presets would write one file twice
  const two = path.join(tmp, 'two.json');
  const r = await runCli(['explore', 'initstate-late-arrival', '--replay', '1', '--trace', two]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'kmodlab: --trace: one preset at a time; give --kernel P (scenario initstate-late-arrival runs on v6.4, v6.5)\n');
  assert.throws(() => readFileSync(two));
});

test('bad scenarios on the command line: one line naming the field, exit 2, nothing on stdout', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['never.json', { name: 'never', modules: [], processes: [{ name: 'p', actions: [{ op: 'sleep', ms: 1e8 }] }] }, /^kmodlab: scenario never: deadlineMs: the scenario does not quiesce within 24 h of virtual time; give it a deadline\n$/],
    ['unknown.json', { name: 'u', modules: [{ name: 'm' }], processes: [{ name: 'p', actions: [{ op: 'delete_module', module: 'zz' }] }] }, /^kmodlab: scenario .*unknown\.json: processes\.0\.actions\.0\.module: unknown module zz\n$/],
    ['schema.json', { name: 'sc', modules: [{ name: 'm', initMs: -1 }], processes: [{ name: 'p', actions: [{ op: 'finit_module', module: 'm' }] }] }, /^kmodlab: scenario .*schema\.json: modules\.0\.initMs: .*\n$/],
  ];
  for (const [file, data, line] of cases) {
    writeFileSync(path.join(tmp, file), JSON.stringify(data));
    const r = await runCli(['explore', path.join(tmp, file), '--runs', '3']);
    assert.equal(r.status, 2, `${file}: ${r.stderr}`);
    assert.equal(r.stdout, '', file);
    assert.match(r.stderr, line);
  }
});

test('--budget alone is the only limit: not stopped at --runs\' default 1000, progress without a total', async () => {
  const tiny = path.join(tmp, 'tiny.json');
  writeFileSync(tiny, JSON.stringify({ name: 'tiny', modules: [{ name: 'm' }], processes: [{ name: 'p', actions: [{ op: 'initstate', module: 'm' }] }] }));
  const r = await runCli(['explore', tiny, '--budget', '3s', '--no-shrink']);
  assert.equal(r.status, 0, r.stderr);
  const n = Number(/^tiny on newest: (\d+) schedules/.exec(r.stdout)?.[1]);
  assert.ok(n > 1000, r.stdout);
  assert.match(r.stderr, /^kmodlab explore: newest: \d+ schedules, 1 outcomes$/m);
  // with --runs the runs are the limit again
  const capped = await runCli(['explore', tiny, '--budget', '30s', '--runs', '50', '--no-shrink']);
  assert.match(capped.stdout, /^tiny on newest: 50 schedules/);
});

test('a pct exploration says how its seeds replay, and each first seed so replays to its outcome', async () => {
  const r = await runCli(['explore', 'self-load', '--kernel', 'v6.11', '--strategy', 'pct', '--depth', '2', '--seed', '7', '--runs', '30', '--no-shrink']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^self-load on v6\.11: 30 schedules \(pct depth 2, seeds 7\.\.36; a seed replays with --strategy pct --depth 2 --replay SEED\), 2 distinct outcomes$/m);
  const rows = [...r.stdout.matchAll(/ seed (\d+)\n {6}(.*)\n/g)].map((m) => [m[1]!, m[2]!] as const);
  assert.equal(rows.length, 2);
  for (const [seed, key] of rows) {
    const again = await runCli(['explore', 'self-load', '--kernel', 'v6.11', '--strategy', 'pct', '--depth', '2', '--replay', seed]);
    assert.equal(again.stdout.split('\n')[0], `self-load on v6.11, seed ${seed}, pct depth 2: ${key}`);
  }
});
