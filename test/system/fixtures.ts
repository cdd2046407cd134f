/**
 * DOC: a small module set and a simulated machine around the stub kernel, for the userspace
 * tests (not a test file itself).
 */
import type { ModuleImage } from '../../src/kernel/api.js';
import { CpuPool, Sim } from '../../src/sim/index.js';
import { ModuleFs } from '../../src/userspace/fs.js';
import { KmodIndex, type KmodHost, type KmodTimings } from '../../src/userspace/libkmod.js';
import type { ModprobeEnv } from '../../src/userspace/modprobe.js';
import type { AliasEntry, Compression, ModuleInfo, ModuleSet } from '../../src/userspace/moduleset.js';
import { StubKernel, type StubKernelOptions } from './stub-kernel.js';

export const MS = 1_000_000;

function mod(name: string, path: string, deps: string[] = [], extra: Partial<ModuleInfo> = {}): ModuleInfo {
  return { name, path, fileSize: 10_000, compression: 'none', imageSize: 9_300, signed: true, deps, softdeps: { pre: [], post: [] }, ...extra };
}

/** A tree small enough to reason about by hand. */
export function smallSet(): ModuleSet {
  const mods = [
    mod('xfs', 'kernel/fs/xfs/xfs.ko', ['libcrc32c'], { fileSize: 4_215_817, imageSize: 4_215_096 }),
    mod('libcrc32c', 'kernel/lib/libcrc32c.ko', [], { softdeps: { pre: ['crc32c'], post: [] } }),
    mod('crc32c_generic', 'kernel/crypto/crc32c_generic.ko'),
    mod('crc32c_intel', 'kernel/arch/x86/crypto/crc32c-intel.ko'),
    mod('kvm_intel', 'kernel/arch/x86/kvm/kvm-intel.ko', ['kvm', 'irqbypass']),
    mod('kvm', 'kernel/arch/x86/kvm/kvm.ko', ['irqbypass']),
    mod('irqbypass', 'kernel/virt/lib/irqbypass.ko'),
    mod('acpi_cpufreq', 'kernel/drivers/cpufreq/acpi-cpufreq.ko'),
    mod('pcc_cpufreq', 'kernel/drivers/cpufreq/pcc-cpufreq.ko'),
    mod('foo_bar', 'kernel/misc/foo-bar.ko'),
    mod('zmod', 'kernel/misc/zmod.ko.xz', [], { compression: 'xz', fileSize: 3_000, imageSize: 9_000 }),
    mod('e1000e', 'kernel/drivers/net/e1000e.ko'),
    mod('brk', 'kernel/misc/brk.ko'),
    mod('post_mod', 'kernel/misc/post_mod.ko'),
    mod('with_post', 'kernel/misc/with_post.ko', [], { softdeps: { pre: [], post: ['post_mod', 'nonexistent_softdep'] } }),
  ];
  const aliases: AliasEntry[] = [
    { pattern: 'fs-xfs', module: 'xfs' },
    { pattern: 'crypto-crc32c', module: 'crc32c_intel' },
    { pattern: 'crc32c', module: 'crc32c_intel' },
    { pattern: 'crypto-crc32c', module: 'crc32c_generic' },
    { pattern: 'crc32c', module: 'crc32c_generic' },
    { pattern: 'cpu:type:x86,ven*fam*mod*:feature:*0094*', module: 'crc32c_intel' },
    { pattern: 'cpu:type:x86,ven*fam*mod*:feature:*0085*', module: 'kvm_intel' },
    { pattern: 'cpu:type:x86,ven*fam*mod*:feature:*00E8*', module: 'acpi_cpufreq' },
    { pattern: 'acpi*:ACPI0007:*', module: 'acpi_cpufreq' },
    { pattern: 'acpi*:ACPI0007:*', module: 'pcc_cpufreq' },
    { pattern: 'pci:v00008086d000010D3sv*sd*bc*sc*i*', module: 'e1000e' },
    { pattern: 'pci:v00008086d000010D3sv*sd*bc*sc*i*', module: 'e1000e' },
    { pattern: 'bra[c-e]ket-[xy]', module: 'brk' },
  ];
  return {
    release: '6.1.0-test',
    modules: new Map(mods.map((m) => [m.name, m])),
    aliases,
    builtin: new Set(['ext4', 'unix']),
    order: mods.map((m) => m.name),
  };
}

export const TIMINGS: KmodTimings = {
  initstateReadNs: 20_000,
  fileOpenNs: 20_000,
  readBytesPerSec: 1_000_000_000,
  decompressBytesPerSec: 50_000_000,
  forkExecNs: 500_000,
};

export interface Bench {
  sim: Sim;
  cpu: CpuPool;
  kernel: StubKernel;
  fs: ModuleFs;
  index: KmodIndex;
  host: KmodHost;
  env: ModprobeEnv;
}

export interface BenchOptions {
  cpus?: number;
  kmodVersion?: number;
  kernelCompression?: Compression | null;
  kernel?: StubKernelOptions;
  initNs?: Record<string, number>;
  initResult?: Record<string, number>;
  set?: ModuleSet;
}

export function bench(o: BenchOptions = {}): Bench {
  const sim = new Sim({ seed: 1 });
  const cpu = new CpuPool(sim, o.cpus ?? 4);
  const kernel = new StubKernel(sim, cpu, o.kernel);
  const set = o.set ?? smallSet();
  const index = new KmodIndex(set);
  const fs = new ModuleFs();
  const imageFor = (info: ModuleInfo): ModuleImage => ({
    name: info.name,
    imageSize: info.imageSize,
    signed: info.signed,
    symbolDeps: info.deps,
    behaviour: { initCpuNs: o.initNs?.[info.name] ?? 1 * MS, initSleepNs: 0, initResult: o.initResult?.[info.name] ?? 0, registersFs: index.filesystemsOf(info.name) },
  });
  fs.addModuleTree(index.dirname, set.modules.values(), imageFor);
  const host: KmodHost = { sim, cpu, kernel, fs, timings: TIMINGS, kernelCompression: o.kernelCompression ?? null };
  const env: ModprobeEnv = { host, index, kmodVersion: o.kmodVersion ?? 30, startNs: 3 * MS };
  return { sim, cpu, kernel, fs, index, host, env };
}
