/**
 * DOC: machine profiles: schema, loading, the cpu modalias, the coldplug uevent list, capture.
 */
export { machineSchemas, X86_VENDORS, type MachineProfile, type MachineProfileInput, type Timings } from './schema.js';
export { CPU_FEATURES, featureNumber } from './cpufeatures.js';
export { cpuModalias, cpuFeatureNumbers, parseCpuModalias } from './modalias.js';
export { loadMachine, listMachineNames, parseMachine, forCpus, initDurationNs, initResult, machinesDir, type Machine } from './load.js';
export { coldplugDevices, type Uevent } from './coldplug.js';
export { captureHost, writeProfile, walkModaliases } from './capture.js';
export { DEFAULT_TIMINGS } from './defaults.js';
