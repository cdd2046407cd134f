/**
 * DOC: kmod releases — the only place where kmod versions differ, like the kernel presets.
 *
 * libkmod's insert path changed in a few dated steps that matter to the loader (spec §8.1):
 * kmod 6 (7cd664f, "don't treat 'coming' as in-kernel") lets the kernel sort out concurrent
 * loads instead of skipping a COMING module; kmod 20 (fd44a98) reads a /sys/module/NAME directory
 * without initstate as COMING, where kmod ≤ 19 took it for BUILTIN and reported success while the
 * module was still loading (the bug kmod.sh's test_reqs refuses); kmod 31 hands a compressed
 * module the kernel can decompress itself to finit_module with MODULE_INIT_COMPRESSED_FILE. One
 * row per such release, with the flags it has; a version number is resolved to its row once
 * (kmodRelease) and the rest of the code reads flags, never numbers.
 */

export interface KmodRelease {
  /** the first kmod version with this behaviour */
  version: number;
  description: string;
  /** module_is_inkernel counts a COMING module as loaded (kmod < 6) */
  comingIsInKernel: boolean;
  /** kmod_module_get_initstate: a module directory without initstate is BUILTIN (kmod ≤ 19) */
  missingInitstateIsBuiltin: boolean;
  /** kmod_module_insert_module: finit_module with the compressed-file flag when the kernel
   *  decompresses the file's algorithm (kmod ≥ 31) */
  finitCompressedFile: boolean;
}

/** The releases where the modelled behaviour changes, oldest first. */
export const KMOD_RELEASES: readonly KmodRelease[] = [
  {
    version: 1,
    description: 'kmod 1-5: a COMING module counts as in the kernel, no initstate reads as BUILTIN',
    comingIsInKernel: true,
    missingInitstateIsBuiltin: true,
    finitCompressedFile: false,
  },
  {
    version: 6,
    description: 'kmod 6 (7cd664f): COMING is not in the kernel, let the kernel synchronize the calls',
    comingIsInKernel: false,
    missingInitstateIsBuiltin: true,
    finitCompressedFile: false,
  },
  {
    version: 20,
    description: 'kmod 20 (fd44a98): a module directory without initstate is COMING, not BUILTIN',
    comingIsInKernel: false,
    missingInitstateIsBuiltin: false,
    finitCompressedFile: false,
  },
  {
    version: 31,
    description: 'kmod 31: compressed modules go to finit_module with MODULE_INIT_COMPRESSED_FILE when the kernel decompresses them',
    comingIsInKernel: false,
    missingInitstateIsBuiltin: false,
    finitCompressedFile: true,
  },
];

/** The row of a kmod version (the newest release at or below it; anything older: the first). */
export function kmodRelease(version: number): KmodRelease {
  return KMOD_RELEASES.findLast((r) => r.version <= version) ?? KMOD_RELEASES[0]!;
}
