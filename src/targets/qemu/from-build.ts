/**
 * DOC: `kmodlab kernel prepare --from-build DIR` — the kernel you built, prepared like a
 * Debian one, so that `--target qemu:NAME` boots it for the selftest and the storms.
 *
 * A module-loader developer tests the tree they just built. What a Debian kernel gets from its
 * packages comes here from the tree:
 *  - the image: DIR/arch/x86/boot/bzImage (or --image FILE);
 *  - the modules: `make -C DIR modules_install INSTALL_MOD_PATH=CACHE/kernels/NAME/root` (or a
 *    copy of an installed tree given with --modules DIR); then the guest suite's depmod;
 *  - test_kmod and test_module: the tree's own when it built them (CONFIG_TEST_KMOD=m,
 *    CONFIG_TEST_LKM=m), else built out of tree from its lib/ with `make -C DIR M=…`, like
 *    the project's kml_slow and kml_fail always are;
 *  - the guest userspace: a Debian suite's kmod and capsh (--userspace SUITE, default the host's
 *    suite), through the same private apt state as `kernel prepare NAME`;
 *  - the sim model: the preset the tree's version selects (preset-for-version.ts), or --preset.
 * Everything is checked before anything is written (from-build-tree.ts, from-build-config.ts),
 * so a bad tree is one line and exit 2 with the cache untouched. The agent, the initramfs and
 * prepared.json are prepare.ts's own steps (assembleGuest), so both kinds of kernel boot the same
 * guest. A stamp over the image, .config, Module.symvers, the modules and the guest inputs
 * makes a second run instant; rebuild the tree and the next prepare redoes it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { getPreset } from '../../kernel/presets.js';
import { parseModulesDep } from '../../userspace/depmod/dep.js';
import { presetForVersion, type PresetChoice } from '../../kernel/preset-for-version.js';
import { checkKernelConfig, lackingLine, parseKernelConfig, treeModulesLine, type ConfigCheck } from './from-build-config.js';
import { builtModule, checkKernelName, nameFromRelease, readBuildTree, type BuildTree } from './from-build-tree.js';
import { cacheDir, kernelDir, type SimKernelModel } from './kernels.js';
import {
  aptClosure, aptDownload, aptUpdate, assembleGuest, dpkgVersion, ensureHostTools, GUEST_PACKAGES, hashDir, PREPARE_FORMAT,
  readPrepared, repoRoot, run, runInTree, sh, treeRunner, unpackTree,
} from './prepare.js';
import { isFromBuild, type FromBuildPrepared, type FromBuildRecord } from './user-kernels.js';

/** Bump when what --from-build lays out changes. */
const FROM_BUILD_FORMAT = 1;

export interface FromBuildOptions {
  /** the build tree */
  dir: string;
  /** --name (default: the tree's release) */
  name?: string;
  /** --userspace SUITE (default: the host's Debian suite) */
  userspace?: string;
  /** --preset (default: by the tree's version) */
  preset?: string;
  /** --image FILE instead of DIR/arch/x86/boot/bzImage */
  image?: string;
  /** --modules DIR: an installed module tree instead of make modules_install */
  modules?: string;
  cache?: string;
  refresh?: boolean;
  log?: (line: string) => void;
  /** /etc/os-release's text (tests give their own) */
  osRelease?: string;
}

/** The host's Debian suite, from /etc/os-release (VERSION_CODENAME). */
export function hostSuite(osRelease: string): string | null {
  return /^VERSION_CODENAME="?([a-z]+)"?\s*$/m.exec(osRelease)?.[1] ?? null;
}

/** Everything --from-build decides before it writes anything; InputError on a bad input. */
export interface FromBuildPlan {
  tree: BuildTree;
  check: ConfigCheck;
  name: string;
  preset: PresetChoice;
  suite: string;
}

export function planFromBuild(o: FromBuildOptions): FromBuildPlan {
  const tree = readBuildTree(o.dir, { image: o.image, modules: o.modules });
  const check = checkKernelConfig(parseKernelConfig(tree.config));
  if (check.errors.length > 0)
    throw new InputError(`--from-build ${o.dir}: .config: ${check.errors.join('; ')}`);
  if (check.moduleCompression === 'gzip' || check.moduleCompression === 'zstd')
    throw new InputError(`--from-build ${o.dir}: .config: CONFIG_MODULE_COMPRESS_${check.moduleCompression.toUpperCase()}=y; the storms use plain or xz modules (set CONFIG_MODULE_COMPRESS_NONE or _XZ)`);
  for (const [opt, src, m] of [['CONFIG_TEST_KMOD', check.testKmod, 'test_kmod'], ['CONFIG_TEST_LKM', check.testModule, 'test_module']] as const) {
    if (src === 'out-of-tree' && tree.sources === null)
      throw new InputError(`--from-build ${o.dir}: ${opt} is not =m and the tree has no lib/${m}.c to build it from`);
    // =m in a .config the modules were not rebuilt for: say so before anything is installed
    if (src === 'tree' && builtModule(tree, m) === null)
      throw new InputError(tree.modules === null
        ? `--from-build ${o.dir}: ${opt}=m but the build made no ${m}.ko (modules.order does not list it: run make modules)`
        : `--modules ${o.modules}: ${opt}=m but ${tree.modules} holds no ${m}.ko`);
  }
  const name = checkKernelName(o.name ?? nameFromRelease(tree.release));
  const preset = o.preset !== undefined ? { preset: getPreset(o.preset, '--preset').name, reason: '--preset' } : presetForVersion(tree.kernelVersion);
  let suite = o.userspace;
  if (suite === undefined) {
    const text = o.osRelease ?? (existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '');
    suite = hostSuite(text) ?? undefined;
    if (suite === undefined) throw new InputError("--userspace: the host's Debian suite is unknown (no VERSION_CODENAME in /etc/os-release); give --userspace SUITE");
  }
  if (!/^[a-z]+(-[a-z]+)?$/.test(suite)) throw new InputError(`--userspace ${suite}: not a Debian suite name (bookworm, trixie, sid, bookworm-backports…)`);
  return { tree, check, name, preset, suite };
}

/** (path, size, mtime) of files, in order: enough to see a rebuilt tree. */
function fingerprint(h: ReturnType<typeof createHash>, files: string[]): void {
  for (const f of files) {
    const st = statSync(f, { throwIfNoEntry: false });
    h.update(`${f}\0${st ? `${st.size}:${st.mtimeMs}` : '-'}\n`);
  }
}

/** The module files a tree's modules.order names (the .ko as 6.1.176 lists them, or the .o with the .ko beside it). */
function orderedModules(dir: string, order: string): string[] {
  return readFileSync(order, 'utf8').split('\n').filter(Boolean).map((l) => join(dir, l.replace(/\.o$/, '.ko')));
}

/**
 * A test module the tree built, as installed under modRoot (found by the depmod just run, so
 * wherever modules_install or --modules put it), copied as a plain .ko. The guest stages it in
 * extra/ alone: a test module that needed another module would not load there, so it is refused.
 */
export async function copyTreeModule(modRoot: string, m: string, dst: string): Promise<void> {
  const depFile = join(modRoot, 'modules.dep');
  const e = parseModulesDep(await readFile(depFile, 'utf8'), depFile).get(m);
  if (e === undefined) throw new Error(`${m}.ko: the .config builds it (=m) but ${depFile} does not list it`);
  if (e.deps.length > 0) throw new Error(`${m}.ko: the tree's own depends on ${e.deps.join(', ')}; the guest loads it without them`);
  const f = join(modRoot, e.path);
  if (f.endsWith('.ko.xz')) await sh('xz -dc "$SRC" > "$DST"', { SRC: f, DST: dst });
  else if (f.endsWith('.ko')) await copyFile(f, dst);
  else throw new Error(`${f}: compressed as the guest's initramfs cannot take (want .ko or .ko.xz)`);
}

export async function prepareFromBuild(o: FromBuildOptions): Promise<FromBuildPrepared> {
  const plan = planFromBuild(o);
  const { tree, check, name, preset, suite } = plan;
  const log = o.log ?? ((s: string) => process.stderr.write(`kmodlab: ${name}: ${s}\n`));
  const cache = cacheDir(o.cache);
  const dir = kernelDir(cache, name);
  const t0 = Date.now();
  log(`tree ${tree.dir}: Linux ${tree.kernelVersion}, release ${tree.release}; sim preset ${preset.preset} (${preset.reason}); guest userspace from ${suite}`);
  const lacking = lackingLine(check);
  if (lacking !== null) log(lacking);
  const own = treeModulesLine(check);
  if (own !== null) log(own);
  for (const n of check.notes) log(n);

  await ensureHostTools(log);
  await aptUpdate(cache, suite, !!o.refresh, log);

  const hostVersions: Record<string, string> = {};
  for (const p of ['kmod', 'busybox-static', 'bash-static', 'libcap2-bin', 'gcc-12', 'libc6-dev'])
    hostVersions[`host:${p}`] = await dpkgVersion(p);
  const ih = createHash('sha256');
  ih.update(JSON.stringify({ PREPARE_FORMAT, FROM_BUILD_FORMAT, name, tree: tree.dir, image: tree.image, modules: tree.modules, preset, suite, hostVersions, lists: readFileSync(join(cache, 'apt', suite, 'updated'), 'utf8') }));
  ih.update(readFileSync(tree.image));
  ih.update(tree.config);
  ih.update(readFileSync(join(tree.dir, 'Module.symvers')));
  const order = tree.modules ? join(tree.modules, 'modules.order') : join(tree.dir, 'modules.order');
  if (existsSync(order)) fingerprint(ih, [order, ...orderedModules(tree.modules ?? tree.dir, order)]);
  if (tree.sources) fingerprint(ih, [join(tree.sources, 'test_kmod.c'), join(tree.sources, 'test_module.c')]);
  await hashDir(join(repoRoot(), 'scripts', 'kernel'), ih);
  const inputStamp = ih.digest('hex').slice(0, 16);
  const prev = readPrepared(name, cache);
  if (!o.refresh && prev && isFromBuild(prev) && prev.inputStamp === inputStamp && existsSync(prev.initramfs) && existsSync(prev.vmlinuz)) {
    log(`up to date (${prev.release})`);
    return prev;
  }

  // Lay out what the Debian path unpacks: root/lib/modules/RELEASE and root/boot/vmlinuz-RELEASE.
  await rm(dir, { recursive: true, force: true });
  const root = join(dir, 'root');
  const modRoot = join(root, 'lib', 'modules', tree.release);
  await mkdir(join(root, 'boot'), { recursive: true });
  if (tree.modules === null) {
    log(`make modules_install INSTALL_MOD_PATH=${root}`);
    // DEPMOD=true: the guest suite's depmod runs below, not the host's
    await run('make', ['-s', '-C', tree.dir, 'modules_install', `INSTALL_MOD_PATH=${root}`, 'DEPMOD=/bin/true']);
  } else {
    log(`copying the installed modules from ${tree.modules}`);
    await mkdir(join(root, 'lib', 'modules'), { recursive: true });
    // hard links when the cache is on the same filesystem (depmod replaces its files by rename)
    const r = await run('cp', ['-al', tree.modules, modRoot], { allowFail: true });
    if (r.code !== 0) {
      await rm(modRoot, { recursive: true, force: true });
      await run('cp', ['-a', tree.modules, modRoot]);
    }
  }
  if (!existsSync(modRoot)) throw new Error(`modules_install did not create ${modRoot} (the tree's release is ${tree.release})`);
  // the installed tree's links back into the build tree are not the guest's
  for (const l of ['build', 'source']) await rm(join(modRoot, l), { force: true });
  await copyFile(tree.image, join(root, 'boot', `vmlinuz-${tree.release}`));

  const guestPkgs = await aptClosure(cache, suite, GUEST_PACKAGES);
  const files = await aptDownload(cache, suite, guestPkgs, log);
  const userTree = join(dir, 'userspace');
  log(`unpacking the guest userspace from ${suite}: ${guestPkgs.map((p) => `${p.name} ${p.version}`).join(', ')}`);
  await unpackTree(userTree, guestPkgs.map((p) => files.get(p.name)!));
  const guest = treeRunner(userTree);
  const kmodVersionText = (await runInTree(guest, '/usr/bin/kmod', 'kmod', ['--version'])).stdout;
  const kmodVersion = Number(/kmod version (\d+)/.exec(kmodVersionText)?.[1] ?? 0);
  if (!kmodVersion) throw new Error(`${suite}'s kmod --version: unexpected answer ${kmodVersionText.trim()}`);
  log(`depmod of the installed modules, with ${suite}'s depmod`);
  await runInTree(guest, '/usr/bin/kmod', 'depmod', ['-b', root, tree.release]);

  // The test modules: the tree's own where it built them, the rest out of tree against DIR.
  const build = join(dir, 'build');
  await mkdir(build, { recursive: true });
  const outOfTree = ['kml_slow', 'kml_fail'];
  for (const [m, src] of [['test_kmod', check.testKmod], ['test_module', check.testModule]] as const) {
    if (src === 'tree') await copyTreeModule(modRoot, m, join(build, `${m}.ko`));
    else {
      await copyFile(join(tree.sources!, `${m}.c`), join(build, `${m}.c`));
      outOfTree.push(m);
    }
  }
  const scripts = join(repoRoot(), 'scripts', 'kernel');
  for (const f of ['kml_slow.c', 'kml_fail.c']) await copyFile(join(scripts, 'modules', f), join(build, f));
  await writeFile(join(build, 'Kbuild'), `obj-m += ${outOfTree.map((m) => `${m}.o`).join(' ')}\n`);
  log(`building ${outOfTree.map((m) => `${m}.ko`).join(', ')} with make -C ${tree.dir} M=${build}`);
  // no BTF for our modules: it needs pahole and a vmlinux with BTF, and nothing here uses it
  await run('make', ['-C', tree.dir, `M=${build}`, `-j${Math.max(2, availableParallelism())}`, 'CONFIG_DEBUG_INFO_BTF_MODULES=', 'modules']);
  const missing = outOfTree.filter((m) => !existsSync(join(build, `${m}.ko`)));
  if (missing.length > 0) throw new Error(`make M=${build} built no ${missing.join(', ')}`);

  const compressed = check.moduleCompression === 'xz';
  const sim: SimKernelModel = {
    preset: preset.preset,
    machine: 'qemu-tcg',
    // the module-set snapshot whose compression matches what modprobe will find
    snapshot: compressed ? 'debian-6.12' : 'debian-6.1',
    moduleCompression: compressed && check.inKernelDecompress ? 'xz' : null,
    kmodVersion,
  };
  const packages: Record<string, string> = { ...hostVersions };
  for (const p of guestPkgs) packages[`guest:${p.name}`] = p.version;
  const h = createHash('sha256');
  h.update(JSON.stringify({ PREPARE_FORMAT, FROM_BUILD_FORMAT, name, packages, inputStamp }));
  const stamp = h.digest('hex').slice(0, 16);
  const { errors: _errors, ...config } = check;
  const extra: FromBuildRecord = {
    origin: 'build',
    sim,
    build: { tree: tree.dir, image: tree.image, modules: tree.modules, kernelVersion: tree.kernelVersion, presetReason: preset.reason, userspaceSuite: suite, config },
  };
  const prepared = await assembleGuest({
    name, dir, root, release: tree.release, build, guest, kmodVersion, packages, stamp, inputStamp, t0, log,
    image: { version: tree.kernelVersion },
    spec: { suite, simPreset: preset.preset, compressedModules: compressed },
    extra,
  });
  return prepared as FromBuildPrepared;
}
