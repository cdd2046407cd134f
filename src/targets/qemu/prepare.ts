/**
 * DOC: `kmodlab kernel prepare NAME` — a Debian kernel, its test modules and an initramfs.
 *
 * Steps (each skipped when its output is already in the cache):
 *  1. host tools: qemu-system-x86, busybox-static, kmod, bash-static, libcap2-bin, cpio, and the
 *     compiler bits (apt-get install when missing; needs root).
 *  2. a private apt state per suite under CACHE/apt/SUITE (sources.list with only that suite),
 *     so bookworm-backports needs no change to the system's apt sources.
 *  3. `apt-get download` of linux-image-REL-unsigned, linux-headers-REL (+ -common, linux-kbuild)
 *     and linux-source-X into CACHE/debs; unpacked with dpkg-deb -x, never installed.
 *  4. test_kmod.c and test_module.c from the source tarball, built out of tree against the
 *     headers together with the project's own kml_slow / kml_fail (scripts/kernel/modules/).
 *  5. the static guest agent and storm helper (scripts/kernel/*.c) built with the host's gcc.
 *  6. the initramfs: busybox, bash-static, the host's kmod tools and capsh with their shared
 *     libraries, xfs with its dependency chain and the test modules (depmod run for the subset),
 *     plus plain and xz copies of the storm modules under /lib/kml.
 * A stamp keyed by every package version and the guest sources makes a second run instant.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, symlink, writeFile, stat, chmod } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../errors.js';
import { DUPSTORM_MODULES } from '../../results/dupstorm.js';
import { parseModulesDep } from '../../userspace/depmod/dep.js';
import { cacheDir, kernelDir, kernelSpec, type KernelSpec } from './kernels.js';

/** Bump when the layout of a prepared kernel changes. */
const PREPARE_FORMAT = 3;

/** The modules the storms load (plain and xz copies under /lib/kml), besides test_kmod itself. */
export const STORM_MODULES = [...DUPSTORM_MODULES, 'test_module'] as const;

/** What `prepare` leaves behind (CACHE/kernels/NAME/prepared.json). */
export interface PreparedKernel {
  name: string;
  /** uname -r, e.g. "6.1.0-50-amd64" */
  release: string;
  /** Debian package version, e.g. "6.1.176-1" */
  version: string;
  suite: string;
  simPreset: string;
  compressedModules: boolean;
  dir: string;
  vmlinuz: string;
  initramfs: string;
  /** host kmod version (the guest runs the same tools), e.g. 30 */
  kmodVersion: number;
  /** module name → its dependencies in load order (from modules.dep) */
  moduleDeps: Record<string, string[]>;
  /** module name → guest paths of an uncompressed and an xz copy (for direct storms) */
  stormFiles: Record<string, { plain: string; xz: string }>;
  packages: Record<string, string>;
  /** keyed by every package version */
  stamp: string;
  /** keyed by the apt lists' read time, host tool versions and the guest sources */
  inputStamp: string;
}

export interface PrepareOptions {
  cache?: string;
  /** re-read the apt lists and rebuild even if the stamp matches */
  refresh?: boolean;
  /** progress lines (default: stderr) */
  log?: (line: string) => void;
}

const HOST_TOOLS: { cmd: string; pkg: string }[] = [
  { cmd: '/usr/bin/qemu-system-x86_64', pkg: 'qemu-system-x86' },
  { cmd: '/bin/busybox', pkg: 'busybox-static' },
  { cmd: '/bin/kmod', pkg: 'kmod' },
  { cmd: '/bin/bash-static', pkg: 'bash-static' },
  { cmd: '/sbin/capsh', pkg: 'libcap2-bin' },
  { cmd: '/usr/bin/cpio', pkg: 'cpio' },
  { cmd: '/usr/bin/make', pkg: 'make' },
  { cmd: '/usr/bin/gcc-12', pkg: 'gcc-12' },
  { cmd: '/usr/bin/xz', pkg: 'xz-utils' },
  { cmd: '/usr/lib/x86_64-linux-gnu/libc.a', pkg: 'libc6-dev' },
];

/** Repository root (holds scripts/kernel), found from this file in src/ or dist/src/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'scripts', 'kernel', 'kml-agent.c'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find scripts/kernel (kmodlab repository root)');
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program; reject with its stderr tail unless allowFail. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; allowFail?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (code) => {
      const r = { code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (r.code !== 0 && !opts.allowFail) {
        const tail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')}…: exit ${r.code}: ${tail}`));
      } else resolvePromise(r);
    });
  });
}

/** bash -c with pipefail; values go in through the environment, never into the script text. */
function sh(script: string, env: Record<string, string>, cwd?: string): Promise<RunResult> {
  return run('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env: { ...process.env, ...env } });
}

async function ensureHostTools(log: (s: string) => void): Promise<void> {
  const missing = HOST_TOOLS.filter((t) => !existsSync(t.cmd)).map((t) => t.pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new InputError(`host tools missing (${missing.join(' ')}): install them with apt-get as root`);
  log(`installing host packages: ${missing.join(' ')}`);
  await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** apt options that point apt at CACHE/apt/SUITE instead of the system's lists. */
function aptOpts(cache: string, suite: string): string[] {
  const d = join(cache, 'apt', suite);
  return [
    '-o', `Dir::Etc::SourceList=${join(d, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(d, 'lists')}`,
    '-o', `Dir::Cache=${d}`,
    '-o', 'APT::Sandbox::User=root',
  ];
}

async function aptUpdate(cache: string, suite: string, refresh: boolean, log: (s: string) => void): Promise<void> {
  const d = join(cache, 'apt', suite);
  const stampFile = join(d, 'updated');
  if (!refresh && existsSync(stampFile)) return;
  await mkdir(join(d, 'lists', 'partial'), { recursive: true });
  await mkdir(join(d, 'archives', 'partial'), { recursive: true });
  await writeFile(
    join(d, 'sources.list'),
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${suite} main\n`,
  );
  log(`apt: reading the ${suite} package lists`);
  const r = await run('apt-get', [...aptOpts(cache, suite), 'update'], { allowFail: true });
  if (r.code !== 0 || /^(E|Err):/m.test(r.stdout + r.stderr))
    throw new Error(`apt-get update for ${suite} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`);
  await writeFile(stampFile, new Date().toISOString() + '\n');
}

interface AptPackage {
  name: string;
  version: string;
  depends: string;
  filename: string;
}

async function aptShow(cache: string, suite: string, pkg: string): Promise<AptPackage> {
  const r = await run('apt-cache', [...aptOpts(cache, suite), 'show', pkg], { allowFail: true });
  if (r.code !== 0 || !r.stdout.trim()) throw new Error(`package ${pkg} not found in ${suite}`);
  // apt-cache show lists every available version; the first stanza is the candidate
  const stanza = r.stdout.split(/\n\n/)[0]!;
  const field = (f: string) => new RegExp(`^${f}: (.*)$`, 'm').exec(stanza)?.[1] ?? '';
  return { name: field('Package'), version: field('Version'), depends: field('Depends'), filename: field('Filename') };
}

/** The package names in a Depends field that start with a prefix. */
function dependsOn(depends: string, prefix: string): string | undefined {
  for (const alt of depends.split(/,\s*/)) {
    const name = alt.trim().split(/[\s|(]/)[0]!;
    if (name.startsWith(prefix)) return name;
  }
  return undefined;
}

async function aptDownload(cache: string, suite: string, pkgs: AptPackage[], log: (s: string) => void): Promise<Map<string, string>> {
  const debs = join(cache, 'debs');
  await mkdir(debs, { recursive: true });
  const files = new Map<string, string>();
  const want: string[] = [];
  for (const p of pkgs) {
    const file = join(debs, basename(p.filename).replace(/:/g, '%3a'));
    files.set(p.name, file);
    if (!existsSync(file)) want.push(`${p.name}=${p.version}`);
  }
  if (want.length) {
    log(`apt: downloading ${want.join(' ')}`);
    await run('apt-get', [...aptOpts(cache, suite), 'download', ...want], { cwd: debs });
  }
  for (const [name, f] of files) if (!existsSync(f)) throw new Error(`download of ${name} did not produce ${f}`);
  return files;
}

async function dpkgVersion(pkg: string): Promise<string> {
  const r = await run('dpkg-query', ['-W', '-f', '${Version}', pkg], { allowFail: true });
  return r.code === 0 ? r.stdout.trim() : 'none';
}

async function hashDir(dir: string, h: ReturnType<typeof createHash>): Promise<void> {
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await hashDir(p, h);
    else {
      h.update(e.name);
      h.update(await readFile(p));
    }
  }
}

export function readPrepared(name: string, cache?: string): PreparedKernel | null {
  const f = join(kernelDir(cacheDir(cache), name), 'prepared.json');
  if (!existsSync(f)) return null;
  return JSON.parse(readFileSync(f, 'utf8')) as PreparedKernel;
}

export async function prepareKernel(name: string, opts: PrepareOptions = {}): Promise<PreparedKernel> {
  const spec = kernelSpec(name);
  const log = opts.log ?? ((s: string) => process.stderr.write(`kmodlab: ${name}: ${s}\n`));
  const cache = cacheDir(opts.cache);
  const dir = kernelDir(cache, name);
  const t0 = Date.now();

  await ensureHostTools(log);
  await aptUpdate(cache, spec.suite, !!opts.refresh, log);

  // Fast path: the package choice only changes when the suite's lists are re-read (--refresh),
  // so a stamp of (lists read at, host tool versions, guest sources) decides without apt.
  const hostVersions: Record<string, string> = {};
  for (const p of ['kmod', 'busybox-static', 'bash-static', 'libcap2-bin', 'gcc-12', 'libc6-dev'])
    hostVersions[`host:${p}`] = await dpkgVersion(p);
  const ih = createHash('sha256');
  ih.update(JSON.stringify({ PREPARE_FORMAT, name, hostVersions, lists: readFileSync(join(cache, 'apt', spec.suite, 'updated'), 'utf8') }));
  await hashDir(join(repoRoot(), 'scripts', 'kernel'), ih);
  const inputStamp = ih.digest('hex').slice(0, 16);
  const prev = readPrepared(name, cache);
  if (!opts.refresh && prev && prev.inputStamp === inputStamp && existsSync(prev.initramfs) && existsSync(prev.vmlinuz)) {
    log(`up to date (${prev.release}, ${prev.version})`);
    return prev;
  }

  const meta = await aptShow(cache, spec.suite, 'linux-image-amd64');
  const imageName = dependsOn(meta.depends, 'linux-image-');
  if (!imageName) throw new Error(`linux-image-amd64 in ${spec.suite}: no kernel in Depends (${meta.depends})`);
  const release = imageName.replace(/^linux-image-/, '');
  const image = await aptShow(cache, spec.suite, `${imageName}-unsigned`);
  const headers = await aptShow(cache, spec.suite, `linux-headers-${release}`);
  const commonName = dependsOn(headers.depends, 'linux-headers-');
  const kbuildName = dependsOn(headers.depends, 'linux-kbuild-');
  if (!commonName || !kbuildName) throw new Error(`linux-headers-${release}: unexpected Depends ${headers.depends}`);
  const common = await aptShow(cache, spec.suite, commonName);
  const kbuild = await aptShow(cache, spec.suite, kbuildName);
  const source = await aptShow(cache, spec.suite, `linux-source-${spec.sourceSeries}`);
  const pkgs = [image, headers, common, kbuild, source];

  const packages: Record<string, string> = {};
  for (const p of pkgs) packages[p.name] = p.version;
  Object.assign(packages, hostVersions);
  const h = createHash('sha256');
  h.update(JSON.stringify({ PREPARE_FORMAT, name, packages, inputStamp }));
  const stamp = h.digest('hex').slice(0, 16);
  log(`kernel ${release} (${image.version}) from ${spec.suite}`);
  const files = await aptDownload(cache, spec.suite, pkgs, log);

  // Unpack: image + headers into one root so the headers' relative symlinks resolve.
  const root = join(dir, 'root');
  const unpackStamp = join(dir, 'unpacked');
  const unpackKey = pkgs.map((p) => `${p.name}=${p.version}`).join(' ');
  if (!existsSync(unpackStamp) || readFileSync(unpackStamp, 'utf8') !== unpackKey) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    for (const p of [image, headers, common, kbuild]) {
      log(`unpacking ${p.name}`);
      await run('dpkg-deb', ['-x', files.get(p.name)!, root]);
    }
    // The headers' Makefile includes the -common tree by absolute path: point it at ours.
    const mk = join(root, 'usr', 'src', `linux-headers-${release}`, 'Makefile');
    await writeFile(mk, (await readFile(mk, 'utf8')).replaceAll('/usr/src/', `${join(root, 'usr', 'src')}/`));
    log(`extracting lib/test_kmod.c, lib/test_module.c from linux-source-${spec.sourceSeries}`);
    const src = join(dir, 'src');
    await mkdir(src, { recursive: true });
    const series = `linux-source-${spec.sourceSeries}`;
    await sh(
      'dpkg-deb --fsys-tarfile "$DEB" | tar -xO "./usr/src/$SERIES.tar.xz" | tar -xJ -C "$SRC" --strip-components=1 --wildcards "$SERIES/lib/test_kmod.c" "$SERIES/lib/test_module.c" "$SERIES/tools/testing/selftests/kmod/*"',
      { DEB: files.get(source.name)!, SERIES: series, SRC: src },
    );
    log('depmod of the full module tree (for the dependency chains)');
    await run('depmod', ['-b', root, release]);
    await writeFile(unpackStamp, unpackKey);
  }

  // Build the test modules out of tree.
  const scripts = join(repoRoot(), 'scripts', 'kernel');
  const build = join(dir, 'build');
  await rm(build, { recursive: true, force: true });
  await mkdir(build, { recursive: true });
  for (const f of ['test_kmod.c', 'test_module.c']) await copyFile(join(dir, 'src', 'lib', f), join(build, f));
  for (const f of ['kml_slow.c', 'kml_fail.c']) await copyFile(join(scripts, 'modules', f), join(build, f));
  await writeFile(join(build, 'Kbuild'), 'obj-m += test_kmod.o test_module.o kml_slow.o kml_fail.o\n');
  log('building test_kmod.ko, test_module.ko, kml_slow.ko, kml_fail.ko');
  const headersDir = join(root, 'usr', 'src', `linux-headers-${release}`);
  // no BTF for our modules: it needs pahole and a vmlinux with BTF, and nothing here uses it
  await run('make', ['-C', headersDir, `M=${build}`, `-j${Math.max(2, await cpuCount())}`, 'CONFIG_DEBUG_INFO_BTF_MODULES=', 'modules']);
  log('building the guest agent and storm helper (static)');
  await run('gcc', ['-O2', '-Wall', '-static', '-o', join(build, 'kml-agent'), join(scripts, 'kml-agent.c')]);
  await run('gcc', ['-O2', '-Wall', '-static', '-pthread', '-o', join(build, 'kml-storm'), join(scripts, 'kml-storm.c')]);

  // Assemble the initramfs tree.
  log('assembling the initramfs');
  const stage = join(dir, 'stage');
  await rm(stage, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'lib', 'lib64', 'etc/modprobe.d', 'proc', 'sys', 'dev', 'tmp', 'run', 'root', 'lib/kml'])
    await mkdir(join(stage, d), { recursive: true });
  await copyFile('/bin/busybox', join(stage, 'bin', 'busybox'));
  await chmod(join(stage, 'bin', 'busybox'), 0o755);
  const applets = (await run('/bin/busybox', ['--list-full'])).stdout.split('\n').filter(Boolean);
  const kmodLinks = ['sbin/modprobe', 'sbin/insmod', 'sbin/rmmod', 'sbin/lsmod', 'sbin/depmod', 'sbin/modinfo', 'bin/lsmod'];
  for (const a of applets) {
    if (kmodLinks.includes(a) || a === 'bin/bash' || a === 'init' || a === 'linuxrc') continue;
    const p = join(stage, a);
    await mkdir(dirname(p), { recursive: true });
    if (!existsSync(p)) await symlink('/bin/busybox', p);
  }
  await copyFile('/bin/bash-static', join(stage, 'bin', 'bash'));
  await chmod(join(stage, 'bin', 'bash'), 0o755);
  await copyWithLibs('/bin/kmod', stage);
  for (const l of kmodLinks) {
    await rm(join(stage, l), { force: true });
    await symlink('/bin/kmod', join(stage, l));
  }
  await copyWithLibs('/sbin/capsh', stage);
  for (const b of ['kml-agent', 'kml-storm']) {
    await copyFile(join(build, b), join(stage, 'usr', 'bin', b));
    await chmod(join(stage, 'usr', 'bin', b), 0o755);
  }
  await copyFile(join(scripts, 'init'), join(stage, 'init'));
  await chmod(join(stage, 'init'), 0o755);
  await writeFile(join(stage, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  await writeFile(join(stage, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  if (process.getuid?.() === 0) await run('mknod', ['-m', '600', join(stage, 'dev', 'console'), 'c', '5', '1'], { allowFail: true });

  // The module subset: xfs and its chain (hard deps, and the crc32c providers of its softdep).
  const modRoot = join(root, 'lib', 'modules', release);
  const dep = parseModulesDep(await readFile(join(modRoot, 'modules.dep'), 'utf8'), join(modRoot, 'modules.dep'));
  const wanted = new Set<string>();
  const moduleDeps: Record<string, string[]> = {};
  const depsOf = (n: string): string[] => {
    const e = dep.get(n);
    if (!e) throw new Error(`module ${n} not in ${release}'s modules.dep`);
    return e.deps;
  };
  for (const n of ['xfs', 'crc32c_generic', 'crc32c_intel']) {
    if (!dep.has(n)) continue;
    const chain = depsOf(n);
    moduleDeps[n] = [...chain].reverse(); // modules.dep lists the nearest dependency first
    for (const m of [n, ...chain]) wanted.add(m);
  }
  const stageMods = join(stage, 'lib', 'modules', release);
  for (const n of wanted) {
    const f = dep.get(n)!.path;
    await mkdir(join(stageMods, dirname(f)), { recursive: true });
    await copyFile(join(modRoot, f), join(stageMods, f));
  }
  for (const f of ['modules.builtin', 'modules.builtin.modinfo', 'modules.order']) {
    if (existsSync(join(modRoot, f))) await copyFile(join(modRoot, f), join(stageMods, f));
  }
  // Our modules sit in extra/, compressed like the distribution's own when it compresses.
  await mkdir(join(stageMods, 'extra'), { recursive: true });
  for (const m of ['test_kmod', 'test_module', 'kml_slow', 'kml_fail']) {
    const dst = join(stageMods, 'extra', `${m}.ko`);
    await copyFile(join(build, `${m}.ko`), dst);
    if (spec.compressedModules) await xzModule(dst, true);
    moduleDeps[m] = [];
  }
  await run('depmod', ['-b', stage, release]);
  // Storm copies: plain and xz of each, so both finit_module paths can be driven directly.
  const stormFiles: Record<string, { plain: string; xz: string }> = {};
  for (const m of STORM_MODULES) {
    const src = m === 'xfs' ? join(modRoot, dep.get('xfs')!.path) : join(build, `${m}.ko`);
    const plain = join(stage, 'lib', 'kml', `${m}.ko`);
    if (src.endsWith('.xz')) await sh('xz -dc "$SRC" > "$DST"', { SRC: src, DST: plain });
    else await copyFile(src, plain);
    await copyFile(plain, `${plain}.tmp`);
    await xzModule(`${plain}.tmp`, false);
    await run('mv', [`${plain}.tmp.xz`, `${plain}.xz`]);
    stormFiles[m] = { plain: `/lib/kml/${m}.ko`, xz: `/lib/kml/${m}.ko.xz` };
  }

  const initramfs = join(dir, 'initramfs.cpio.gz');
  await sh('find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet | gzip -1 > "$OUT"', { OUT: initramfs }, stage);
  const vmlinuz = join(dir, 'vmlinuz');
  await copyFile(join(root, 'boot', `vmlinuz-${release}`), vmlinuz);

  const kmodVersion = Number(/kmod version (\d+)/.exec((await run('/bin/kmod', ['--version'])).stdout)?.[1] ?? 0);
  const prepared: PreparedKernel = {
    name,
    release,
    version: image.version,
    suite: spec.suite,
    simPreset: spec.simPreset,
    compressedModules: spec.compressedModules,
    dir,
    vmlinuz,
    initramfs,
    kmodVersion,
    moduleDeps,
    stormFiles,
    packages,
    stamp,
    inputStamp,
  };
  await writeFile(join(dir, 'prepared.json'), JSON.stringify(prepared, null, 2) + '\n');
  const size = (await stat(initramfs)).size;
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${vmlinuz}, initramfs ${(size / 1048576).toFixed(1)} MiB`);
  return prepared;
}

/** Compress like the kernel's modules_install does (the in-kernel xz decoder wants CRC32). */
async function xzModule(file: string, replace: boolean): Promise<void> {
  await run('xz', ['-f', '--check=crc32', '--lzma2=dict=1MiB', ...(replace ? [] : ['-k']), file]);
  if (!replace) await rm(file, { force: true });
}

async function cpuCount(): Promise<number> {
  const { availableParallelism } = await import('node:os');
  return availableParallelism();
}

/** Copy a dynamically linked host binary and every library ldd names, at the same paths. */
async function copyWithLibs(bin: string, stage: string): Promise<void> {
  const dst = join(stage, bin);
  await mkdir(dirname(dst), { recursive: true });
  await copyFile(bin, dst);
  await chmod(dst, 0o755);
  const ldd = await run('ldd', [bin]);
  for (const line of ldd.stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s/.exec(line);
    if (!m) continue;
    const lib = m[1]!;
    const target = join(stage, lib);
    if (existsSync(target)) continue;
    await mkdir(dirname(target), { recursive: true });
    await copyFile(lib, target); // copyFile follows the soname symlink to the real file
  }
}

export type { KernelSpec };
