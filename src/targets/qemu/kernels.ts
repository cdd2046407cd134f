/**
 * DOC: the real kernels `kmodlab kernel prepare` knows, and where its cache lives.
 *
 * A kernel is named after the distribution release it comes from. Its exact version is not
 * pinned: it is whatever Debian's suite carries today (the calibration in shared/calibration was
 * taken on debian-6.1 = 6.1.176-1, linux-image-6.1.0-50-amd64). The prepared result records the
 * versions, and the cache stamp is keyed by them, so a new point release is a new preparation.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../../errors.js';

export interface KernelSpec {
  /** e.g. "debian-6.1" */
  name: string;
  /** the Debian suite whose `linux-image-amd64` meta package picks the kernel */
  suite: string;
  /** "6.1": the linux-source-X package and its tarball name */
  sourceSeries: string;
  /** sim preset the issue compares against (for reports) */
  simPreset: string;
  /** modules in /lib/modules are xz-compressed (.ko.xz) */
  compressedModules: boolean;
}

export const KERNELS: readonly KernelSpec[] = [
  { name: 'debian-6.1', suite: 'bookworm', sourceSeries: '6.1', simPreset: 'v6.1-stable', compressedModules: false },
  {
    name: 'debian-6.12',
    suite: 'bookworm-backports',
    sourceSeries: '6.12',
    simPreset: 'v6.11',
    compressedModules: true,
  },
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
