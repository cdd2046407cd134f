/**
 * DOC: the engine's public surface — import everything from here.
 */
export * from './engine.js';
export { EventHeap } from './heap.js';
export { EventLog, type LogRecord, type LogListener } from './log.js';
export { Rng, RngStreams, streamSeed } from './rng.js';
export { WaitQueue } from './waitqueue.js';
export { Mutex, type MutexOptions } from './mutex.js';
export { Semaphore } from './semaphore.js';
export { SlotCounter } from './slots.js';
export { Completion } from './completion.js';
export { CpuPool, type CpuPlacement } from './cpu.js';
