/**
 * DOC: write data/modules/<snapshot>.slice.json — each shipped snapshot's slice for kmod.sh's
 * default names (src/system/module-slice.ts says what a slice is and why).
 *
 *   npm run build && node dist/scripts/snapshot/module-slice.js
 *
 * Run it after regenerating a snapshot; test/system/module-slice.test.ts fails until it is (a
 * stale slice is never used: it records the snapshot bytes it was made from).
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { KMOD_SH_NAMES, makeModuleSlice, sliceFile, snapshotChecksum } from '../../src/system/module-slice.js';
import { loadSnapshot, SNAPSHOT_NAMES } from '../../src/userspace/depmod/snapshot.js';

/** the slice file's text (what the test compares with the shipped file) */
export function sliceText(snapshot: string): string {
  const slice = makeModuleSlice(loadSnapshot(snapshot), KMOD_SH_NAMES, { name: snapshot, ...snapshotChecksum(snapshot) });
  return `${JSON.stringify(slice, null, 1)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  for (const name of SNAPSHOT_NAMES) {
    fs.writeFileSync(sliceFile(name), sliceText(name));
    process.stdout.write(`${sliceFile(name)}\n`);
  }
}
