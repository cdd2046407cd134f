/**
 * DOC: module-set snapshots of developer kernels — Debian's module trees with the sizes of the
 * unstripped modules from its linux-image-<abi>-dbg packages (issue 17 item 3).
 *
 * Why: the upstream duplicate-load measurements ran kernels built from a tree with
 * CONFIG_DEBUG_INFO, whose modules keep their debug info; a duplicate's file copy is then
 * megabytes, not the ~100 KiB of a stripped distribution module. Debian ships exactly those
 * unstripped .ko files (same build, same ABI) in its -dbg package, under
 * /usr/lib/debug/lib/modules/<release>/.
 *
 * How: with a private apt state (its own sources list, lists and cache under
 * $KMODLAB_CACHE/dbg/apt, so the host's apt setup is left alone) it downloads the stripped image
 * package (-unsigned, for the tree: modules.dep, aliases, softdeps, built-ins, via depmod) and the
 * -dbg package of the same ABI into $KMODLAB_CACHE/dbg/<snapshot>/ (the -dbg package is 0.5–1 GB;
 * it stays there, never in the repo), reads the tree with src/userspace/depmod, then streams the
 * -dbg package's data tarball (nothing unpacked to disk) and gives every module the size and
 * sections of its unstripped .ko. The schema is the shipped snapshots' (snapshot.ts); only sizes
 * differ. A developer tree installs its modules uncompressed (`make modules_install` without
 * CONFIG_MODULE_COMPRESS_*), so the -dbg sets are uncompressed; a module signed in Debian's set
 * stays signed, with its signature's length (for an xz set, the 6.1 set's typical length).
 *
 *   npx tsc -p . && node dist/scripts/snapshot/generate-dbg.js [--only 6.1|6.12] [--no-update]
 *        [--out DIR] [--stripped-out DIR]
 *
 * writes DIR/debian-6.1-dbg.json.gz (and debian-6.12-dbg.json.gz); --stripped-out DIR also
 * writes the stripped set of the same ABI there (to compare like with like: the shipped
 * debian-6.1 snapshot may be another ABI). Needs apt-get, dpkg-deb and depmod (Debian/Ubuntu).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bufferSource, readElfSections } from '../../src/userspace/depmod/elf.js';
import { readModulesDir } from '../../src/userspace/depmod/tree.js';
import { writeSnapshotFile } from '../../src/userspace/depmod/snapshot.js';
import { packageRoot } from '../../src/userspace/depmod/paths.js';
import type { ModuleInfo, ModuleSet, SectionSizes } from '../../src/userspace/moduleset.js';
import { cacheDir } from '../../src/targets/qemu/kernels.js';
import { readTarFiles } from './tar-stream.js';
import { flag, privateAptOpts, run, value } from '../lib/script-util.js';

const root = path.join(cacheDir(), 'dbg');
const aptState = path.join(root, 'apt');

/** apt options of the private state: bookworm and bookworm-backports, main */
const aptOpts = (): string[] => privateAptOpts(aptState, ['bookworm', 'bookworm-backports']);

interface Target {
  snapshot: 'debian-6.1-dbg' | 'debian-6.12-dbg';
  /** the image package name without -unsigned / -dbg: linux-image-6.1.0-50-amd64 */
  image: (o: string[]) => string;
}

/** bookworm's current 6.1 ABI: what linux-image-amd64 depends on */
function current61(o: string[]): string {
  const out = run('apt-cache', [...o, 'depends', 'linux-image-amd64'], { quiet: true });
  const m = /Depends: (linux-image-6\.1\.0-\d+-amd64)\b/.exec(out);
  if (!m) throw new Error('apt-cache depends linux-image-amd64: no linux-image-6.1.0-NN-amd64 (not bookworm lists?)');
  return m[1]!;
}

/** the newest generic 6.12 image in bookworm-backports that has a -dbg package */
function newest612(o: string[]): string {
  const out = run('apt-cache', [...o, 'search', '--names-only', '^linux-image-6\\.12\\..*-amd64-dbg$'], { quiet: true });
  const names = out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => /^linux-image-6\.12\.[\d.]+\+deb\d+-amd64-dbg$/.test(n))
    .map((n) => n.replace(/-dbg$/, ''));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const pick = names.at(-1);
  if (!pick) throw new Error('no linux-image-6.12.*-amd64-dbg in bookworm-backports');
  return pick;
}

/** apt-get download PKG into dir unless a .deb of it is there already; returns its path */
function download(o: string[], pkg: string, dir: string): string {
  const have = () => fs.readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!have()) run('apt-get', [...o, 'download', pkg], { cwd: dir });
  const f = have();
  if (!f) throw new Error(`apt-get download ${pkg}: no .deb in ${dir}`);
  return path.join(dir, f);
}

function debSource(deb: string): string {
  const [p, v] = run('dpkg-deb', ['-f', deb, 'Package', 'Version'], { quiet: true }).trim().split('\n');
  return `${p!.replace(/^Package: /, '')} ${v!.replace(/^Version: /, '')} (Debian)`;
}

/** the signature length of a signed module in an uncompressed set (the median), for an xz set's modules */
function typicalSignature(set: ModuleSet): number {
  const lens = [...set.modules.values()].filter((m) => m.signed && m.compression === 'none').map((m) => m.fileSize - m.imageSize);
  lens.sort((a, b) => a - b);
  return lens[Math.floor(lens.length / 2)] ?? 0;
}

/** kernel/…/NAME.ko → size and sections of the unstripped file, streamed from the -dbg package */
async function unstrippedModules(deb: string, release: string): Promise<Map<string, { size: number; sections: SectionSizes }>> {
  const prefix = `./usr/lib/debug/lib/modules/${release}/`;
  const out = new Map<string, { size: number; sections: SectionSizes }>();
  const child = spawn('dpkg-deb', ['--fsys-tarfile', deb], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  await readTarFiles(
    child.stdout,
    (p) => p.startsWith(prefix) && p.endsWith('.ko'),
    (p, data) => {
      const rel = p.slice(prefix.length);
      out.set(rel, { size: data.length, sections: readElfSections(bufferSource(data), data.length, p) });
      if (out.size % 500 === 0) process.stderr.write(`  read ${out.size} unstripped modules\r`);
    },
  );
  process.stderr.write('\n');
  const code = await done;
  if (code !== 0) throw new Error(`dpkg-deb --fsys-tarfile ${deb}: exit ${code}`);
  return out;
}

async function build(t: Target, o: string[], outDir: string, strippedOut: string | undefined): Promise<void> {
  const image = t.image(o);
  const dir = path.join(root, t.snapshot);
  fs.mkdirSync(dir, { recursive: true });
  const strippedDeb = download(o, `${image}-unsigned`, dir);
  const dbgDeb = download(o, `${image}-dbg`, dir);
  const work = fs.mkdtempSync(path.join(dir, 'tree-'));
  try {
    run('dpkg-deb', ['-x', strippedDeb, work]);
    const releases = fs.readdirSync(path.join(work, 'lib/modules'));
    if (releases.length !== 1) throw new Error(`${strippedDeb}: expected one lib/modules/<release>, found ${releases.join(', ')}`);
    const release = releases[0]!;
    run('depmod', ['-b', work, release]);
    const stripped = await readModulesDir(path.join(work, 'lib/modules', release));
    if (strippedOut !== undefined) {
      fs.mkdirSync(strippedOut, { recursive: true });
      const f = path.join(strippedOut, `${t.snapshot.replace(/-dbg$/, '')}-${release}.json.gz`);
      writeSnapshotFile(stripped, debSource(strippedDeb), f);
      console.error(`${f}: the stripped set of the same ABI`);
    }
    const dbg = await unstrippedModules(dbgDeb, release);
    const sig = typicalSignature(stripped);
    const modules = new Map<string, ModuleInfo>();
    let missing = 0;
    for (const [name, m] of stripped.modules) {
      const plainPath = m.path.replace(/\.ko\.(xz|gz|zst)$/, '.ko');
      const u = dbg.get(plainPath);
      if (!u) {
        // no unstripped copy (none seen in 6.1/6.12): keep the stripped module, say so
        missing++;
        modules.set(name, m);
        continue;
      }
      const sigLen = !m.signed ? 0 : m.compression === 'none' ? m.fileSize - m.imageSize : sig;
      modules.set(name, { ...m, path: plainPath, compression: 'none', fileSize: u.size + sigLen, imageSize: u.size, sections: u.sections });
    }
    const set: ModuleSet = { ...stripped, modules, order: stripped.order.map((p) => p.replace(/\.ko\.(xz|gz|zst)$/, '.ko')) };
    const source = `${debSource(strippedDeb)} with the unstripped modules of ${debSource(dbgDeb)}`;
    const out = path.join(outDir, `${t.snapshot}.json.gz`);
    const gz = writeSnapshotFile(set, source, out);
    const total = (s: ModuleSet) => [...s.modules.values()].reduce((a, m) => a + m.fileSize, 0);
    console.error(
      `${out}: ${source}, release ${release}, ${modules.size} modules (${missing} without an unstripped copy), ` +
        `module files ${(total(set) / 2 ** 30).toFixed(2)} GiB vs ${(total(stripped) / 2 ** 20).toFixed(0)} MiB stripped; ${gz.length} bytes`,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const only = value('--only');
  const outDir = value('--out') ?? path.join(packageRoot(), 'data/modules');
  fs.mkdirSync(outDir, { recursive: true });
  const targets: Target[] = [];
  if (!only || only === '6.1') targets.push({ snapshot: 'debian-6.1-dbg', image: current61 });
  if (!only || only === '6.12') targets.push({ snapshot: 'debian-6.12-dbg', image: newest612 });
  if (targets.length === 0) throw new Error(`--only ${only}: expected 6.1 or 6.12`);
  const o = aptOpts();
  if (!flag('--no-update')) run('apt-get', [...o, 'update']);
  for (const t of targets) await build(t, o, outDir, value('--stripped-out'));
}

main().catch((err: unknown) => {
  console.error(`generate-dbg: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
