/**
 * DOC: the qemu target's public face — what `kmodlab selftest --target qemu:NAME` and
 * `kmodlab storm --target qemu:NAME` import.
 *
 * `createQemuTarget(spec, opts)` boots the prepared kernel and returns the selftest's Target
 * (QemuTarget). `runQemuSelftest` runs the kmod.sh port on it and keeps the four session
 * outcomes apart (selftest.ts). Everything else is re-exported for the storm and the CI smoke.
 */
import { QemuTarget, type QemuTargetOptions } from './target.js';

export { QemuTarget, parseQemuTargetName, TEST_KMOD_DIR, type QemuTargetOptions } from './target.js';
export { runQemuSelftest, type QemuSelftestOptions, type QemuSelftestIo, type QemuSelftestRun, type SelftestReport, type SelftestTestRecord } from './selftest.js';
export { classifySession, exitCodeFor, EXIT_BOOT_FAILURE, EXIT_FAIL, EXIT_KERNEL_PANIC, EXIT_PASS, EXIT_TIMEOUT } from './outcome.js';
export type { SessionOutcome, SessionState } from './outcome.js';
export { GuestSessionError } from './session.js';
export { runGuestStorm, guestDupStormTarget, type GuestStormResult } from './storm.js';
export { kernelSpec, KERNELS, type KernelSpec, type SimKernelModel } from './kernels.js';
export { readPrepared, type PreparedKernel } from './prepare.js';
export { resolveKernelSpec, fromBuildKernels, type FromBuildPrepared } from './user-kernels.js';

/** Boot the prepared kernel named by SPEC ("qemu:debian-6.1" or "debian-6.1"). */
export async function createQemuTarget(spec: string, opts: QemuTargetOptions = {}): Promise<QemuTarget> {
  return QemuTarget.open(spec, opts);
}
