/**
 * DOC: the real kernels `kmodlab kernel prepare` knows, how the simulator models each (the one
 * place --compare's sim side is described), and where the cache lives.
 *
 * A kernel is named after the distribution release it comes from. Its exact version is not
 * pinned: it is whatever Debian's suite carries today (the calibration in shared/calibration was
 * taken on debian-6.1 = 6.1.176-1, linux-image-6.1.0-50-amd64). The prepared result records the
 * versions, and the cache stamp is keyed by them, so a new point release is a new preparation.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../../errors.js';

/**
 * How the simulator models a real kernel: what `--compare` runs beside it (the selftest's and the
 * duplicate-load storm's), with the guest's vCPU count.
 */
export interface SimKernelModel {
  /** kernel preset */
  preset: string;
  /** machine profile */
  machine: string;
  /** module-set snapshot: its modules' compression decides what modprobe does */
  snapshot: string;
  /** CONFIG_MODULE_DECOMPRESS: the algorithm, or null when the kernel cannot decompress */
  moduleCompression: 'xz' | null;
  /** the guest's kmod */
  kmodVersion: number;
}

export interface KernelSpec {
  /** e.g. "debian-6.1" */
  name: string;
  /** the Debian suite whose `linux-image-amd64` meta package picks the kernel */
  suite: string;
  /**
   * the suite the guest's userspace (kmod, capsh, libc) comes from, when not the kernel's own:
   * a backports kernel runs on its base release
   */
  userspaceSuite?: string;
  /**
   * "6.1": the linux-source-X package and its tarball name; null for a suite whose kernel moves
   * between series (sid): then the series of the release the suite carries today
   */
  sourceSeries: string | null;
  /** modules in /lib/modules are xz-compressed (.ko.xz) */
  compressedModules: boolean;
  /**
   * what builds the out-of-tree test modules: the host's gcc (the kernel was built with the
   * host's gcc-12), or the suite's own compiler, unpacked with the suite's libc, binutils and
   * linux-kbuild into a private build root and run there with chroot
   */
  toolchain: 'host' | 'suite';
  /** the kernel's sim model */
  sim: SimKernelModel;
  /** sim preset the issue compares against (for reports): sim.preset */
  simPreset: string;
}

/** A kernel's description; simPreset is read off its sim model, so the preset is written once. */
function described(k: Omit<KernelSpec, 'simPreset'>): KernelSpec {
  return { ...k, simPreset: k.sim.preset };
}

/**
 * Debian 6.1 is built without CONFIG_MODULE_DECOMPRESS (its modules ship uncompressed), although
 * upstream 6.1 has in-kernel decompression: the preset says what the release can do, the
 * config what Debian turned on.
 */
export const KERNELS: readonly KernelSpec[] = [
  described({
    name: 'debian-6.1',
    suite: 'bookworm',
    sourceSeries: '6.1',
    compressedModules: false,
    toolchain: 'host',
    sim: { preset: 'v6.1-stable', machine: 'qemu-tcg', snapshot: 'debian-6.1', moduleCompression: null, kmodVersion: 30 },
  }),
  described({
    name: 'debian-6.12',
    suite: 'bookworm-backports',
    userspaceSuite: 'bookworm',
    sourceSeries: '6.12',
    compressedModules: true,
    toolchain: 'host',
    sim: { preset: 'v6.11', machine: 'qemu-tcg', snapshot: 'debian-6.12', moduleCompression: 'xz', kmodVersion: 30 },
  }),
  // Built with gcc-10; its linux-kbuild-5.10 and modules are bullseye's. Debian 5.10 ships its
  // modules uncompressed and has no CONFIG_MODULE_DECOMPRESS (that came with v5.17). The era
  // preset v5.7 retries failing same-name loads (K6); the real 5.10.223 answers 1×ENODEV +
  // (N−1)×EBUSY — K12 is backported (data/calibration/debian-5.10-storm.md): v5.10-stable.
  described({
    name: 'debian-5.10',
    suite: 'bullseye',
    sourceSeries: '5.10',
    compressedModules: false,
    toolchain: 'suite',
    sim: { preset: 'v5.10-stable', machine: 'qemu-tcg', snapshot: 'debian-6.1', moduleCompression: null, kmodVersion: 28 },
  }),
  // trixie's 6.12 (gcc-14) with trixie's kmod 34, which hands a .ko.xz to finit_module with
  // MODULE_INIT_COMPRESSED_FILE: the kernel decompresses.
  described({
    name: 'debian-trixie',
    suite: 'trixie',
    sourceSeries: '6.12',
    compressedModules: true,
    toolchain: 'suite',
    sim: { preset: 'v6.11', machine: 'qemu-tcg', snapshot: 'debian-6.12', moduleCompression: 'xz', kmodVersion: 34 },
  }),
  // sid's newest (7.x, gcc-16) with sid's kmod 34. Its 7.2.13 source has the two changes after
  // v6.11 (data/calibration/debian-sid-source.md), so it is modelled by v7.1 — named, not
  // `newest`, so the model of this kernel does not move when a newer preset is added.
  described({
    name: 'debian-sid',
    suite: 'sid',
    sourceSeries: null,
    compressedModules: true,
    toolchain: 'suite',
    sim: { preset: 'v7.1', machine: 'qemu-tcg', snapshot: 'debian-6.12', moduleCompression: 'xz', kmodVersion: 34 },
  }),
];

export function kernelSpec(name: string): KernelSpec {
  const k = KERNELS.find((s) => s.name === name);
  if (!k) throw new InputError(`kernel "${name}": unknown (known: ${KERNELS.map((s) => s.name).join(', ')})`);
  return k;
}

/** --cache DIR, else $KMODLAB_CACHE, else $XDG_CACHE_HOME/kmodlab, else ~/.cache/kmodlab. */
export function cacheDir(explicit?: string): string {
  if (explicit) return resolve(explicit);
  const env = process.env.KMODLAB_CACHE;
  if (env) return resolve(env);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'kmodlab');
}

/** The directory holding one prepared kernel. */
export function kernelDir(cache: string, name: string): string {
  return join(cache, 'kernels', name);
}
