import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSnapshot } from '../../src/userspace/depmod/snapshot.js';
import { KmodIndex } from '../../src/userspace/libkmod.js';
import { coldplugDevices } from '../../src/userspace/machines/coldplug.js';
import { loadMachine } from '../../src/userspace/machines/load.js';

// An alias table answers its first look-ups by scanning every pattern and builds its prefix
// buckets once the scans have cost enough (libkmod.ts, SCAN_BUDGET): both ways must give the same
// list, in the same order, repeats kept.

/** distinct strings no pattern of the set is likely to match, to use up a table's scans */
const fillers = (n: number) => Array.from({ length: n }, (_, i) => `zz_no_such_alias_${i}`);

/** each answer from a scan: a fresh index for every probe (its first look-up always scans) */
function scannedAnswers(ps: string[], look: (idx: KmodIndex, p: string) => readonly string[]): string[][] {
  const set = loadSnapshot('debian-6.1');
  return ps.map((p) => [...look(new KmodIndex(set), p)]);
}

function probes(): string[] {
  const out = new Set<string>(['', 'fs_', 'fs_xfs', 'fs_btrfs', 'crc32c', 'crypto_crc32c', 'nope_test_module', 'platform:pcspkr', 'acpi*:pnp0303:*']);
  for (const m of ['sr950', 'kvm-guest', 'qemu-tcg']) {
    for (const ev of coldplugDevices(loadMachine(m))) if (ev.modalias !== undefined) out.add(ev.modalias.replace(/-/g, '_'));
  }
  return [...out];
}

test('an alias table scanning its patterns answers as its prefix buckets do, order and repeats included', () => {
  const set = loadSnapshot('debian-6.1');
  const ps = probes();
  assert.ok(ps.length > 40, `probes: ${ps.length}`);
  const scanned = scannedAnswers(ps, (idx, p) => idx.alias(p));
  const bucketed = new KmodIndex(set);
  for (const f of fillers(64)) assert.deepEqual([...bucketed.alias(f)], []);
  const fromBuckets = ps.map((p) => [...bucketed.alias(p)]);
  assert.deepEqual(fromBuckets, scanned);
  // the probes reach both kinds of answer: several modules, and one module more than once
  assert.ok(scanned.some((l) => new Set(l).size > 1), 'a probe with several modules');
  assert.ok(scanned.filter((l) => l.length > 0).length > 10, 'probes that match');
});

test('the built-in alias table (visiting order, not module order) answers alike both ways', () => {
  const set = loadSnapshot('debian-6.1');
  const builtin = set.builtinAliases ?? [];
  assert.ok(builtin.length > 0);
  // each pattern's own text, and a string made from its literal prefix
  const ps = [...new Set(builtin.flatMap((a) => [a.pattern.replace(/-/g, '_'), a.pattern.replace(/[*?[].*$/, '').replace(/-/g, '_')]))];
  const scanned = scannedAnswers(ps, (idx, p) => idx.builtinAlias(p));
  const bucketed = new KmodIndex(set);
  for (const f of fillers(64)) bucketed.builtinAlias(f);
  assert.deepEqual(
    ps.map((p) => [...bucketed.builtinAlias(p)]),
    scanned,
  );
  assert.ok(scanned.some((l) => l.length > 0));
});
