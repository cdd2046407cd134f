/**
 * The shipped data files are read without zod when their bytes are the recorded ones
 * (src/userspace/shipped.ts). That is only right if the record is current and the value read
 * that way is the value validation gives, to the key order: both are checked here, file by file,
 * against the zod path every user file takes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { computeShippedManifest, manifestText } from '../../scripts/shipped-checksums.js';
import { dataPath } from '../../src/userspace/depmod/paths.js';
import { hashValue } from '../../src/results/identity.js';
import { fromSnapshotJson, readSnapshotFile, recordedValueHash } from '../../src/userspace/depmod/snapshot.js';
import { forCpus, listMachineNames, loadMachine, parseMachine } from '../../src/userspace/machines/load.js';
import { knownShipped, SHIPPED_MANIFEST, shippedName } from '../../src/userspace/shipped.js';
import { parseUdevRules, udevRulesFor } from '../../src/userspace/udev-rules/data.js';

const filesIn = (dir: string, suffix: string): string[] =>
  fs.readdirSync(dataPath(dir)).filter((f) => f.endsWith(suffix)).sort().map((f) => path.join(dataPath(dir), f));

test('data/shipped-checksums.json is the record of the files shipped now (npm run shipped:update rewrites it)', () => {
  const now = manifestText(computeShippedManifest());
  assert.equal(fs.readFileSync(dataPath(SHIPPED_MANIFEST), 'utf8'), now, `${SHIPPED_MANIFEST} is out of date: run npm run shipped:update`);
});

test('every shipped machine profile, snapshot and udev rules set is known by its bytes', () => {
  const files = [...filesIn('machines', '.json'), ...filesIn('modules', '.json.gz'), ...filesIn('udev-rules', '.json')];
  assert.ok(files.length >= 9, `the shipped files (${files.length})`);
  for (const f of files) assert.notEqual(knownShipped(f, fs.readFileSync(f)), null, f);
});

test('a shipped profile read by checksum is the profile zod gives, key order included, and a fresh copy', () => {
  for (const name of listMachineNames()) {
    const file = path.join(dataPath('machines'), `${name}.json`);
    const zod = parseMachine(JSON.parse(fs.readFileSync(file, 'utf8')), file);
    for (const cpus of [undefined, 1, 255, 8192]) {
      const fast = loadMachine(name, cpus === undefined ? {} : { cpus });
      const slow = forCpus(zod, cpus);
      assert.deepStrictEqual(fast, slow, `${name} at ${cpus ?? 'its'} CPUs`);
      assert.equal(JSON.stringify(fast), JSON.stringify(slow), `${name}: the same JSON, key for key`);
    }
    const a = loadMachine(name);
    a.devices.length = 0;
    a.cpu.features.push('changed');
    assert.deepStrictEqual(loadMachine(name), forCpus(zod), `${name}: a caller's change to its copy is not seen by the next load`);
  }
});

test('a shipped snapshot read by checksum is the module set zod validation gives, with its identity hash recorded', () => {
  for (const file of filesIn('modules', '.json.gz')) {
    const zod = fromSnapshotJson(JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8')), file);
    const fast = readSnapshotFile(file);
    assert.deepStrictEqual(fast, zod, file);
    // the hash a run identity takes of it, recorded with the checksum, is the one it would compute
    assert.equal(recordedValueHash(fast), hashValue(zod), `${file}: the recorded module-set hash`);
    assert.equal(recordedValueHash(zod), undefined, 'a set read through validation has no recorded hash');
  }
});

test('a shipped udev rules set read by checksum is the set zod validation gives', () => {
  for (const file of filesIn('udev-rules', '.json')) {
    const version = Number(/systemd-(\d+)\.json$/.exec(file)![1]);
    const zod = parseUdevRules(JSON.parse(fs.readFileSync(file, 'utf8')), file);
    const fast = udevRulesFor(version);
    assert.deepStrictEqual(fast, zod, file);
    assert.equal(JSON.stringify(fast), JSON.stringify(zod), `${file}: key for key`);
  }
});

test('changed bytes, or a copy outside data/, are not trusted: they are validated like a user file', () => {
  const file = path.join(dataPath('machines'), 'kvm-guest.json');
  const text = fs.readFileSync(file, 'utf8');
  assert.equal(knownShipped(file, text.replace('"cpus": 8', '"cpus": 9')), null, 'one changed byte');
  assert.equal(knownShipped(file, `${text} `), null, 'one added byte');
  assert.equal(shippedName(file), 'machines/kvm-guest.json');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-shipped-'));
  try {
    const copy = path.join(dir, 'kvm-guest.json');
    fs.writeFileSync(copy, text);
    assert.equal(shippedName(copy), null);
    assert.equal(knownShipped(copy, text), null, 'the same bytes elsewhere');
    // and such a copy, broken, gets zod's one-line error naming it and the field
    fs.writeFileSync(copy, text.replace('"cpus": 8', '"cpus": "eight"'));
    assert.throws(() => loadMachine(copy), (e: Error) => e.message.startsWith(`${copy}: cpus: `) && !e.message.includes('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
