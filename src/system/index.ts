/**
 * DOC: the assembled simulated machine — import createSystem from here.
 */
export { createSystem, kernelTimingsOf, udevTimingsOf, modulePath, TEST_MODULES, type System, type SystemOptions, type ColdplugOptions } from './system.js';
