/**
 * DOC: build data/udev-rules/systemd-<version>.json from Debian's udev packages.
 *
 * Why: which modules udev loads by rule (not by modalias) is the rules files' business, and they
 * differ between systemd versions; the udevd model applies what the real package ships. This
 * downloads `udev` for each suite with a private apt state (own sources list, lists and cache:
 * the host's apt setup is left alone), unpacks it with dpkg-deb, reads every *.rules file under
 * lib/udev/rules.d and usr/lib/udev/rules.d, keeps the module-loading rules
 * (src/userspace/udev-rules/parse.ts) and writes one JSON file per systemd version.
 *
 *   npx tsc -p . && node dist/scripts/udev-rules/generate.js [--suite bookworm] [--suite bookworm-backports]
 *                                                 [--deb FILE] [--out DIR] [--keep]
 * Default: bookworm (systemd 252) and bookworm-backports (254). `--deb FILE` uses a downloaded
 * package instead (no network). Needs dpkg-deb, and apt-get with network access for downloads.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { packageRoot } from '../../src/userspace/depmod/paths.js';
import { flag, privateAptOpts, run, values } from '../lib/script-util.js';
import { parseKmodRules, UDEV_RULES_FORMAT, type KmodRule, type UdevRulesJson } from '../../src/userspace/udev-rules/index.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-udev-rules-'));

/** apt options for a private state that sees only `suite` */
const aptOpts = (suite: string): string[] => privateAptOpts(path.join(work, 'apt', suite), [suite]);

function download(suite: string): string {
  const o = aptOpts(suite);
  run('apt-get', [...o, 'update']);
  const dir = path.join(work, 'deb', suite);
  fs.mkdirSync(dir, { recursive: true });
  run('apt-get', [...o, 'download', `udev/${suite}`], { cwd: dir });
  return path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.deb'))!);
}

function build(deb: string, suite: string | undefined, outDir: string): void {
  const field = (f: string): string => run('dpkg-deb', ['-f', deb, f]).trim();
  const pkg = field('Package');
  const version = field('Version');
  if (pkg !== 'udev') throw new Error(`${deb}: package ${pkg}, expected udev`);
  const m = /^(\d+)/.exec(version);
  if (!m) throw new Error(`${deb}: version ${version} does not start with the systemd version`);
  const root = path.join(work, 'root', version);
  fs.mkdirSync(root, { recursive: true });
  run('dpkg-deb', ['-x', deb, root]);
  const files = new Map<string, string>();
  // udev reads both directories and orders the files by name; /usr wins a name clash
  for (const d of ['lib/udev/rules.d', 'usr/lib/udev/rules.d']) {
    const dir = path.join(root, d);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.rules')) files.set(f, path.join(dir, f));
  }
  const rules: KmodRule[] = [];
  for (const name of [...files.keys()].sort()) rules.push(...parseKmodRules(fs.readFileSync(files.get(name)!, 'utf8'), name));
  const out: UdevRulesJson = {
    format: UDEV_RULES_FORMAT,
    systemdVersion: Number(m[1]),
    source: `udev ${version} (Debian${suite ? ` ${suite}` : ''})`,
    rules,
  };
  const file = path.join(outDir, `systemd-${out.systemdVersion}.json`);
  writeFileAtomic.sync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.error(`${file}: ${out.source}, ${files.size} rules files, ${rules.length} module-loading rules`);
}

function main(): void {
  const outDir = values('--out')[0] ?? path.join(packageRoot(), 'data/udev-rules');
  fs.mkdirSync(outDir, { recursive: true });
  try {
    const debs = values('--deb');
    if (debs.length > 0) for (const d of debs) build(d, undefined, outDir);
    else for (const s of values('--suite').length > 0 ? values('--suite') : ['bookworm', 'bookworm-backports']) build(download(s), s, outDir);
  } finally {
    if (flag('--keep')) console.error(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  console.error(`generate: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
