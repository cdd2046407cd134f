/**
 * The bad-input table (issue 12, "must show"): every command and option of `kmodlab --help` fed
 * bad numbers, ranges, unknown names, missing / FIFO / directory files, malformed presets,
 * machines, scenarios and policies, and output paths that cannot be written. Each row is the
 * argv, the exit code and a pattern for the one line on stderr; every row also checks that there
 * is exactly one line (no stack trace), nothing on stdout, and — at the end — that no partial
 * output file was left in the working directory. The CLI runs as a child (main.ts runs on
 * import, and a FIFO case must be able to hang without hanging the test runner: each child has a
 * deadline).
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bin } from './run-cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kmodlab-badin-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** the fixtures every row may name, relative to the child's cwd (tmp) */
function makeFixtures(): void {
  mkdirSync(path.join(tmp, 'adir'));
  mkdirSync(path.join(tmp, 'dir.json'));
  execFileSync('mkfifo', [path.join(tmp, 'fifo'), path.join(tmp, 'fifo.json'), path.join(tmp, 'fifo.ts')]);
  const files: Record<string, string> = {
    'bad.json': '{ nope',
    'empty.json': '',
    'arr.json': '[]',
    'badmachine.json': '{"name":"x","cpus":"many"}',
    'badscen.json': '{"name":"s"}',
    'badflag.json': '{"name":"p","basedOn":"v6.4","flags":{"noSuchFlag":true}}',
    'badbase.json': '{"name":"p","basedOn":"v1.0"}',
    // a syntax error on line 3 (the parser notices it there or on line 4)
    'syn.ts': 'const policy = {\n  name: "x",\n  check( {\n};\nexport default policy;\n',
    'syn.js': 'export default {\n  name: "x",\n  check() { return 0 }\n  bad bad\n};\n',
    'noexp.js': 'export default 42;\n',
    'throws.js': 'throw new Error("boom at load");\n',
    'afile': 'x',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(tmp, name), text);
}

/** a recursive listing, to see that no row left a file behind */
function listing(dir = tmp, prefix = ''): string[] {
  return readdirSync(dir).flatMap((n) => {
    const rel = prefix + n;
    const st = statSync(path.join(dir, n), { throwIfNoEntry: false });
    return st?.isDirectory() === true ? [rel + '/', ...listing(path.join(dir, n), rel + '/')] : [rel];
  }).sort();
}

interface Row {
  argv: string[];
  code: number;
  line: RegExp;
}
const rows: Row[] = [];
const row = (argv: string[], line: RegExp, code = 2): void => void rows.push({ argv, code, line });

const KNOWN_PRESETS = /unknown (kernel )?preset .*\(known: v4\.9, /;
const NOT_REGULAR = /not a regular file \(a FIFO, socket or device would hang the read\)$/;

// --- the top level and commander's own usage errors
row(['bogus'], /^kmodlab: unknown command 'bogus'$/);
row(['--bogus'], /^kmodlab: unknown option '--bogus'$/);
for (const cmd of ['storm', 'stats', 'kernels', 'explore']) row([cmd, '--bogus'], /^kmodlab: unknown option '--bogus'$/);
row(['trace', '--out', 'never.json', '--bogus'], /^kmodlab: unknown option '--bogus'$/);
row(['storm', 'merge', '--bogus', 'res'], /^kmodlab: unknown option '--bogus'$/);
row(['storm', 'merge'], /^kmodlab: missing required argument 'dirs'$/);
row(['stats', 'extra'], /^kmodlab: too many arguments for 'stats'/);
row(['machines', 'bogus'], /^kmodlab: too many arguments for 'machines'/);
row(['machines', 'list', 'extra'], /^kmodlab: too many arguments for 'list'/);
row(['machines', 'show'], /^kmodlab: missing required argument 'name'$/);
row(['machines', 'capture', '--bogus'], /^kmodlab: unknown option '--bogus'$/);
row(['kernels', 'show', 'v6.4', 'extra'], /^kmodlab: too many arguments for 'show'/);
row(['kernel', 'bogus'], /^kmodlab: unknown command 'bogus'$/);
row(['kernel', 'prepare'], /^kmodlab: missing required argument 'names'$/);
row(['kernel', 'boot'], /^kmodlab: missing required argument 'name'$/);
row(['kernel', 'list', '--bogus'], /^kmodlab: unknown option '--bogus'$/);
row(['kernel', 'storm', 'debian-6.1'], /^kmodlab: required option '--parallel <list>' not specified$/);
row(['trace'], /^kmodlab: required option '--out <file.json>' not specified$/);
row(['explore'], /^kmodlab: missing required argument 'scenario'$/);

// --- the inputs storm and stats share (trace reads them like stats: a few rows below): one row
// per bad value, on each command
const simCommands: [string, string[]][] = [
  ['storm', ['--inline', '--no-progress']],
  ['stats', []],
];
for (const [cmd, extra] of simCommands) {
  const r = (args: string[], line: RegExp): void => row([cmd, ...extra, ...args], line);
  r(['--kernel', 'v9.9'], KNOWN_PRESETS);
  r(['--kernel', 'bad.json'], /^kmodlab: preset file bad\.json: invalid JSON \(/);
  r(['--kernel', 'empty.json'], /^kmodlab: preset file empty\.json: invalid JSON \(Unexpected end of JSON input\)$/);
  r(['--kernel', 'arr.json'], /^kmodlab: preset file arr\.json: \(top level\): .*expected object, received array$/);
  r(['--kernel', 'badflag.json'], /^kmodlab: preset file badflag\.json: .*noSuchFlag/);
  r(['--kernel', 'badbase.json'], /^kmodlab: preset file badbase\.json: .*v1\.0/);
  r(['--kernel', 'missing.json'], /^kmodlab: preset file missing\.json: cannot read \(ENOENT\)$/);
  r(['--kernel', 'fifo.json'], /^kmodlab: fifo\.json: not a regular file/);
  r(['--kernel', 'dir.json'], /^kmodlab: dir\.json: is a directory, not a file$/);
  r(['--machine', 'nope'], /^kmodlab: unknown machine 'nope' \(known: kvm-guest, qemu-tcg, sr950\)$/);
  r(['--machine', 'bad.json'], /^kmodlab: bad\.json: not JSON: /);
  r(['--machine', 'empty.json'], /^kmodlab: empty\.json: not JSON: Unexpected end of JSON input$/);
  r(['--machine', 'badmachine.json'], /^kmodlab: badmachine\.json: \w+: /);
  r(['--machine', 'fifo.json'], NOT_REGULAR);
  r(['--machine', 'dir.json'], /^kmodlab: dir\.json: is a directory, not a file$/);
  r(['--seed', '-1'], /^kmodlab: --seed: bad seed "-1": expected a non-negative integer$/);
  r(['--seed', 'abc'], /^kmodlab: --seed: bad seed "abc"/);
  r(['--seed', '1e40'], /^kmodlab: --seed: bad seed "1e40"/);
  r(['--seed', '1.5'], /^kmodlab: --seed: bad seed "1\.5"/);
  r(['--seed', '99999999999999999999'], /^kmodlab: --seed: bad seed "99999999999999999999"/);
  r(['--snapshot', 'nope'], /^kmodlab: unknown module snapshot 'nope' \(known: debian-6\.1, debian-6\.12, debian-6\.1-dbg, debian-6\.12-dbg\)$/);
  r(['--modules', 'afile'], /^kmodlab: afile: not a directory$/);
  r(['--modules', 'adir'], /^kmodlab: adir\b.*(modules\.dep|no such|not)/);
  r(['--kmod-version', 'abc'], /^kmodlab: --kmod-version abc: want an integer >= 1$/);
  r(['--kmod-version', '0'], /^kmodlab: --kmod-version 0: want an integer >= 1$/);
  r(['--kmod-version', '-3'], /^kmodlab: --kmod-version -3: want an integer >= 1$/);
  r(['--policy', 'syn.ts'], /^kmodlab: policy syn\.ts:[34]: syntax error: /);
  r(['--policy', 'syn.js'], /^kmodlab: policy syn\.js:4: syntax error: Unexpected identifier 'bad'$/);
  r(['--policy', 'noexp.js'], /^kmodlab: policy noexp\.js: default export must be \{ name: string, check\(ctx\) \}/);
  r(['--policy', 'throws.js'], /^kmodlab: policy throws\.js: cannot load \(boom at load\)$/);
  r(['--policy', 'missing.ts'], /^kmodlab: policy missing\.ts: no such file$/);
  r(['--policy', 'fifo.ts'], /^kmodlab: policy fifo\.ts: not a regular file/);
  r(['--policy', 'adir'], /^kmodlab: policy adir: is a directory, not a file$/);
}
// stats and trace take one CPU count and one preset
for (const cmd of ['stats', 'trace']) {
  const extra = cmd === 'trace' ? ['--out', 'never.json'] : [];
  for (const v of ['0', 'x', '1,2', '-4', '2.5']) row([cmd, ...extra, '--cpus', v], new RegExp(`^kmodlab: --cpus ${v.replace('.', '\\.')}: want an integer >= 1$`));
  row([cmd, ...extra, '--kernel', 'v6.4,v6.1'], /^kmodlab: --kernel v6\.4,v6\.1: one preset here$/);
  row([cmd, ...extra, '--cpus', '9007199254740993'], /^kmodlab: --cpus 9007199254740993: want an integer >= 1, at most 9007199254740991$/);
}

// --- storm's own options
const storm = (args: string[], line: RegExp): void => row(['storm', '--inline', '--no-progress', ...args], line);
storm(['--cpus', '0'], /^kmodlab: --cpus: bad CPU count "0": must be between 1 and 8192$/);
storm(['--cpus', '9000'], /^kmodlab: --cpus: bad CPU count "9000": must be between 1 and 8192$/);
storm(['--cpus', 'x'], /^kmodlab: --cpus: bad item "x": expected N, A-B or A-B:STEP/);
storm(['--cpus', ''], /^kmodlab: --cpus: /);
storm(['--cpus', '1,,2'], /^kmodlab: --cpus: empty item in "1,,2"$/);
storm(['--cpus', '8-1'], /^kmodlab: --cpus: bad range "8-1": start is after end$/);
storm(['--cpus', '1-64:0'], /^kmodlab: --cpus: bad range "1-64:0": step must be at least 1$/);
storm(['--cpus', '1-64:99999999999999999999'], /^kmodlab: --cpus: bad range "1-64:99999999999999999999": step must be at most 8192$/);
storm(['--cpus', '1-64:x'], /^kmodlab: --cpus: bad (item|range) "1-64:x"/);
storm(['--kernel', ''], /^kmodlab: --kernel: /);
storm(['--kernel', 'v6.4,v9'], KNOWN_PRESETS);
storm(['--seeds', '0'], /^kmodlab: --seeds: bad seed count "0": expected an integer from 1 to 10000$/);
storm(['--seeds', '10001'], /^kmodlab: --seeds: bad seed count "10001"/);
// the last seed of --seed N --seeds K must be a safe integer as well (it failed in the worker: "seed: Too big")
storm(['--seed', '9007199254740991', '--seeds', '2'], /^kmodlab: --seeds: seeds overflow from 9007199254740991$/);
row(['storm', '--no-progress', '--seed', '9007199254740990', '--seeds', '3'], /^kmodlab: --seeds: seeds overflow from 9007199254740990$/);
storm(['--seeds', 'x'], /^kmodlab: --seeds: bad seed count "x"/);
storm(['--module-area', 'abc'], /^kmodlab: --module-area abc: want bytes, or a number with K, M or G$/);
storm(['--module-area', '0'], /^kmodlab: --module-area 0: out of range$/);
storm(['--module-area', '10T'], /^kmodlab: --module-area 10T: want bytes/);
storm(['--module-area', '-1M'], /^kmodlab: --module-area -1M: want bytes/);
storm(['--shard', '3/2'], /^kmodlab: --shard: bad shard "3\/2": i must be from 1 to 2$/);
storm(['--shard', '0/2'], /^kmodlab: --shard: bad shard "0\/2"/);
storm(['--shard', 'x'], /^kmodlab: --shard: bad shard "x": expected i\/N, e\.g\. 2\/8$/);
storm(['--shard', '1/0'], /^kmodlab: --shard: bad shard "1\/0"/);
storm(['--threads', '0'], /^kmodlab: --threads 0: want an integer >= 1$/);
storm(['--threads', 'x'], /^kmodlab: --threads x: want an integer >= 1$/);
storm(['--format', 'bogus'], /^kmodlab: --format: unknown format "bogus" \(one of: text, table, md, chart, csv, json, jsonl, svg, html\)$/);
storm(['--categories', 'bogus'], /^kmodlab: --categories: unknown mode "bogus" \(one of: total, stacked, grouped\)$/);
storm(['--chart', 'bogus'], /^kmodlab: --chart: unknown chart style "bogus" \(one of: lines, dumb\)$/);
storm(['--svg', 'nodir/x.svg'], /^kmodlab: --svg nodir\/x\.svg: no such directory nodir$/);
storm(['--svg', '/proc/x.svg'], /^kmodlab: --svg \/proc\/x\.svg: cannot create files in \/proc/);
storm(['--svg', 'adir'], /^kmodlab: --svg adir: is a directory$/);
storm(['--html', 'nodir/x.html'], /^kmodlab: --html nodir\/x\.html: no such directory nodir$/);
storm(['--html', 'fifo'], /^kmodlab: --html fifo: not a regular file/);
storm(['--out', '/proc/x'], /^kmodlab: --out \/proc\/x: cannot create a directory in \/proc/);
storm(['--out', 'afile'], /^kmodlab: --out afile: not a directory$/);
storm(['--out', 'afile/sub'], /^kmodlab: --out afile\/sub: /);
// --results under /proc: Node's recursive mkdir used to spin there forever
storm(['--results', '/proc/x/y'], /^kmodlab: --results \/proc\/x\/y: no such file or directory$/);
storm(['--results', 'afile'], /^kmodlab: --results afile: /);
// --parallel, the duplicate-load storm
const par = (args: string[], line: RegExp): void => row(['storm', '--parallel', '1', ...args], line);
row(['storm', '--parallel', '0'], /^kmodlab: --parallel 0: want a comma-separated list of integers 1\.\.1024$/);
row(['storm', '--parallel', '2000'], /^kmodlab: --parallel 2000: want a comma-separated list of integers 1\.\.1024$/);
row(['storm', '--parallel', 'x'], /^kmodlab: --parallel x: want a comma-separated list/);
par(['--results', '/proc/x'], /^kmodlab: --results \/proc\/x: no such file or directory$/);
par(['--module', 'nope'], /^kmodlab: --module nope: unknown nope \(want xfs, kml_slow, kml_fail\)$/);
par(['--path', 'nope'], /^kmodlab: --path nope: unknown nope \(want finit, finit-compressed, init, modprobe\)$/);
par(['--target', 'nope'], /^kmodlab: --target nope: want sim, sim:PRESET or qemu:NAME$/);
par(['--target', 'sim:v9'], /^kmodlab: kernel v9: unknown preset$/);
par(['--target', 'qemu:nope'], /^kmodlab: kernel "nope": unknown \(known: debian-6\.1, /);
for (const o of ['--accel', '--timeout', '--mem', '--log-dir']) par([o, 'x'], new RegExp(`^kmodlab: ${o}: only with --target qemu:NAME$`));
par(['--compare'], /^kmodlab: --compare/);
par(['--chart', 'dumb'], /^kmodlab: --chart: --parallel storms draw no chart \(only the coldplug storm\)$/);
par(['--snapshot', 'nope'], /^kmodlab: unknown module snapshot 'nope' \(known: debian-6\.1, /);
par(['--snapshot', 'bad.json'], /^kmodlab: bad\.json: not JSON: /);
par(['--kmod-version', '0'], /^kmodlab: --kmod-version 0: want an integer >= 1$/);
par(['--kmod-version', 'x'], /^kmodlab: --kmod-version x: want an integer >= 1$/);
par(['--modules', 'afile'], /^kmodlab: afile: not a directory$/);
par(['--modules', 'adir', '--snapshot', 'debian-6.1'], /^kmodlab: --modules: not with --snapshot \(one module set\)$/);
for (const o of ['--snapshot', '--kmod-version'])
  par(['--target', 'qemu:debian-6.1', o, o === '--snapshot' ? 'debian-6.1' : '30'], new RegExp(`^kmodlab: ${o}: with --target qemu:NAME only for the --compare side`));

// an option the chosen storm does not read is refused, never ignored (src/cli/commands/storm-modes.ts)
storm(['--cpu-model', 'Skylake-Server'], /^kmodlab: --cpu-model: only with --target qemu:NAME \(the real coldplug boot\)$/);
storm(['--settle-timeout', '30'], /^kmodlab: --settle-timeout: only with --target qemu:NAME \(the real coldplug boot\)$/);
storm(['--state', 'live'], /^kmodlab: --state: only with --parallel \(the duplicate-load storm\) or --target qemu:NAME$/);
for (const [o, v] of [['--policy', 'syn.js'], ['--svg', 'x.svg'], ['--seeds', '3'], ['--threads', '2'], ['--out', 'o'], ['--module-area', '2M'], ['--shard', '1/2']] as const)
  par([o, v], new RegExp(`^kmodlab: ${o}: only on the coldplug storm \\(without --parallel\\)$`));
par(['--inline'], /^kmodlab: --inline: only on the coldplug storm \(without --parallel\)$/);
par(['--reuse-logs'], /^kmodlab: --reuse-logs: only with --target qemu:NAME without --parallel \(the real coldplug boot\)$/);
par(['--target', 'sim:v6.4', '--kernel', 'v6.1-stable'], /^kmodlab: --kernel: not with --target sim:v6\.4 \(the target names the preset\)$/);
par(['--target', 'qemu:debian-6.1', '--seed', '3'], /^kmodlab: --seed: not with --parallel --target qemu:debian-6\.1 \(a real guest's storm does not read it\)$/);
par(['--target', 'qemu:debian-6.1', '--machine', 'sr950'], /^kmodlab: --machine: not with --parallel --target qemu:debian-6\.1 /);
for (const [o, v] of [['--module', 'xfs'], ['--path', 'finit'], ['--state', 'live']] as const)
  row(['storm', '--target', 'qemu:debian-6.1', o, v], new RegExp(`^kmodlab: ${o}: only with --parallel \\(the duplicate-load storm\\)$`));
row(['storm', '--target', 'qemu:debian-6.1', '--policy', 'syn.js'], /^kmodlab: --policy: not with --target qemu:debian-6\.1 \(the real coldplug boots/);
row(['storm', '--target', 'qemu:debian-6.1', '--run-timeout', '5'], /^kmodlab: --run-timeout: only on the simulated coldplug storm \(without --parallel or a qemu target\)$/);

// a time option past Node's timers (2^31 - 1 ms) fired at once: every run "hung", the suite "timed out"
storm(['--run-timeout', '3000000'], /^kmodlab: --run-timeout 3000000: want at most 1000000 \(seconds\)$/);
row(['stats', '--run-timeout', '3000000'], /^kmodlab: --run-timeout 3000000: want at most 1000000 \(seconds\)$/);
row(['selftest', '--timeout', '3000000'], /^kmodlab: --timeout 3000000: want at most 1000000 \(seconds\)$/);

// --- storm merge (its options are its own, checked before the report)
const merge = (args: string[], line: RegExp): void => row(['storm', 'merge', ...args], line);
merge(['missing'], /^kmodlab: merge: missing: no such directory$/);
merge(['adir'], /^kmodlab: merge: adir: no storm results here/);
merge(['afile'], /^kmodlab: merge: afile: not a directory$/);
merge(['res', 'fifo'], /^kmodlab: merge: fifo: not a directory$/);
merge(['res', '--format', 'bogus'], /^kmodlab: --format: unknown format "bogus"/);
merge(['res', '--categories', 'bogus'], /^kmodlab: --categories: unknown mode "bogus"/);
merge(['res', '--chart', 'bogus'], /^kmodlab: --chart: unknown chart style "bogus"/);
merge(['res', '--svg', '/proc/x.svg'], /^kmodlab: --svg \/proc\/x\.svg: cannot create files in \/proc/);
merge(['res', '--html', 'nodir/x.html'], /^kmodlab: --html nodir\/x\.html: no such directory nodir$/);
merge(['res', '--module-area', 'x'], /^kmodlab: --module-area x: want bytes/);

// --- trace: its inputs (read as stats reads them) and its outputs
const trace = (args: string[], line: RegExp): void => row(['trace', ...args], line);
trace(['--out', 'never.json', '--kernel', 'v9.9'], KNOWN_PRESETS);
trace(['--out', 'never.json', '--kernel', 'fifo.json'], NOT_REGULAR);
trace(['--out', 'never.json', '--machine', 'bad.json'], /^kmodlab: bad\.json: not JSON: /);
trace(['--out', 'never.json', '--seed', '-1'], /^kmodlab: --seed: bad seed "-1"/);
trace(['--out', 'never.json', '--snapshot', 'nope'], /^kmodlab: unknown module snapshot 'nope'/);
trace(['--out', 'never.json', '--policy', 'syn.ts'], /^kmodlab: policy syn\.ts:[34]: syntax error: /);
trace(['--out', 'nodir/t.json'], /^kmodlab: --out nodir\/t\.json: no such directory nodir$/);
trace(['--out', '/proc/t.json'], /^kmodlab: --out \/proc\/t\.json: cannot create files in \/proc/);
trace(['--out', 'fifo'], /^kmodlab: --out fifo: not a regular file/);
trace(['--out', 'adir'], /^kmodlab: --out adir: is a directory$/);
trace(['--out', 'never.json', '--svg', 'nodir/x.svg'], /^kmodlab: --svg nodir\/x\.svg: no such directory nodir$/);
trace(['--out', 'never.json', '--svg', 'adir'], /^kmodlab: --svg adir: is a directory$/);

// --- machines and kernels
row(['machines', 'show', 'nope'], /^kmodlab: unknown machine 'nope' \(known: kvm-guest, qemu-tcg, sr950\)$/);
row(['machines', 'show', 'bad.json'], /^kmodlab: bad\.json: not JSON: /);
row(['machines', 'show', 'fifo.json'], NOT_REGULAR);
row(['machines', 'show', 'dir.json'], /^kmodlab: dir\.json: is a directory, not a file$/);
row(['machines', 'show', 'badmachine.json'], /^kmodlab: badmachine\.json: \w+: /);
row(['machines', 'capture', '--out', 'nodir/m.json'], /^kmodlab: --out nodir\/m\.json: no such directory nodir$/);
row(['machines', 'capture', '--out', 'adir'], /^kmodlab: --out adir: is a directory$/);
row(['kernels', 'show', 'nope'], KNOWN_PRESETS);
for (const [f, line] of [
  ['bad.json', /^kmodlab: preset file bad\.json: invalid JSON \(/],
  ['missing.json', /^kmodlab: preset file missing\.json: cannot read \(ENOENT\)$/],
  ['fifo.json', NOT_REGULAR],
  ['dir.json', /^kmodlab: dir\.json: is a directory, not a file$/],
  ['arr.json', /^kmodlab: preset file arr\.json: \(top level\): /],
  ['badflag.json', /^kmodlab: preset file badflag\.json: .*noSuchFlag/],
] as const) row(['kernels', '--preset-file', f], line);

// --- explore
const explore = (args: string[], line: RegExp): void => row(['explore', ...args], line);
explore(['nope'], /^kmodlab: scenario nope: cannot read \(ENOENT\); built-ins: dups-stale-result, /);
explore(['bad.json'], /^kmodlab: scenario bad\.json: invalid JSON \(/);
explore(['empty.json'], /^kmodlab: scenario empty\.json: invalid JSON \(/);
explore(['badscen.json'], /^kmodlab: scenario badscen\.json: modules: /);
explore(['fifo.json'], /^kmodlab: scenario fifo\.json: not a regular file/);
explore(['dir.json'], /^kmodlab: scenario dir\.json: is a directory, not a file$/);
for (const [o, v, line] of [
  ['--runs', '0', /^kmodlab: --runs 0: want an integer >= 1$/],
  ['--runs', 'x', /^kmodlab: --runs x: want an integer >= 1$/],
  ['--budget', 'x', /^kmodlab: --budget x: want seconds, e\.g\. 60s$/],
  ['--budget', '-5s', /^kmodlab: --budget -5s: want seconds/],
  ['--strategy', 'x', /^kmodlab: --strategy x: want random, pct or exhaustive$/],
  ['--points', '1', /^kmodlab: --points 1: want an integer >= 2$/],
  ['--path', '0:1', /^kmodlab: --path: only with --replay SEED$/],
  ['--drop', 'killer', /^kmodlab: --drop: only with --replay SEED$/],
  ['--depth', '0', /^kmodlab: --depth 0: want an integer >= 1$/],
  ['--seed', 'x', /^kmodlab: --seed x: want an integer >= 0$/],
  ['--format', 'x', /^kmodlab: --format x: want text or json$/],
  ['--kernel', 'v9', KNOWN_PRESETS],
  ['--replay', 'x', /^kmodlab: --replay x: want an integer >= 0$/],
  ['--trace', 't.json', /^kmodlab: --trace: only with --replay SEED$/],
  ['--dmesg', 'd.txt', /^kmodlab: --dmesg: only with --replay SEED$/],
] as const) explore(['self-load', o, v], line);
explore(['self-load', '--replay', '1', '--trace', 'nodir/t.json'], /^kmodlab: --trace nodir\/t\.json: no such directory nodir$/);
explore(['self-load', '--replay', '1', '--dmesg', '/proc/x'], /^kmodlab: --dmesg \/proc\/x: cannot create files in \/proc/);
explore(['self-load', '--replay', '1', '--trace', 'adir'], /^kmodlab: --trace adir: is a directory$/);
explore(['self-load', '--replay', '1', '--path', '0:x'], /^kmodlab: --path 0:x: want decisions like 0:2:1 \(non-negative integers joined by ':'\) or defaults$/);
explore(['self-load', '--replay', '1', '--drop', 'nobody'], /^kmodlab: --drop nobody: nobody is not a process of scenario self-load \(modprobe, killer\)$/);
explore(['self-load', '--replay', '1', '--out', 'o'], /^kmodlab: --out: not with --replay$/);
explore(['self-load', '--out', 'afile'], /^kmodlab: --out afile: not a directory$/);
explore(['syn.ts'], /^kmodlab: scenario syn\.ts:[34]: syntax error: /);
explore(['fifo.ts'], /^kmodlab: scenario fifo\.ts: not a regular file/);

// --- selftest (kmodlab's options; kmod.sh's own arguments pass through to the port)
const st = (args: string[], line: RegExp): void => row(['selftest', ...args], line);
st(['--results', '/proc/x'], /^kmodlab: --results \/proc\/x: no such file or directory$/);
st(['--target', 'nope'], /^kmodlab: --target nope: want sim, sysfs or qemu:NAME$/);
st(['--target', 'qemu'], /^kmodlab: --target qemu: want sim, sysfs or qemu:NAME$/);
st(['--target', 'qemu:nope'], /^kmodlab: kernel "nope": unknown \(known: debian-6\.1, /);
st(['--kernal', 'v6.4'], /^kmodlab: unknown option '--kernal' \(kmodlab help selftest lists the options\)$/);
st(['--ktap', '--bogus'], /^kmodlab: unknown option '--bogus'/);
st(['--kernel', 'nope'], KNOWN_PRESETS);
st(['--machine', 'nope'], /^kmodlab: unknown machine 'nope'/);
st(['--machine', 'fifo.json'], NOT_REGULAR);
st(['--cpus', '0'], /^kmodlab: --cpus 0: want an integer >= 1$/);
st(['--seed', 'x'], /^kmodlab: --seed x: want an integer >= 0$/);
st(['--watch-rounds', '0'], /^kmodlab: --watch-rounds 0: want an integer >= 1$/);
st(['--kmod-sh', 'v9'], /^kmodlab: --kmod-sh v9: /);
st(['--test-modules', 'nope'], /^kmodlab: --test-modules nope: /);
st(['--dmesg', 'nodir/d.txt'], /^kmodlab: --dmesg nodir\/d\.txt: no such directory nodir$/);
st(['--dmesg', '/proc/d.txt'], /^kmodlab: --dmesg \/proc\/d\.txt: cannot create files in \/proc/);
st(['--dmesg', 'adir'], /^kmodlab: --dmesg adir: is a directory$/);
st(['--snapshot', 'nope'], /^kmodlab: unknown module snapshot 'nope' \(known: debian-6\.1, /);
st(['--snapshot', 'fifo.json'], NOT_REGULAR);
st(['--kmod-version', '0'], /^kmodlab: --kmod-version 0: want an integer >= 1$/);
st(['--kmod-version', '2.5'], /^kmodlab: --kmod-version 2\.5: want an integer >= 1$/);
st(['--target', 'sysfs', '--snapshot', 'debian-6.1'], /^kmodlab: --snapshot: only for --target sim \(got --target sysfs\)$/);
st(['--target', 'sysfs', '--kmod-version', '30'], /^kmodlab: --kmod-version: only for --target sim \(got --target sysfs\)$/);
st(['--target', 'qemu:debian-6.1', '--kmod-version', '30'], /^kmodlab: --kmod-version: only for --target sim \(got --target qemu:debian-6\.1\)$/);

st(['--timeout', '0'], /^kmodlab: --timeout 0: want an integer >= 1$/);

// --- kselftest install (nothing is written for a bad input)
const ks = (args: string[], line: RegExp): void => row(['kselftest', 'install', ...args], line);
ks(['nodir'], /^kmodlab: nodir: no such directory /);
ks(['afile'], /^kmodlab: afile: not a directory$/);
ks(['adir', '--target', 'qemu:nope'], /^kmodlab: kernel "nope": unknown \(known: debian-6\.1, /);
ks(['adir', '--timeout', 'x'], /^kmodlab: --timeout x: want an integer >= 5$/);

// --- kernel (the real-kernel commands refuse an unknown name before any download or boot)
for (const sub of ['prepare', 'boot']) row(['kernel', sub, 'nope'], /^kmodlab: kernel "nope": unknown \(known: debian-6\.1, /);
row(['kernel', 'storm', 'nope', '--parallel', '1'], /^kmodlab: kernel "nope": unknown/);

/** run one row: a child with a deadline (a hang is a failure, not a stuck suite) */
function run(argv: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...argv], { cwd: tmp, env: { ...process.env, CI: '1', KMODLAB_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

let before0: string[] = [];
describe('bad inputs: one line, the right exit code, nothing else', { concurrency: 3 }, () => {
  before(async () => {
    makeFixtures();
    // a finished result directory for the merge rows
    const r = await run(['storm', '--out', 'res', '--cpus', '1', '--kernel', 'v6.4', '--inline', '--no-progress', '--format', 'csv']);
    assert.equal(r.status, 0, r.stderr);
    before0 = listing();
  });
  for (const { argv, code, line } of rows) {
    it(`kmodlab ${argv.map((a) => (a === '' ? "''" : a)).join(' ')}`, async () => {
      const r = await run(argv);
      assert.equal(r.status, code, `exit ${r.status}; stderr: ${r.stderr}`);
      assert.equal(r.stdout, '', 'nothing on stdout');
      assert.ok(r.stderr.endsWith('\n'), `stderr ends its line: ${JSON.stringify(r.stderr)}`);
      const lines = r.stderr.slice(0, -1).split('\n');
      assert.equal(lines.length, 1, `exactly one line on stderr:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /^\s+at |Error:|node:internal/m, 'no stack trace, no raw error name');
      assert.match(lines[0]!, line);
    });
  }
});

test('the table is the issue\'s size (150+ rows) and no row left a file behind', () => {
  assert.ok(rows.length >= 150, `${rows.length} rows`);
  assert.deepEqual(new Set(rows.map((r) => r.argv.join('\0'))).size, rows.length, 'no row twice');
  assert.deepEqual(listing(), before0, 'no partial output, no probe, no result directory left');
});
