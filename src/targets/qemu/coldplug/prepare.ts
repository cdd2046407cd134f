/**
 * DOC: the coldplug initramfs of a prepared kernel — what `storm --target qemu:NAME` boots.
 *
 * A distribution boot coldplugs with the suite's own udev and the kernel's whole module tree,
 * so this image carries exactly that: the suite's `udev` and `kmod` packages with everything apt
 * says they need (unpacked from the suite's packages, never the host's), busybox for the shell
 * around them, scripts/coldplug/init, and all of /lib/modules/<release> with its modules.* files
 * (depmod already ran on it when the kernel was prepared). It is two newc archives back to back,
 * uncompressed (the kernel unpacks concatenated archives; 400 MB of modules need no gzip pass):
 * the userspace, then the module tree hard-linked from the prepared kernel's root.
 *
 * The tree lives in the initramfs (RAM) rather than on a disk: reading a .ko costs no disk I/O
 * here, which a real boot from disk pays (stated in the README). The image is rebuilt when the
 * kernel's stamp, the suite's package versions or the init script change.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../../errors.js';
import { resolveKernelSpec } from '../user-kernels.js';
import { aptClosure, aptDownload, aptUpdate, repoRoot, run, sh, unpackTree, type PreparedKernel } from '../prepare.js';

/** Bump when the image's layout changes. */
const COLDPLUG_FORMAT = 1;

/** The suite's packages a coldplug needs; apt adds their dependencies. */
const COLDPLUG_PACKAGES = ['udev', 'kmod'];

export interface ColdplugImage {
  initramfs: string;
  /** the suite's udev and kmod versions, e.g. { udev: "252.39-1~deb12u1", kmod: "30+20221128-1" } */
  packages: Record<string, string>;
  /** bytes of the image */
  bytes: number;
  stamp: string;
}

/** The module tree of a prepared kernel: lib/modules/REL, or usr/lib/modules/REL (merged /usr). */
export function moduleTree(prepared: PreparedKernel): string {
  for (const d of [join(prepared.dir, 'root', 'lib', 'modules', prepared.release), join(prepared.dir, 'root', 'usr', 'lib', 'modules', prepared.release)])
    if (existsSync(join(d, 'modules.dep'))) return realpathSync(d);
  throw new InputError(`${prepared.name}: no module tree with modules.dep in ${join(prepared.dir, 'root')}; run \`kmodlab kernel prepare ${prepared.name} --refresh\``);
}

/** Build (or reuse) the coldplug image of a prepared kernel. */
export async function prepareColdplug(prepared: PreparedKernel, cache: string, log: (s: string) => void): Promise<ColdplugImage> {
  const spec = resolveKernelSpec(prepared.name, cache);
  const suite = spec.userspaceSuite ?? spec.suite;
  const dir = join(prepared.dir, 'coldplug');
  const tree = moduleTree(prepared);
  const initScript = readFileSync(join(repoRoot(), 'scripts', 'coldplug', 'init'));
  await aptUpdate(cache, suite, false, log);
  const pkgs = await aptClosure(cache, suite, COLDPLUG_PACKAGES);
  const packages: Record<string, string> = {};
  for (const p of pkgs) packages[p.name] = p.version;
  const h = createHash('sha256');
  h.update(JSON.stringify({ COLDPLUG_FORMAT, kernel: prepared.stamp, packages }));
  h.update(initScript);
  const stamp = h.digest('hex').slice(0, 16);
  const initramfs = join(dir, 'initramfs.cpio');
  const stampFile = join(dir, 'stamp');
  if (existsSync(initramfs) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    return { initramfs, packages, bytes: fileBytes(initramfs), stamp };
  }
  log(`coldplug image: ${suite}'s udev ${packages.udev ?? '?'} and kmod ${packages.kmod ?? '?'} with the whole module tree`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const files = await aptDownload(cache, suite, pkgs, log);
  const stage = join(dir, 'stage');
  await unpackTree(stage, [...files.values()]);
  // busybox for the shell, mount, find and poweroff; the suite's own tools are never replaced
  await copyFile('/bin/busybox', join(stage, 'usr', 'bin', 'busybox'));
  await chmod(join(stage, 'usr', 'bin', 'busybox'), 0o755);
  const applets = (await run('/bin/busybox', ['--list'])).stdout.split('\n').filter(Boolean);
  const have = new Set([...(await readdir(join(stage, 'usr', 'bin'))), ...(await readdir(join(stage, 'usr', 'sbin')))]);
  for (const a of applets) if (!have.has(a)) await symlink('busybox', join(stage, 'usr', 'bin', a));
  for (const d of ['proc', 'sys', 'dev', 'run', 'tmp', 'etc'])
    await mkdir(join(stage, d), { recursive: true });
  // systemd-udevd is udevadm under another name (argv[0] decides); make sure the link exists
  const udevd = join(stage, 'usr', 'lib', 'systemd', 'systemd-udevd');
  if (!lexists(udevd)) throw new Error(`${suite}'s udev package has no systemd-udevd`);
  await writeFile(join(stage, 'init'), initScript);
  await chmod(join(stage, 'init'), 0o755);
  // the module tree under usr/lib/modules (lib is a link to usr/lib), hard-linked, not copied
  const mods = join(dir, 'modroot');
  await mkdir(join(mods, 'usr', 'lib', 'modules'), { recursive: true });
  await run('cp', ['-al', tree, join(mods, 'usr', 'lib', 'modules', prepared.release)]);
  await rm(join(mods, 'usr', 'lib', 'modules', prepared.release, 'build'), { force: true });
  await rm(join(mods, 'usr', 'lib', 'modules', prepared.release, 'source'), { force: true });
  const cpio = 'find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet';
  await sh(`${cpio} > "$OUT"`, { OUT: initramfs }, stage);
  await sh(`${cpio} >> "$OUT"`, { OUT: initramfs }, mods);
  await rm(mods, { recursive: true, force: true });
  await writeFile(stampFile, stamp);
  const bytes = fileBytes(initramfs);
  log(`coldplug image: ${(bytes / 2 ** 20).toFixed(0)} MiB`);
  return { initramfs, packages, bytes, stamp };
}

function fileBytes(f: string): number {
  return statSync(f).size;
}

/** exists without following a symlink (systemd-udevd links to /bin/udevadm, absolute) */
function lexists(f: string): boolean {
  try {
    lstatSync(f);
    return true;
  } catch {
    return false;
  }
}
