import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCsv, renderJson, renderJsonl, csvColumns } from '../../src/report/data.js';
import { fakeParams, fakeRecords } from '../fixtures/report/records.js';
import { CATEGORIES, RECORD_FIELDS, recordSchemas, type StormRunRecord } from '../../src/results/record.js';

const params = fakeParams({ cpus: [1, 64], kernels: ['v6.1', 'v6.5'], seeds: [1, 2] });
const records = fakeRecords(params);

/** A small RFC 4180 reader for checking our writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}

test('record.ts fields: the report knows every field of a record', () => {
  // the schema's own fields, in its order (RECORD_FIELDS is written out so that a report loads no zod)
  assert.deepEqual([...RECORD_FIELDS], Object.keys(recordSchemas().stormRunRecordSchema.shape));
  assert.deepEqual([...CATEGORIES], Object.keys(recordSchemas().wasteByCategorySchema.shape));
  assert.deepEqual(Object.keys(records[0]!).sort(), [...RECORD_FIELDS].sort(), 'the fixture is a full record');
});

test('csv: header names, flattened categories, one row per run', () => {
  const csv = renderCsv(records, params);
  const rows = parseCsv(csv);
  const header = rows[0]!;
  assert.deepEqual(header, csvColumns(records));
  assert.deepEqual(header.slice(0, 10), [
    'machine',
    'cpus',
    'kernel',
    'seed',
    'wastedBytes',
    'wastedBytesByCategory.kread',
    'wastedBytesByCategory.decompress',
    'wastedBytesByCategory.becoming',
    'wastedBytesByCategory.load',
    'failedBecoming',
  ]);
  for (const f of ['failedLoad', 'modulesLoaded', 'loadAttempts', 'peakVmallocBytes', 'peakModuleAreaBytes', 'allocFailures', 'settleNs', 'duplicates']) {
    assert.ok(header.includes(f), f);
  }
  assert.equal(rows.length, records.length + 1);
  const col = (name: string) => header.indexOf(name);
  const r0 = rows[1]!;
  assert.deepEqual([r0[col('cpus')], r0[col('kernel')], r0[col('seed')]], ['1', 'v6.1', '1']);
  const rec = records.find((r) => r.cpus === 1 && r.kernel === 'v6.1' && r.seed === 1)!;
  assert.equal(r0[col('wastedBytes')], String(rec.wastedBytes));
  assert.equal(r0[col('wastedBytesByCategory.kread')], String(rec.wastedBytesByCategory.kread));
  assert.equal(r0[col('duplicates')], rec.duplicates.map((d) => `${d.module}:${d.count}:${d.reason}`).join(';'));
  assert.match(csv, /"kvm_intel:\d+:Becoming;kvm:\d+:Becoming & Load;crc32c_intel:1:Load"|kvm_intel:\d+:Becoming;kvm/);
  assert.equal(r0[col('failuresByModule')], `kvm:EBUSY=${rec.failedLoad};kvm_intel:EEXIST=${rec.failedBecoming}`);
  // A value with a comma or quote is quoted.
  const odd: StormRunRecord = { ...rec, machine: 'my "lab", rack 2' };
  assert.equal(parseCsv(renderCsv([odd]))[1]![0], 'my "lab", rack 2');
});

test('json: an array of records, keys exactly as record.ts, report order', () => {
  const text = renderJson([...records].reverse(), params);
  const arr = JSON.parse(text) as StormRunRecord[];
  assert.equal(arr.length, records.length);
  for (const r of arr) assert.deepEqual(Object.keys(r), [...RECORD_FIELDS]);
  assert.deepEqual(Object.keys(arr[0]!.wastedBytesByCategory), ['kread', 'decompress', 'becoming', 'load']);
  assert.deepEqual(Object.keys(arr[0]!.duplicates[0]!), ['module', 'count', 'reason']);
  assert.deepEqual(arr, records, 'sorted back into (cpus, kernel, seed) order, values unchanged');
  assert.equal(renderJson(records, params), text, 'byte-identical');
});

test('jsonl: one record per line', () => {
  const text = renderJsonl(records, params);
  const lines = text.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, records.length);
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    records,
  );
  assert.ok(lines.every((l) => !l.includes('\n') && l.startsWith('{"machine":')));
});

test('a field added to record.ts later still reaches every format', () => {
  const extra = records.map((r) => ({ ...r, zNewField: 7 }) as StormRunRecord);
  assert.equal(csvColumns(extra).at(-1), 'zNewField');
  assert.equal(JSON.parse(renderJsonl(extra).split('\n')[0]!).zNewField, 7);
});
