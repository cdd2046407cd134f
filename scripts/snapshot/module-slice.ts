/**
 * DOC: write data/modules/<snapshot>.slice.json — each shipped snapshot's slice for kmod.sh's
 * default names and the shipped machine profiles' coldplug names (src/system/module-slice.ts says
 * what a slice is and why).
 *
 *   npm run build && node dist/scripts/snapshot/module-slice.js
 *
 * Run it after regenerating a snapshot, or changing a machine profile or the udev rules;
 * test/system/module-slice.test.ts fails until it is (a slice of other snapshot bytes is never
 * used; one missing a name still answers it, from the full index).
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { KMOD_SH_NAMES, makeModuleSlice, sliceFile, snapshotChecksum } from '../../src/system/module-slice.js';
import { loadSnapshot, SNAPSHOT_NAMES } from '../../src/userspace/depmod/snapshot.js';
import { coldplugDevices, createdDevices } from '../../src/userspace/machines/coldplug.js';
import { listMachineNames, loadMachine } from '../../src/userspace/machines/load.js';
import { cpuModalias } from '../../src/userspace/machines/modalias.js';
import { udevRulesFor } from '../../src/userspace/udev-rules/index.js';

/**
 * The names a slice is made for: kmod.sh's, then each shipped machine profile's (sorted by name)
 * modaliases as its coldplug sends them (at one CPU: every CPU sends the same one) and the names
 * its udev rules load, each once, in that order.
 */
export function sliceNames(): string[] {
  const names = new Set(KMOD_SH_NAMES);
  for (const m of listMachineNames()) {
    const machine = loadMachine(m, { cpus: 1 });
    names.add(cpuModalias(machine.cpu));
    for (const ev of coldplugDevices(machine, 1)) names.add(ev.modalias);
    for (const evs of createdDevices(machine).values()) for (const ev of evs) names.add(ev.modalias);
    for (const r of udevRulesFor(machine.udev.systemdVersion).rules) for (const n of r.load) names.add(n);
  }
  return [...names];
}

/** the slice file's text (what the test compares with the shipped file) */
export function sliceText(snapshot: string): string {
  const slice = makeModuleSlice(loadSnapshot(snapshot), sliceNames(), { name: snapshot, ...snapshotChecksum(snapshot) });
  return `${JSON.stringify(slice, null, 1)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  for (const name of SNAPSHOT_NAMES) {
    fs.writeFileSync(sliceFile(name), sliceText(name));
    process.stdout.write(`${sliceFile(name)}\n`);
  }
}
