/**
 * A sweep's main thread checks each preset's inputs without assembling a machine, and takes a
 * shipped snapshot's hash from its recorded checksum without reading it into a module set
 * (experiments/storm.ts readInputs, depmod/snapshot.ts shippedSnapshotHash): the hashes are the
 * ones the loaded set gives, and anything else than a shipped file with its recorded bytes is
 * loaded (and checked) as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSnapshot, recordedValueHash, shippedSnapshotHash, SNAPSHOT_NAMES } from '../../src/userspace/depmod/snapshot.js';
import { dataPath } from '../../src/userspace/depmod/paths.js';
import { checkStormInputs } from '../../src/experiments/storm.js';
import { moduleSetHash } from '../../src/experiments/storm-identity.js';

test('a shipped snapshot: the hash from its checksum is the one its loaded set gives', () => {
  for (const name of SNAPSHOT_NAMES) {
    const before = shippedSnapshotHash(name); // read before the set is loaded (not from the cache)
    assert.match(before ?? '', /^[0-9a-f]{64}$/, name);
    const set = loadSnapshot(name);
    assert.equal(before, recordedValueHash(set), name);
    assert.equal(shippedSnapshotHash(name), before, `${name}, once loaded`);
  }
});

test('not a shipped file with its recorded bytes: no hash from the checksum, the set is loaded instead', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-inputs-'));
  try {
    const copy = path.join(tmp, 'copy.json.gz');
    copyFileSync(dataPath('modules', 'debian-6.1.json.gz'), copy);
    assert.equal(shippedSnapshotHash(copy), undefined, 'a copy outside data/');
    assert.equal(shippedSnapshotHash('no-such-snapshot'), undefined, 'an unknown name');
    assert.equal(shippedSnapshotHash(path.join(tmp, 'missing.json.gz')), undefined, 'a missing file');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('checkStormInputs: the modules part is the loaded set’s hash, for a shipped snapshot and for a copy of it', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-inputs-'));
  try {
    const copy = path.join(tmp, 'copy.json.gz');
    copyFileSync(dataPath('modules', 'debian-6.12.json.gz'), copy);
    const shipped = await checkStormInputs([{ machine: 'kvm-guest', cpus: 4, kernel: 'v6.4', seed: 1, snapshot: 'debian-6.12' }]);
    const copied = await checkStormInputs([{ machine: 'kvm-guest', cpus: 4, kernel: 'v6.4', seed: 1, snapshot: copy }]);
    assert.equal(shipped.get('v6.4')!.modules, moduleSetHash(loadSnapshot('debian-6.12')));
    assert.equal(copied.get('v6.4')!.modules, shipped.get('v6.4')!.modules, 'the same set, whichever way it was read');
    assert.deepEqual(copied.get('v6.4'), shipped.get('v6.4'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
