/**
 * DOC: kernels a user prepared from their own build tree, beside the built-in Debian ones.
 *
 * `kernel prepare --from-build DIR` writes CACHE/kernels/NAME/prepared.json with `origin:
 * "build"` and the sim model it chose. Everything that takes `qemu:NAME` (the selftest, the
 * storms, --compare, `kernel boot`, `kernel list`) resolves a name here: a built-in name is
 * its entry in KERNELS, exactly as before; any other name is a from-build kernel when its
 * prepared.json says so. The built-in list itself never changes, so a cache cannot shadow it
 * (a from-build kernel may not take a built-in name).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { cacheDir, KERNELS, type KernelSpec, type SimKernelModel } from './kernels.js';
import { readPrepared, type PreparedKernel } from './prepare.js';
import type { ConfigCheck } from './from-build-config.js';

/** What a from-build kernel's prepared.json adds to a Debian one's. */
export interface FromBuildRecord {
  origin: 'build';
  /** the sim model --compare runs beside it */
  sim: SimKernelModel;
  build: {
    /** the build tree (--from-build DIR) */
    tree: string;
    /** the kernel image taken (arch/x86/boot/bzImage or --image) */
    image: string;
    /** --modules DIR, or null when `make modules_install` installed them from the tree */
    modules: string | null;
    /** the top Makefile's VERSION.PATCHLEVEL.SUBLEVEL */
    kernelVersion: string;
    /** how the preset was chosen (by version, or --preset) */
    presetReason: string;
    /** the guest userspace's Debian suite (--userspace) */
    userspaceSuite: string;
    config: Omit<ConfigCheck, 'errors'>;
  };
}

export type FromBuildPrepared = PreparedKernel & FromBuildRecord;

export function isFromBuild(p: PreparedKernel): p is FromBuildPrepared {
  return (p as Partial<FromBuildRecord>).origin === 'build';
}

/** The spec of a from-build kernel, from its record: the same shape as a built-in one's. */
function specOf(p: FromBuildPrepared): KernelSpec {
  const series = /^(\d+\.\d+)/.exec(p.build.kernelVersion)?.[1] ?? null;
  return {
    name: p.name,
    suite: p.suite,
    sourceSeries: series,
    compressedModules: p.compressedModules,
    toolchain: 'host',
    sim: p.sim,
    simPreset: p.sim.preset,
  };
}

/** The from-build kernel NAME in the cache, or null. */
export function fromBuildKernel(name: string, cache?: string): FromBuildPrepared | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name)) return null;
  const p = readPrepared(name, cache);
  return p !== null && isFromBuild(p) ? p : null;
}

/** A qemu kernel by name: built-in, else prepared from a build tree in the cache. */
export function resolveKernelSpec(name: string, cache?: string): KernelSpec {
  const k = KERNELS.find((s) => s.name === name);
  if (k) return k;
  const p = fromBuildKernel(name, cache);
  if (p) return specOf(p);
  throw new InputError(
    `kernel "${name}": unknown (known: ${KERNELS.map((s) => s.name).join(', ')}, or a name from \`kmodlab kernel prepare --from-build DIR\`)`,
  );
}

/** The from-build kernels prepared in the cache, by name. */
export function fromBuildKernels(cache?: string): FromBuildPrepared[] {
  const dir = join(cacheDir(cache), 'kernels');
  if (!existsSync(dir)) return [];
  const out: FromBuildPrepared[] = [];
  for (const n of readdirSync(dir).sort()) {
    if (KERNELS.some((k) => k.name === n)) continue;
    try {
      const p = fromBuildKernel(n, cache);
      if (p) out.push(p);
    } catch {
      // a half-written or foreign prepared.json is not a kernel to list
    }
  }
  return out;
}
