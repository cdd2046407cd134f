/**
 * DOC: default timings for a machine on real hardware (or a KVM guest), used by `machines capture`
 * and as the starting point of the shipped real-hardware profiles.
 *
 * These are estimates of the right order, not measurements: modprobe of a missing module takes a
 * few milliseconds on a modern server (process start, libkmod's index mmap, lookup); sysfs reads and
 * opens take microseconds; the kernel reads a cached file at GB/s, verifies a PKCS#7 signature in
 * about a millisecond and hashes at hundreds of MB/s; in-kernel xz decompression produces tens of
 * MB/s. The qemu-tcg profile, by contrast, is derived from calibration/debian-6.1.md.
 */
import type { Timings } from './schema.js';

export const DEFAULT_TIMINGS: Timings = {
  forkExecNs: 500_000,
  kthreadCreateNs: 40_000,
  modprobeStartNs: 3_000_000,
  initstateReadNs: 20_000,
  fileOpenNs: 20_000,
  kernelReadBytesPerSec: 2_000_000_000,
  decompressBytesPerSec: 60_000_000,
  sigCheckNs: 1_000_000,
  sigHashBytesPerSec: 500_000_000,
  layoutBytesPerSec: 1_000_000_000,
  relocBytesPerSec: 150_000_000,
  umhSpawnNs: 200_000,
  initDefaultNs: 1_000_000,
};
