/**
 * DOC: the simulated kernel's public surface — import from here.
 */
export * from './api.js';
export * from './errno.js';
export { createKernel, Kernel, DEFAULT_TIMINGS, type KernelOptions } from './kernel.js';
export type { KernelTimings, KernelConfig } from './internal.js';
export * from './presets.js';
export { policyOfModule, type SameNamePolicy, type SameNameCheckContext, type SameNameReason, type ModuleStateName, type ModuleRecord, type LoadFileContext } from './policy.js';
export { ModuleStats, type DupReason } from './stats.js';
export { KernelMemory, PAGE_SIZE, DEFAULT_MODULE_AREA_BYTES, DEFAULT_VMALLOC_BYTES, moduleLayout, estimateSections, pageAlign, type Allocation, type AllocKind, type AreaName, type MemoryOptions } from './memory.js';
export { Module, ModuleLoader, type ModuleState } from './main.js';
export { timestamp } from './printk.js';
export { MODPROBE_ENVP } from './kmod.js';
