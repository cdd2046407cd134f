/**
 * DOC: build the shipped module-set snapshots from Debian's kernel packages.
 *
 * Why: the simulator must run anywhere, with real module data, without a real /lib/modules tree.
 * This downloads Debian's unsigned-image packages with apt (the current bookworm 6.1 ABI, and 6.12
 * from bookworm-backports via a private sources list that leaves the host's apt setup alone),
 * unpacks them with dpkg-deb, runs depmod on the unpacked tree (the packages ship no
 * modules.dep/alias; Debian's postinst generates them — we use the host's depmod, or the one in
 * Debian's kmod package when the host has none), reads the tree with src/userspace/depmod
 * (modules.symbols and the package's modules.builtin.modinfo included), and writes
 * data/modules/debian-6.1.json.gz and debian-6.12.json.gz. `--deb FILE` rebuilds a snapshot from
 * the package it was made from (its `source` names it) after a format change.
 *
 *   npx tsc -p . && node dist/scripts/snapshot/generate.js [--only 6.1|6.12] [--no-update]
 *                                                    [--deb FILE] [--keep] [--out DIR]
 * (or scripts/snapshot/generate.sh, which builds first). Needs a Debian/Ubuntu host with apt and
 * network access; run as root or a user that may run apt-get update on a private state dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readModulesDir } from '../../src/userspace/depmod/tree.js';
import { writeSnapshotFile } from '../../src/userspace/depmod/snapshot.js';
import { packageRoot } from '../../src/userspace/depmod/paths.js';
import { flag, privateAptOpts, run, value } from '../lib/script-util.js';

interface Target {
  snapshot: 'debian-6.1' | 'debian-6.12';
  /** apt options selecting the suite that carries the package */
  aptOpts: string[];
  /** picks the package name */
  findPackage: (aptOpts: string[]) => string;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-snapshot-'));
const aptState = path.join(work, 'apt');

/** A private apt configuration for bookworm-backports: own sources list, lists and cache. */
const backportsOpts = (): string[] => privateAptOpts(aptState, ['bookworm-backports']);

/** The ABI the bookworm meta-package points at now: linux-image-amd64 → linux-image-6.1.0-NN-amd64. */
function current61(): string {
  const out = run('apt-cache', ['depends', 'linux-image-amd64'], { quiet: true });
  const m = /Depends: (linux-image-6\.1\.0-\d+-amd64)\b/.exec(out);
  if (!m) throw new Error('apt-cache depends linux-image-amd64: no linux-image-6.1.0-NN-amd64 dependency (not a bookworm host?)');
  return `${m[1]}-unsigned`;
}

/** The newest 6.12 generic amd64 unsigned image in bookworm-backports. */
function newest612(aptOpts: string[]): string {
  const out = run('apt-cache', [...aptOpts, 'search', '--names-only', '^linux-image-6\\.12\\..*-amd64-unsigned$'], { quiet: true });
  const names = out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => /^linux-image-6\.12\.[\d.]+\+deb\d+-amd64-unsigned$/.test(n));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const pick = names.at(-1);
  if (!pick) throw new Error('no linux-image-6.12.*-amd64-unsigned in bookworm-backports');
  return pick;
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/sbin', '/usr/sbin'])) {
    const p = path.join(dir, cmd);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** depmod from the host, else from Debian's kmod package (the multi-call binary named depmod). */
function findDepmod(): string {
  const host = which('depmod');
  if (host) return host;
  const dir = path.join(work, 'kmod');
  fs.mkdirSync(dir, { recursive: true });
  run('apt-get', ['download', 'kmod'], { cwd: dir });
  const deb = fs.readdirSync(dir).find((f) => f.endsWith('.deb'))!;
  run('dpkg-deb', ['-x', deb, 'root'], { cwd: dir });
  const link = path.join(dir, 'depmod');
  fs.symlinkSync(path.join(dir, 'root/bin/kmod'), link);
  return link;
}

async function build(t: Target, depmod: string, outDir: string): Promise<void> {
  const dir = path.join(work, t.snapshot);
  fs.mkdirSync(dir, { recursive: true });
  let deb = value('--deb');
  if (!deb) {
    const pkg = t.findPackage(t.aptOpts);
    run('apt-get', [...t.aptOpts, 'download', pkg], { cwd: dir });
    deb = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.deb'))!);
  }
  const info = run('dpkg-deb', ['-f', deb, 'Package', 'Version'], { quiet: true }).trim().split('\n');
  const source = `${info[0]!.replace(/^Package: /, '')} ${info[1]!.replace(/^Version: /, '')} (Debian)`;
  const root = path.join(dir, 'root');
  run('dpkg-deb', ['-x', deb, root]);
  const releases = fs.readdirSync(path.join(root, 'lib/modules'));
  if (releases.length !== 1) throw new Error(`${deb}: expected one lib/modules/<release>, found ${releases.join(', ')}`);
  const release = releases[0]!;
  run(depmod, ['-b', root, release]);
  const t0 = Date.now();
  const set = await readModulesDir(path.join(root, 'lib/modules', release), {
    onModule: (n, total) => {
      if (n % 500 === 0 || n === total) process.stderr.write(`  read ${n}/${total} modules\r`);
    },
  });
  process.stderr.write('\n');
  const out = path.join(outDir, `${t.snapshot}.json.gz`);
  const gz = writeSnapshotFile(set, source, out);
  console.error(
    `${out}: ${source}, release ${release}, ${set.modules.size} modules, ${set.aliases.length} aliases, ` +
      `${set.builtin.size} built-in, ${set.symbols?.size ?? 0} symbols, ${set.builtinAliases?.length ?? 0} built-in aliases; ${gz.length} bytes; read in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

async function main(): Promise<void> {
  const only = value('--only');
  const outDir = value('--out') ?? path.join(packageRoot(), 'data/modules');
  fs.mkdirSync(outDir, { recursive: true });
  const targets: Target[] = [];
  if (!only || only === '6.1') targets.push({ snapshot: 'debian-6.1', aptOpts: [], findPackage: current61 });
  if (!only || only === '6.12') targets.push({ snapshot: 'debian-6.12', aptOpts: backportsOpts(), findPackage: newest612 });
  if (targets.length === 0) throw new Error(`--only ${only}: expected 6.1 or 6.12`);
  if (value('--deb') && targets.length > 1) throw new Error('--deb needs --only 6.1 or --only 6.12');
  if (!flag('--no-update') && !value('--deb')) {
    run('apt-get', ['update']);
    if (targets.some((t) => t.aptOpts.length > 0)) run('apt-get', [...backportsOpts(), 'update']);
  }
  const depmod = findDepmod();
  try {
    for (const t of targets) await build(t, depmod, outDir);
  } finally {
    if (!flag('--keep')) fs.rmSync(work, { recursive: true, force: true });
    else console.error(`kept ${work}`);
  }
}

main().catch((err: unknown) => {
  console.error(`generate: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
