/**
 * DOC: compareTables (src/experiments/compare.ts): rows joined by key, every difference marked,
 * explained ones apart from findings, info columns shown but never compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTables, type OutcomeTable } from '../../src/experiments/compare.js';

const table = (rows: [string, string, string][]): OutcomeTable => ({
  keyColumns: ['module', 'N'],
  valueColumns: ['outcomes'],
  infoColumns: ['peak'],
  rows: rows.map(([m, v, peak]) => ({ key: [m, '2'], values: [v], info: [peak] })),
});

test('identical tables: no differences, no marks, info columns may differ', () => {
  const c = compareTables({ label: 'real', table: table([['a', '0 ×2', '10']]) }, { label: 'sim', table: table([['a', '0 ×2', '99']]) });
  assert.equal(c.differences.length, 0);
  assert.equal(c.unexplained, 0);
  assert.match(c.text, /no differences: 1 rows agree/);
  assert.match(c.text, /\| module \| N \| outcomes \(real\) \| outcomes \(sim\) \| peak \(real\) \| peak \(sim\) \| diff \|/);
});

test('a difference is a finding (≠) unless explained (~ with a numbered note)', () => {
  const real = table([['a', '0 ×1, EEXIST ×1', '1'], ['b', 'ENODEV ×2', '1'], ['c', 'EBUSY ×1', '1']]);
  const sim = table([['a', '0 ×2', '1'], ['b', 'ENODEV ×1, EBUSY ×1', '1'], ['c', 'EBUSY ×1', '1']]);
  const c = compareTables({ label: 'real', table: real }, { label: 'sim', table: sim }, (key) => (key[0] === 'b' ? 'timing' : null));
  assert.equal(c.differences.length, 2);
  assert.equal(c.unexplained, 1);
  assert.deepEqual(c.differences[0], { key: ['a', '2'], column: 'outcomes', left: '0 ×1, EEXIST ×1', right: '0 ×2', explanation: null });
  assert.equal(c.differences[1]!.explanation, 'timing');
  const lines = c.text.split('\n');
  assert.match(lines.find((l) => l.startsWith('| a '))!, /≠ outcomes\s*\|$/);
  assert.match(lines.find((l) => l.startsWith('| b '))!, /~ outcomes \[1\]\s*\|$/);
  assert.match(lines.find((l) => l.startsWith('| c '))!, /\| +\|$/);
  assert.match(c.text, /2 differences in 3 rows: 1 unexplained \(≠, findings\), 1 explained \(~\)\n\[1\] timing\n$/);
});

test('rows only one side has are findings, never explained', () => {
  const c = compareTables({ label: 'real', table: table([['a', 'x', '']]) }, { label: 'sim', table: table([['b', 'x', '']]) }, () => 'always');
  assert.equal(c.unexplained, 2);
  assert.match(c.text, /≠ only in real/);
  assert.match(c.text, /≠ only in sim/);
});

test('tables with different columns are refused', () => {
  const other: OutcomeTable = { keyColumns: ['test'], valueColumns: ['status'], rows: [] };
  assert.throws(() => compareTables({ label: 'a', table: table([]) }, { label: 'b', table: other }), /different columns/);
});

test('pure: the same input gives the same text', () => {
  const a = { label: 'real', table: table([['a', '1', '2']]) };
  const b = { label: 'sim', table: table([['a', '2', '2']]) };
  assert.equal(compareTables(a, b).text, compareTables(a, b).text);
});
