/**
 * DOC: `npm run shipped:update` — record the shipped data files as validated, by checksum, in
 * data/shipped-checksums.json (src/userspace/shipped.ts says why).
 *
 * Every machine profile, module-set snapshot and udev rules set under data/ is validated here
 * with the same zod schemas and one-line errors a user's file gets (a bad one stops the script
 * and nothing is written); its size and CRC-32 are recorded and, when validation changes the value
 * (defaults, key order), the validated form; for a snapshot, the hash a run identity takes of its
 * module set. Run it after changing or adding any of those files
 * (scripts/snapshot/, scripts/udev-rules/ or by hand); test/userspace/shipped.test.ts fails until
 * it is. An unrecorded or changed file still works: it is validated at run time, only slower.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { hashValue } from '../src/results/identity.js';
import { dataPath } from '../src/userspace/depmod/paths.js';
import { fromSnapshotJson } from '../src/userspace/depmod/snapshot.js';
import { parseMachine } from '../src/userspace/machines/load.js';
import { checksum, SHIPPED_FORMAT, SHIPPED_MANIFEST, type ShippedEntry, type ShippedManifest } from '../src/userspace/shipped.js';
import { parseUdevRules } from '../src/userspace/udev-rules/data.js';

/** the shipped files: data/ subdirectory, name suffix, and the validation a reader would do (its value as read) */
const KINDS: { dir: string; suffix: string; validate: (bytes: Buffer, file: string) => { value: unknown; asRead: unknown; valueHash?: string } }[] = [
  {
    dir: 'machines',
    suffix: '.json',
    validate: (bytes, file) => {
      const json = JSON.parse(bytes.toString('utf8')) as unknown;
      return { value: parseMachine(json, file), asRead: json };
    },
  },
  {
    dir: 'modules',
    suffix: '.json.gz',
    // the snapshot reader builds its ModuleSet from the file's JSON either way: the bytes are
    // recorded, and the module set's hash for run identities (src/experiments/storm-identity.ts)
    validate: (bytes, file) => {
      const set = fromSnapshotJson(JSON.parse(zlib.gunzipSync(bytes).toString('utf8')), file);
      return { value: null, asRead: null, valueHash: hashValue(set) };
    },
  },
  {
    dir: 'udev-rules',
    suffix: '.json',
    validate: (bytes, file) => {
      const json = JSON.parse(bytes.toString('utf8')) as { systemdVersion: unknown; source: unknown; rules: unknown };
      return { value: parseUdevRules(json, file), asRead: { systemdVersion: json.systemdVersion, source: json.source, rules: json.rules } };
    },
  },
];

/** The record of every shipped file as it is now (throws the file's one-line error if one is invalid). */
export function computeShippedManifest(): ShippedManifest {
  const files: Record<string, ShippedEntry> = {};
  for (const k of KINDS) {
    const dir = dataPath(k.dir);
    for (const name of fs.readdirSync(dir).filter((f) => f.endsWith(k.suffix)).sort()) {
      const file = path.join(dir, name);
      const bytes = fs.readFileSync(file);
      const { value, asRead, valueHash } = k.validate(bytes, file);
      const entry: ShippedEntry = { ...checksum(bytes) };
      if (JSON.stringify(value) !== JSON.stringify(asRead)) entry.validated = value;
      if (valueHash !== undefined) entry.valueHash = valueHash;
      files[`${k.dir}/${name}`] = entry;
    }
  }
  return { format: SHIPPED_FORMAT, files };
}

export function manifestText(m: ShippedManifest): string {
  return `${JSON.stringify(m, null, 1)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  try {
    const m = computeShippedManifest();
    const out = dataPath(SHIPPED_MANIFEST);
    fs.writeFileSync(`${out}.tmp`, manifestText(m));
    fs.renameSync(`${out}.tmp`, out);
    process.stderr.write(`shipped-checksums: ${Object.keys(m.files).length} files in ${path.relative(process.cwd(), out) || out}\n`);
  } catch (e) {
    process.stderr.write(`shipped-checksums: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
