/**
 * DOC: reading a kernel build tree for `kernel prepare --from-build DIR` — what it is, and
 * whether it is built — before anything is written to the cache.
 *
 * Every bad input is one InputError line naming it (DIR missing, not a kernel tree, no .config,
 * not built, no bzImage, an --image or --modules that does not match). The facts:
 *  - the release (what `uname -r` will say, so where the modules must live) is the image's own:
 *    the x86 boot protocol's kernel_version string in the bzImage's setup header. The tree's
 *    include/generated/utsrelease.h (the vermagic of modules built with `make -C DIR M=…`)
 *    must agree, or the test modules would not load;
 *  - the version (for the preset) is the top Makefile's VERSION.PATCHLEVEL.SUBLEVEL; a
 *    distribution's headers tree has a Makefile that includes the real one, which is followed;
 *  - the default name is the release, made safe as a directory name.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { KERNELS } from './kernels.js';

export interface BuildTree {
  /** absolute path of DIR */
  dir: string;
  /** the .config text */
  config: string;
  /** VERSION.PATCHLEVEL.SUBLEVEL of the top Makefile, e.g. "6.1.176" */
  kernelVersion: string;
  /** UTS_RELEASE of the tree = the image's release, e.g. "6.1.176" or "6.1.0-50-amd64" */
  release: string;
  /** the kernel image (arch/x86/boot/bzImage, or --image) */
  image: string;
  /** an installed module tree's lib/modules/RELEASE (--modules), or null: modules_install */
  modules: string | null;
  /** the tree's lib/test_kmod.c and lib/test_module.c when it has its sources, else null */
  sources: string | null;
}

function isDir(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
}

function isFile(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isFile() === true;
}

/** The x86 boot protocol's kernel_version string of a bzImage ("6.1.0-50-amd64 (…) #1 SMP …"). */
export function imageVersionString(image: Buffer): string | null {
  // setup header: "HdrS" at 0x202, protocol version at 0x206, kernel_version (offset − 0x200) at 0x20e
  if (image.length < 0x210 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return null;
  if (image.readUInt16LE(0x206) < 0x200) return null;
  const off = image.readUInt16LE(0x20e) + 0x200;
  if (off >= image.length) return null;
  const end = image.indexOf(0, off);
  const s = image.toString('latin1', off, end < 0 ? Math.min(image.length, off + 256) : end);
  return s.length > 0 ? s : null;
}

/** VERSION.PATCHLEVEL.SUBLEVEL from a top Makefile's text; null when it does not set them. */
export function makefileVersion(text: string): string | null {
  const v = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\d+)\\s*$`, 'm').exec(text)?.[1];
  const [version, patchlevel, sublevel] = [v('VERSION'), v('PATCHLEVEL'), v('SUBLEVEL')];
  if (version === undefined || patchlevel === undefined) return null;
  return `${version}.${patchlevel}.${sublevel ?? 0}`;
}

/** The version of the tree's top Makefile, following a wrapper's `include` (headers trees). */
function treeVersion(dir: string): string | null {
  let file = join(dir, 'Makefile');
  for (let i = 0; i < 4 && isFile(file); i++) {
    const text = readFileSync(file, 'utf8');
    const v = makefileVersion(text);
    if (v !== null) return v;
    const inc = /^include\s+(\S+)\s*$/m.exec(text)?.[1];
    if (inc === undefined) return null;
    file = isAbsolute(inc) ? inc : join(dirname(file), inc);
  }
  return null;
}

/** UTS_RELEASE from include/generated/utsrelease.h. */
export function utsRelease(text: string): string | null {
  return /^#define UTS_RELEASE "([^"]+)"/m.exec(text)?.[1] ?? null;
}

/** A release as a kernel name: characters a directory and `qemu:NAME` take. */
export function nameFromRelease(release: string): string {
  return release.replace(/[^A-Za-z0-9._+-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
}

/** --name NAME: one path component, and not a built-in kernel's name. */
export function checkKernelName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name) || name.length > 64)
    throw new InputError(`--name ${name}: want letters, digits, '.', '_', '+' or '-' (at most 64, not starting with a symbol)`);
  if (KERNELS.some((k) => k.name === name)) throw new InputError(`--name ${name}: a built-in kernel has this name; choose another`);
  return name;
}

/** --modules DIR: an installed tree holding lib/modules/RELEASE, or that directory itself. */
function installedModules(dir: string, release: string): string {
  const d = resolve(dir);
  if (!isDir(d)) throw new InputError(`--modules ${dir}: no such directory`);
  for (const c of [join(d, 'lib', 'modules', release), join(d, 'usr', 'lib', 'modules', release), basename(d) === release ? d : null]) {
    if (c !== null && isDir(c) && (isFile(join(c, 'modules.order')) || isDir(join(c, 'kernel')))) return c;
  }
  const found = ['lib/modules', 'usr/lib/modules'].flatMap((s) => (isDir(join(d, s)) ? readdirSync(join(d, s)) : []));
  throw new InputError(`--modules ${dir}: no lib/modules/${release} (the image's release) in it${found.length ? ` (has ${found.join(', ')})` : ''}`);
}

/**
 * The file of a module the build made, found through modules.order: a build tree's lists the
 * modules (6.1.176: lib/test_kmod.ko) or, for some kbuild versions, their objects (the .ko is
 * beside the .o); an installed tree's lists kernel/lib/test_kmod.ko, perhaps compressed. Null when the build did not make it — a .config that says =m in a tree
 * built before the option was set, or a `make modules` that stopped early.
 */
export function builtModule(tree: Pick<BuildTree, 'dir' | 'modules'>, name: string): string | null {
  const base = tree.modules ?? tree.dir;
  const order = join(base, 'modules.order');
  const lines = isFile(order) ? readFileSync(order, 'utf8').split('\n').filter(Boolean) : [];
  // an installed tree without modules.order: where modules_install puts lib/'s modules
  if (lines.length === 0 && tree.modules !== null) lines.push(`kernel/lib/${name}.ko`);
  for (const l of lines) {
    const file = l.replace(/\.o$/, '.ko');
    if (basename(file).replace(/\.ko$/, '').replace(/-/g, '_') !== name) continue;
    for (const ext of tree.modules === null ? [''] : ['', '.xz', '.gz', '.zst'])
      if (isFile(join(base, file + ext))) return join(base, file + ext);
  }
  return null;
}

export interface TreeOptions {
  image?: string;
  modules?: string;
}

/** Read DIR as a built kernel tree; InputError (one line) for anything that is not one. */
export function readBuildTree(dirArg: string, o: TreeOptions = {}): BuildTree {
  const what = `--from-build ${dirArg}`;
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new InputError(`${what}: no such directory`);
  if (!isDir(dir)) throw new InputError(`${what}: not a directory`);
  if (!isFile(join(dir, 'Makefile'))) throw new InputError(`${what}: not a kernel tree (no Makefile)`);
  if (!isFile(join(dir, '.config'))) throw new InputError(`${what}: no .config (configure and build the kernel first: make defconfig && make)`);
  const kernelVersion = treeVersion(dir);
  if (kernelVersion === null) throw new InputError(`${what}: not a kernel tree (its Makefile sets no VERSION/PATCHLEVEL)`);
  const uts = join(dir, 'include', 'generated', 'utsrelease.h');
  // make modules leaves Module.symvers, which `make M=…` needs to link against the tree
  for (const f of [uts, join(dir, 'Module.symvers')])
    if (!isFile(f)) throw new InputError(`${what}: not built (no ${f.slice(dir.length + 1)}; run make and make modules)`);
  const release = utsRelease(readFileSync(uts, 'utf8'));
  if (release === null) throw new InputError(`${what}: include/generated/utsrelease.h has no UTS_RELEASE`);

  const image = o.image !== undefined ? resolve(o.image) : join(dir, 'arch', 'x86', 'boot', 'bzImage');
  if (o.image !== undefined && !isFile(image)) throw new InputError(`--image ${o.image}: no such file`);
  if (o.image === undefined && !isFile(image))
    throw new InputError(`${what}: no arch/x86/boot/bzImage (run make, or give --image FILE)`);
  const versionString = imageVersionString(readFileSync(image).subarray(0, 0x10000));
  const imageWhat = o.image !== undefined ? `--image ${o.image}` : `${what}: arch/x86/boot/bzImage`;
  if (versionString === null) throw new InputError(`${imageWhat}: not an x86 bzImage (no boot-protocol header)`);
  const imageRelease = versionString.split(' ')[0]!;
  if (imageRelease !== release)
    throw new InputError(`${imageWhat}: is release ${imageRelease}, but the tree was built as ${release} (modules built against it would not load)`);

  const modules = o.modules !== undefined ? installedModules(o.modules, release) : null;
  if (modules === null && !isFile(join(dir, 'modules.order')))
    throw new InputError(`${what}: no modules.order (run make modules, or give --modules DIR of an installed tree)`);
  const srcDir = [join(dir, 'lib'), join(dir, 'source', 'lib')].find((d) => isFile(join(d, 'test_kmod.c')) && isFile(join(d, 'test_module.c')));
  return { dir, config: readFileSync(join(dir, '.config'), 'utf8'), kernelVersion, release, image, modules, sources: srcDir ?? null };
}
