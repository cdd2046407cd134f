/**
 * Test helper (not a test): kernel-tree-shaped directories for the --from-build input checks.
 * They carry a real .config (test/fixtures/kconfig) and a bzImage setup header laid out as the
 * x86 boot protocol says (HdrS, protocol version, kernel_version pointer); they are not kernels
 * and nothing boots them: the end-to-end path runs on real trees (from-build-qemu.test.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/kconfig/', import.meta.url));
export const kconfig = (f: string): string => gunzipSync(readFileSync(FIXTURES + f)).toString('utf8');
export const DEFCONFIG_CONFIG = 'x86_64_defconfig-kvm_guest-kmod_fragment-6.1.176.config.gz';
export const DEBIAN_CONFIG = 'debian-6.1.0-50-amd64.config.gz';

/** The first 16 KiB of a bzImage whose setup header names this kernel_version string. */
export function bzImageHeader(version: string): Buffer {
  const b = Buffer.alloc(0x4000);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x020f, 0x206);
  b.writeUInt16LE(0x3000 - 0x200, 0x20e);
  b.write(`${version}\0`, 0x3000, 'latin1');
  return b;
}

export interface TreeShape {
  config?: string | null;
  uts?: string | null;
  image?: string | null;
  symvers?: boolean;
  order?: boolean;
  lib?: boolean;
  makefile?: string;
  /** the test modules `make modules` built (lib/NAME.ko, in modules.order as 6.1.176's kbuild writes it); default: those the .config sets =m */
  built?: string[];
}

/** DIR laid out like a built tree, with the parts the options leave out missing. */
export function makeTree(dir: string, s: TreeShape = {}): string {
  mkdirSync(path.join(dir, 'include', 'generated'), { recursive: true });
  writeFileSync(path.join(dir, 'Makefile'), s.makefile ?? '# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 176\nEXTRAVERSION =\nNAME = Curry Ramen\n');
  const config = s.config === undefined ? kconfig(DEFCONFIG_CONFIG) : s.config;
  if (config !== null) writeFileSync(path.join(dir, '.config'), config);
  const uts = s.uts === undefined ? '6.1.176' : s.uts;
  if (uts !== null) writeFileSync(path.join(dir, 'include', 'generated', 'utsrelease.h'), `#define UTS_RELEASE "${uts}"\n`);
  if (s.symvers !== false) writeFileSync(path.join(dir, 'Module.symvers'), '');
  const built = s.built ?? [['test_kmod', 'CONFIG_TEST_KMOD'], ['test_module', 'CONFIG_TEST_LKM']]
    .filter(([, o]) => config !== null && new RegExp(`^${o}=m$`, 'm').test(config)).map(([m]) => m!);
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  for (const m of built) writeFileSync(path.join(dir, 'lib', `${m}.ko`), '');
  if (s.order !== false) writeFileSync(path.join(dir, 'modules.order'), ['fs/xfs/xfs.ko', ...built.map((m) => `lib/${m}.ko`)].map((l) => `${l}\n`).join(''));
  const image = s.image === undefined ? '6.1.176 (root@kmodlab) #1 SMP PREEMPT_DYNAMIC' : s.image;
  if (image !== null) {
    mkdirSync(path.join(dir, 'arch', 'x86', 'boot'), { recursive: true });
    writeFileSync(path.join(dir, 'arch', 'x86', 'boot', 'bzImage'), bzImageHeader(image));
  }
  if (s.lib !== false) {
    for (const f of ['test_kmod.c', 'test_module.c']) writeFileSync(path.join(dir, 'lib', f), '');
  }
  return dir;
}
