/**
 * DOC: the test_kmod driver model — import everything from here.
 */
export * from './device.js';
export * from './module.js';
export { kstrtoint, kstrtoll, kstrtouint, kstrtoull, cstring, type KstrtoResult } from './kstrto.js';
