/**
 * DOC: the assembled simulated machine — import createSystem from here (createCoreSystem: the
 * same machine without udevd, for a caller that never coldplugs).
 */
export { createCoreSystem, kernelTimingsOf, modulePath, TEST_MODULES, type CoreSystem, type SystemOptions } from './core.js';
export { createSystem, udevTimingsOf, type System, type ColdplugOptions } from './system.js';
