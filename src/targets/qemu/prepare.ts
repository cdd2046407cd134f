/**
 * DOC: `kmodlab kernel prepare NAME` — a Debian kernel, its test modules and an initramfs.
 *
 * Steps (each skipped when its output is already in the cache):
 *  1. host tools: qemu-system-x86, busybox-static, kmod, bash-static, libcap2-bin, cpio, and the
 *     compiler bits (apt-get install when missing; needs root).
 *  2. a private apt state per suite under CACHE/apt/SUITE (sources.list with only that suite and
 *     an empty dpkg status), so bookworm-backports or bullseye need no change to the system's apt
 *     sources and the host's installed versions never shadow the suite's.
 *  3. `apt-get download` of the kernel (linux-image-REL-unsigned, or sid's linux-base/-binary-
 *     unsigned/-modules split), linux-headers-REL (+ -common, linux-kbuild) and linux-source-X
 *     into CACHE/debs; unpacked with dpkg-deb -x, never installed.
 *  4. the guest userspace from the same suite: kmod, libkmod2, libcap2-bin and what apt says
 *     they need (libc6, libssl, liblzma, libzstd, zlib…), unpacked into NAME/userspace; its
 *     depmod (run on the host under the suite's own dynamic loader) builds modules.dep.
 *  5. test_kmod.c and test_module.c from the source tarball, built out of tree against the
 *     headers together with the project's own kml_slow / kml_fail (scripts/kernel/modules/):
 *     with the host's gcc when the kernel was built with it (bookworm), else with the suite's
 *     compiler, binutils and linux-kbuild unpacked into NAME/buildroot and run under chroot.
 *  6. the static guest agent and storm helper (scripts/kernel/*.c) built with the host's gcc.
 *  7. the initramfs: busybox, bash-static, the suite's kmod tools and capsh with their shared
 *     libraries and the suite's loader, xfs with its dependency chain and the test modules (depmod
 *     run for the subset), plus plain and xz copies of the storm modules under /lib/kml.
 * A stamp keyed by every package version and the guest sources makes a second run instant.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, symlink, writeFile, stat, chmod } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../errors.js';
import { DUPSTORM_MODULES } from '../../results/dupstorm.js';
import { parseModulesDep } from '../../userspace/depmod/dep.js';
import { cacheDir, kernelDir, kernelSpec, type KernelSpec } from './kernels.js';

/** Bump when the layout of a prepared kernel changes. */
export const PREPARE_FORMAT = 4;

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
  /** the guest's kmod version (its suite's kmod package, unpacked into the initramfs), e.g. 30 */
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
export function sh(script: string, env: Record<string, string>, cwd?: string): Promise<RunResult> {
  return run('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env: { ...process.env, ...env } });
}

export async function ensureHostTools(log: (s: string) => void): Promise<void> {
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
    // an empty dpkg status: the host's installed versions never shadow the suite's candidates
    '-o', `Dir::State::status=${join(d, 'status')}`,
    '-o', 'APT::Sandbox::User=root',
  ];
}

export async function aptUpdate(cache: string, suite: string, refresh: boolean, log: (s: string) => void): Promise<void> {
  const d = join(cache, 'apt', suite);
  const stampFile = join(d, 'updated');
  if (!existsSync(join(d, 'status'))) {
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'status'), '');
  }
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

export interface AptPackage {
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

/** The guest userspace taken from the kernel's own suite (apt adds libc6 and what they link). */
export const GUEST_PACKAGES = ['kmod', 'libkmod2', 'libcap2-bin', 'liblzma5', 'libzstd1', 'zlib1g'];

/** Besides the compiler and linux-kbuild: what kbuild's make and shell commands use. */
const TOOLCHAIN_PACKAGES = ['make', 'libc6-dev', 'binutils', 'coreutils', 'dash', 'bash', 'sed', 'grep', 'mawk', 'findutils', 'diffutils', 'gzip', 'xz-utils', 'tar'];

/** The compiler package a headers package names: linux-compiler-gcc-N-x86, gcc-N or gcc-N-for-host. */
export function compilerPackage(depends: string): string | undefined {
  for (const alt of depends.split(/,\s*/)) {
    const name = alt.trim().split(/[\s|(]/)[0]!;
    if (/^(linux-compiler-gcc-\d+-x86|gcc-\d+(-for-host)?)$/.test(name)) return name;
  }
  return undefined;
}

/**
 * The packages that carry a kernel release: linux-image-REL-unsigned where Debian has one (the
 * image and its modules), else (sid since 7.x) what the linux-image-REL meta package depends on,
 * with the unsigned binary in place of the signed one. The first carries the version.
 */
async function kernelImagePackages(cache: string, suite: string, imageName: string, release: string): Promise<AptPackage[]> {
  try {
    return [await aptShow(cache, suite, `${imageName}-unsigned`)];
  } catch {
    const meta = await aptShow(cache, suite, imageName);
    const parts: AptPackage[] = [];
    for (const alt of meta.depends.split(/,\s*/)) {
      const name = alt.trim().split(/[\s|(]/)[0]!;
      if (!name.startsWith('linux-') || !name.endsWith(`-${release}`)) continue;
      const unsigned = name.replace(/^linux-binary-/, 'linux-binary-unsigned-');
      parts.push(await aptShow(cache, suite, unsigned));
    }
    if (!parts.some((p) => p.name.startsWith('linux-binary-')) || !parts.some((p) => p.name.startsWith('linux-modules-')))
      throw new Error(`${imageName} in ${suite}: no -unsigned package and no linux-binary/linux-modules in Depends (${meta.depends})`);
    return parts;
  }
}

/**
 * What maintainer scripts would have done in a build root unpacked with dpkg-deb: /bin/sh, awk,
 * /dev/null and /tmp (and a /proc to mount).
 */
async function finishBuildRoot(tree: string): Promise<void> {
  if (!existsSync(join(tree, 'usr', 'bin', 'sh'))) await symlink('dash', join(tree, 'usr', 'bin', 'sh'));
  if (!existsSync(join(tree, 'usr', 'bin', 'awk'))) await symlink('mawk', join(tree, 'usr', 'bin', 'awk'));
  for (const d of ['dev', 'tmp', 'proc']) await mkdir(join(tree, d), { recursive: true });
  await chmod(join(tree, 'tmp'), 0o1777);
  if (process.getuid?.() !== 0) throw new InputError(`building in ${tree} needs root (chroot)`);
  await run('mknod', ['-m', '666', join(tree, 'dev', 'null'), 'c', '1', '3']);
}

/** The package names in a Depends field that start with a prefix. */
function dependsOn(depends: string, prefix: string): string | undefined {
  for (const alt of depends.split(/,\s*/)) {
    const name = alt.trim().split(/[\s|(]/)[0]!;
    if (name.startsWith(prefix)) return name;
  }
  return undefined;
}

export async function aptDownload(cache: string, suite: string, pkgs: AptPackage[], log: (s: string) => void): Promise<Map<string, string>> {
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

/**
 * Every package apt would install for pkgs on an empty system of the suite (the private state's
 * dpkg status is empty), as download records: apt's own dependency resolution, nothing guessed.
 */
export async function aptClosure(cache: string, suite: string, pkgs: string[]): Promise<AptPackage[]> {
  const r = await run('apt-get', [...aptOpts(cache, suite), '-qq', '--print-uris', '--no-install-recommends', 'install', ...pkgs], { allowFail: true });
  if (r.code !== 0) throw new Error(`apt-get install --print-uris ${pkgs.join(' ')} in ${suite}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`);
  const out = parsePrintUris(r.stdout);
  if (out.length === 0) throw new Error(`apt-get install --print-uris ${pkgs.join(' ')} in ${suite}: no packages listed`);
  return out;
}

/** `apt-get --print-uris` lines ('URL' NAME_VERSION_ARCH.deb SIZE HASH) as packages, by name. */
export function parsePrintUris(stdout: string): AptPackage[] {
  const out: AptPackage[] = [];
  for (const m of stdout.matchAll(/^'[^']+' (([^_\s]+)_([^_\s]+)_[^_\s]+\.deb) /gm))
    out.push({ name: m[2]!, version: decodeURIComponent(m[3]!), depends: '', filename: m[1]! });
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A tree of unpacked packages, merged like a usrmerge system (bin, sbin, lib, lib64 are links
 * into usr/) so packages of every era land in one place: tar keeps those links.
 */
export async function unpackTree(tree: string, debs: string[]): Promise<void> {
  await rm(tree, { recursive: true, force: true });
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64']) await mkdir(join(tree, d), { recursive: true });
  for (const d of ['bin', 'sbin', 'lib', 'lib64']) await symlink(`usr/${d}`, join(tree, d));
  for (const deb of debs)
    await sh('dpkg-deb --fsys-tarfile "$DEB" | tar -x --keep-directory-symlink -C "$TREE"', { DEB: deb, TREE: tree });
}

/** Resolve a path inside an unpacked tree, following its symlinks (absolute ones into the tree). */
function treeReal(tree: string, p: string): string {
  let cur = p;
  for (let i = 0; i < 40; i++) {
    const parts = cur.split('/').filter(Boolean);
    let done = '';
    let changed = false;
    for (let j = 0; j < parts.length; j++) {
      const next = `${done}/${parts[j]}`;
      const host = join(tree, next);
      let target: string | null = null;
      try {
        target = readlinkSync(host);
      } catch {
        target = null;
      }
      if (target !== null) {
        const base = target.startsWith('/') ? target : join(done || '/', target);
        cur = join(base, ...parts.slice(j + 1));
        changed = true;
        break;
      }
      done = next;
    }
    if (!changed) return join(tree, cur);
  }
  throw new Error(`${p} in ${tree}: too many symlinks`);
}

/** The suite's own dynamic loader and library path in an unpacked tree, to run its binaries here. */
export interface TreeRunner {
  tree: string;
  ldso: string;
  libPath: string;
}

export function treeRunner(tree: string): TreeRunner {
  const ldso = treeReal(tree, '/lib64/ld-linux-x86-64.so.2');
  if (!existsSync(ldso)) throw new Error(`no dynamic loader in ${tree}`);
  const libPath = ['/usr/lib/x86_64-linux-gnu', '/usr/lib'].map((d) => join(tree, d)).join(':');
  return { tree, ldso, libPath };
}

/** Run a binary of the tree under the tree's loader; argv0 names the tool (kmod's multi-call). */
export async function runInTree(t: TreeRunner, bin: string, argv0: string, args: string[]): Promise<RunResult> {
  // ld.so passes the path it was given as argv[0]: a link named like the tool in a private dir
  const links = join(t.tree, '.kml-bin');
  await mkdir(links, { recursive: true });
  const link = join(links, argv0);
  await rm(link, { force: true });
  await symlink(treeReal(t.tree, bin), link);
  return run(t.ldso, ['--library-path', t.libPath, link, ...args]);
}

/**
 * Copy a binary of the tree into the initramfs at guestPath, with every library the tree's loader
 * resolves for it (into /lib/x86_64-linux-gnu, by soname) and the loader itself.
 */
async function copyTreeBinary(t: TreeRunner, bin: string, guestPath: string, stage: string): Promise<void> {
  const real = treeReal(t.tree, bin);
  const dst = join(stage, guestPath);
  await mkdir(dirname(dst), { recursive: true });
  await copyFile(real, dst);
  await chmod(dst, 0o755);
  const list = await run(t.ldso, ['--library-path', t.libPath, '--list', real]);
  for (const line of list.stdout.split('\n')) {
    const m = /^\s*(\S+) => (\/\S+)/.exec(line);
    if (!m) continue;
    await copyTreeLib(m[2]!, basename(m[1]!), stage);
  }
  const loader = join(stage, 'lib64', 'ld-linux-x86-64.so.2');
  if (!existsSync(loader)) await copyFile(t.ldso, loader);
}

async function copyTreeLib(file: string, soname: string, stage: string): Promise<void> {
  const target = join(stage, 'lib', 'x86_64-linux-gnu', soname);
  if (existsSync(target)) return;
  await mkdir(dirname(target), { recursive: true });
  await copyFile(file, target); // copyFile follows the soname link to the real file
}

/** A library the tree's tools dlopen (kmod 34 opens liblzma and libzstd only when needed). */
async function copyDlopenLib(t: TreeRunner, soname: string, stage: string): Promise<boolean> {
  for (const d of ['/usr/lib/x86_64-linux-gnu', '/usr/lib']) {
    const f = join(t.tree, d, soname);
    if (existsSync(f)) {
      await copyTreeLib(treeReal(t.tree, join(d, soname)), soname, stage);
      return true;
    }
  }
  return false;
}

export async function dpkgVersion(pkg: string): Promise<string> {
  const r = await run('dpkg-query', ['-W', '-f', '${Version}', pkg], { allowFail: true });
  return r.code === 0 ? r.stdout.trim() : 'none';
}

/** Hash the guest's sources; host-side helpers (*.js, e.g. kmod-sh.js) never enter the guest. */
export async function hashDir(dir: string, h: ReturnType<typeof createHash>): Promise<void> {
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await hashDir(p, h);
    else if (e.name.endsWith('.js')) continue;
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
  const userSuite = spec.userspaceSuite ?? spec.suite;
  await aptUpdate(cache, spec.suite, !!opts.refresh, log);
  if (userSuite !== spec.suite) await aptUpdate(cache, userSuite, !!opts.refresh, log);

  // Fast path: the package choice only changes when the suite's lists are re-read (--refresh),
  // so a stamp of (lists read at, host tool versions, guest sources) decides without apt.
  const hostVersions: Record<string, string> = {};
  for (const p of ['kmod', 'busybox-static', 'bash-static', 'libcap2-bin', 'gcc-12', 'libc6-dev'])
    hostVersions[`host:${p}`] = await dpkgVersion(p);
  const ih = createHash('sha256');
  ih.update(JSON.stringify({ PREPARE_FORMAT, name, hostVersions, lists: readFileSync(join(cache, 'apt', spec.suite, 'updated'), 'utf8'), userLists: userSuite === spec.suite ? '' : readFileSync(join(cache, 'apt', userSuite, 'updated'), 'utf8') }));
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
  const imagePkgs = await kernelImagePackages(cache, spec.suite, imageName, release);
  const image = imagePkgs[0]!;
  const headers = await aptShow(cache, spec.suite, `linux-headers-${release}`);
  const commonName = dependsOn(headers.depends, 'linux-headers-');
  const kbuildName = dependsOn(headers.depends, 'linux-kbuild-');
  if (!commonName || !kbuildName) throw new Error(`linux-headers-${release}: unexpected Depends ${headers.depends}`);
  const common = await aptShow(cache, spec.suite, commonName);
  const kbuild = await aptShow(cache, spec.suite, kbuildName);
  const sourceSeries = spec.sourceSeries ?? /^(\d+\.\d+)/.exec(release)?.[1];
  if (!sourceSeries) throw new Error(`${release}: no kernel series in the release name`);
  const source = await aptShow(cache, spec.suite, `linux-source-${sourceSeries}`);
  // The guest's userspace: the suite's kmod and capsh with everything they link, and the
  // decompressors kmod 34 dlopens; never the host's.
  const guestPkgs = await aptClosure(cache, userSuite, GUEST_PACKAGES);
  // The suite's compiler (the one the headers name) when the host's cannot build for the kernel.
  let toolchainPkgs: AptPackage[] = [];
  if (spec.toolchain === 'suite') {
    const compiler = compilerPackage(`${headers.depends}, ${common.depends}`);
    if (!compiler) throw new Error(`linux-headers-${release}: no compiler in Depends (${headers.depends})`);
    toolchainPkgs = (await aptClosure(cache, spec.suite, [compiler, kbuild.name, ...TOOLCHAIN_PACKAGES])).filter(
      (p) => p.name !== kbuild.name,
    );
  }
  const pkgs = [...imagePkgs, headers, common, kbuild, source];

  const packages: Record<string, string> = {};
  for (const p of pkgs) packages[p.name] = p.version;
  for (const p of guestPkgs) packages[`guest:${p.name}`] = p.version;
  for (const p of toolchainPkgs) packages[`build:${p.name}`] = p.version;
  Object.assign(packages, hostVersions);
  const h = createHash('sha256');
  h.update(JSON.stringify({ PREPARE_FORMAT, name, packages, inputStamp }));
  const stamp = h.digest('hex').slice(0, 16);
  log(`kernel ${release} (${image.version}) from ${spec.suite}`);
  const files = await aptDownload(cache, spec.suite, [...pkgs, ...toolchainPkgs], log);
  for (const [n, f] of await aptDownload(cache, userSuite, guestPkgs, log)) files.set(n, f);

  // Unpack: image + headers into one root so the headers' relative symlinks resolve.
  const root = join(dir, 'root');
  const userTree = join(dir, 'userspace');
  const buildRoot = join(dir, 'buildroot');
  const unpackStamp = join(dir, 'unpacked');
  const unpackKey = [...pkgs, ...guestPkgs, ...toolchainPkgs].map((p) => `${p.name}=${p.version}`).join(' ');
  const hostBuilt = spec.toolchain === 'host';
  if (!existsSync(unpackStamp) || readFileSync(unpackStamp, 'utf8') !== unpackKey) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    for (const p of [...imagePkgs, ...(hostBuilt ? [headers, common, kbuild] : [])]) {
      log(`unpacking ${p.name}`);
      await run('dpkg-deb', ['-x', files.get(p.name)!, root]);
    }
    // merged-/usr packages put the modules in usr/lib/modules: give depmod -b its lib/modules
    if (!existsSync(join(root, 'lib', 'modules')) && existsSync(join(root, 'usr', 'lib', 'modules'))) {
      await mkdir(join(root, 'lib'), { recursive: true });
      await symlink('../usr/lib/modules', join(root, 'lib', 'modules'));
    }
    if (hostBuilt) {
      // The headers' Makefile includes the -common tree by absolute path: point it at ours.
      const mk = join(root, 'usr', 'src', `linux-headers-${release}`, 'Makefile');
      await writeFile(mk, (await readFile(mk, 'utf8')).replaceAll('/usr/src/', `${join(root, 'usr', 'src')}/`));
    }
    log(`unpacking the guest userspace from ${userSuite}: ${guestPkgs.map((p) => `${p.name} ${p.version}`).join(', ')}`);
    await unpackTree(userTree, guestPkgs.map((p) => files.get(p.name)!));
    if (!hostBuilt) {
      log(`unpacking ${spec.suite}'s toolchain (${toolchainPkgs.length} packages) and the headers into a build root`);
      await unpackTree(buildRoot, [...toolchainPkgs, headers, common, kbuild].map((p) => files.get(p.name)!));
      await finishBuildRoot(buildRoot);
    }
    log(`extracting lib/test_kmod.c, lib/test_module.c, tools/testing/selftests/kmod from linux-source-${sourceSeries}`);
    const src = join(dir, 'src');
    await mkdir(src, { recursive: true });
    const series = `linux-source-${sourceSeries}`;
    await sh(
      'dpkg-deb --fsys-tarfile "$DEB" | tar -xO "./usr/src/$SERIES.tar.xz" | tar -xJ -C "$SRC" --strip-components=1 --wildcards "$SERIES/lib/test_kmod.c" "$SERIES/lib/test_module.c" "$SERIES/tools/testing/selftests/kmod/*"',
      { DEB: files.get(source.name)!, SERIES: series, SRC: src },
    );
    log(`depmod of the full module tree (for the dependency chains), with ${userSuite}'s depmod`);
    await runInTree(treeRunner(userTree), '/usr/bin/kmod', 'depmod', ['-b', root, release]);
    await writeFile(unpackStamp, unpackKey);
  }
  const guest = treeRunner(userTree);
  const kmodVersionText = (await runInTree(guest, '/usr/bin/kmod', 'kmod', ['--version'])).stdout;
  const kmodVersion = Number(/kmod version (\d+)/.exec(kmodVersionText)?.[1] ?? 0);
  if (!kmodVersion) throw new Error(`${spec.suite}'s kmod --version: unexpected answer ${kmodVersionText.trim()}`);

  // Build the test modules out of tree.
  const scripts = join(repoRoot(), 'scripts', 'kernel');
  const build = join(dir, 'build');
  await rm(build, { recursive: true, force: true });
  await mkdir(build, { recursive: true });
  for (const f of ['test_kmod.c', 'test_module.c']) await copyFile(join(dir, 'src', 'lib', f), join(build, f));
  for (const f of ['kml_slow.c', 'kml_fail.c']) await copyFile(join(scripts, 'modules', f), join(build, f));
  await writeFile(join(build, 'Kbuild'), 'obj-m += test_kmod.o test_module.o kml_slow.o kml_fail.o\n');
  log(`building test_kmod.ko, test_module.ko, kml_slow.ko, kml_fail.ko with ${hostBuilt ? "the host's gcc" : `${spec.suite}'s compiler in its build root`}`);
  const jobs = `-j${Math.max(2, await cpuCount())}`;
  if (hostBuilt) {
    const headersDir = join(root, 'usr', 'src', `linux-headers-${release}`);
    // no BTF for our modules: it needs pahole and a vmlinux with BTF, and nothing here uses it
    await run('make', ['-C', headersDir, `M=${build}`, jobs, 'CONFIG_DEBUG_INFO_BTF_MODULES=', 'modules']);
  } else {
    const inRoot = join(buildRoot, 'kml-build');
    await rm(inRoot, { recursive: true, force: true });
    await run('cp', ['-a', build, inRoot]);
    // a private mount and pid namespace with its own /proc (objtool reads its stack limit
    // there): the mount ends with the build, nothing is left mounted on the host
    await run('unshare', ['--mount', '--pid', '--fork', `--mount-proc=${join(buildRoot, 'proc')}`, 'chroot', buildRoot, '/usr/bin/make', '-C', `/usr/src/linux-headers-${release}`, 'M=/kml-build', jobs,
      'CONFIG_DEBUG_INFO_BTF_MODULES=', 'DEB_BUILD_ARCH=amd64', 'DEB_HOST_ARCH=amd64', 'modules'], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/', LC_ALL: 'C' },
    });
    for (const m of ['test_kmod', 'test_module', 'kml_slow', 'kml_fail']) await copyFile(join(inRoot, `${m}.ko`), join(build, `${m}.ko`));
  }
  return assembleGuest({ name, dir, root, release, build, guest, kmodVersion, packages, stamp, inputStamp, t0, log, image, spec });
}

/** What steps 6 and 7 start from: the kernel's modules under root, the test modules in build. */
export interface GuestInputs {
  name: string;
  dir: string;
  /** holds lib/modules/RELEASE (with modules.dep) and boot/vmlinuz-RELEASE */
  root: string;
  release: string;
  /** holds test_kmod.ko, test_module.ko, kml_slow.ko, kml_fail.ko */
  build: string;
  /** the guest userspace */
  guest: TreeRunner;
  kmodVersion: number;
  packages: Record<string, string>;
  stamp: string;
  inputStamp: string;
  t0: number;
  log: (line: string) => void;
  image: { version: string };
  spec: Pick<KernelSpec, 'suite' | 'simPreset' | 'compressedModules'>;
  /** what a kernel prepared from a build tree adds to prepared.json */
  extra?: object;
}

/** Steps 6 and 7, shared with --from-build (from-build.ts): agent, initramfs, prepared.json. */
export async function assembleGuest(g: GuestInputs): Promise<PreparedKernel> {
  const { name, dir, root, release, build, guest, kmodVersion, packages, stamp, inputStamp, t0, log, image, spec } = g;
  const scripts = join(repoRoot(), 'scripts', 'kernel');
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
  await copyTreeBinary(guest, '/usr/bin/kmod', '/bin/kmod', stage);
  for (const l of kmodLinks) {
    await rm(join(stage, l), { force: true });
    await symlink('/bin/kmod', join(stage, l));
  }
  for (const so of ['liblzma.so.5', 'libzstd.so.1', 'libz.so.1']) await copyDlopenLib(guest, so, stage);
  await copyTreeBinary(guest, '/usr/sbin/capsh', '/sbin/capsh', stage);
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
  await runInTree(guest, '/usr/bin/kmod', 'depmod', ['-b', stage, release]);
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
  // /boot/vmlinuz-REL, or (sid's linux-binary-unsigned) the image beside the modules
  const image0 = [join(root, 'boot', `vmlinuz-${release}`), join(modRoot, 'vmlinuz'), join(modRoot, 'vmlinuz.unsigned')].find((f) => existsSync(f));
  if (!image0) throw new Error(`${release}: no vmlinuz in /boot or /lib/modules/${release}`);
  await copyFile(image0, vmlinuz);

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
    ...g.extra,
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

export type { KernelSpec };
