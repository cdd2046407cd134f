/**
 * DOC: the kmod.sh port — import everything from here.
 */
export * from './tests.js';
export * from './runner.js';
export * from './output.js';
export * from './target.js';
export * from './stop.js';
