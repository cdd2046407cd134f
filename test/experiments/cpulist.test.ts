import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCpuList, parseKernelList, parseSeed, seedList, MAX_CPUS } from '../../src/experiments/cpulist.js';
import { InputError } from '../../src/errors.js';

test('cpu lists: counts, ranges, strided ranges', () => {
  assert.deepEqual(parseCpuList('1,8,64-512:64'), [1, 8, 64, 128, 192, 256, 320, 384, 448, 512]);
  assert.deepEqual(parseCpuList('4-7'), [4, 5, 6, 7]);
  assert.deepEqual(parseCpuList('1-10:4'), [1, 5, 9]);
  assert.deepEqual(parseCpuList('255'), [255]);
  assert.deepEqual(parseCpuList(' 2 , 1 '), [1, 2]);
});

test('cpu lists: duplicates dropped, sorted numerically', () => {
  assert.deepEqual(parseCpuList('64,8,1,8,2-4,100'), [1, 2, 3, 4, 8, 64, 100]);
  assert.deepEqual(parseCpuList('1-8:2,1-8:3'), [1, 3, 4, 5, 7]);
});

test('cpu lists: one-line InputError naming the bad token', () => {
  const cases: [string, RegExp][] = [
    ['1,x,8', /"x"/],
    ['0', /"0".*between 1 and/],
    [String(MAX_CPUS + 1), /between 1 and 8192/],
    ['8-4', /"8-4".*start is after end/],
    ['1-8:0', /"1-8:0".*step must be at least 1/],
    // a step too large for a double's integers is a typo, not "less than 1" (issue 12, item 10)
    ['1-64:99999999999999999999', /"1-64:99999999999999999999": step must be at most 8192$/],
    ['1-64:9007199254740993', /step must be at most 8192$/],
    ['1,,2', /empty item/],
    ['', /empty CPU list/],
    ['1-8:x', /"1-8:x"/],
    ['-4', /"-4"/],
    ['1.5', /"1.5"/],
    ['1-', /"1-"/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => parseCpuList(input),
      (err: unknown) => {
        assert.ok(err instanceof InputError, `${input}: InputError`);
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /^--cpus: /);
        assert.match(err.message, re, input);
        assert.ok(!err.message.includes('\n'), 'one line');
        return true;
      },
    );
  }
});

test('kernel lists keep the given order and drop repeats', () => {
  assert.deepEqual(parseKernelList('v6.4,v6.1'), ['v6.4', 'v6.1']);
  assert.deepEqual(parseKernelList('v6.1, v6.4 ,v6.1,v6.5+'), ['v6.1', 'v6.4', 'v6.5+']);
  assert.deepEqual(parseKernelList('presets/mine.json'), ['presets/mine.json']);
});

test('kernel lists: errors name the token', () => {
  assert.throws(() => parseKernelList('v6.1,,v6.4'), /--kernel: empty item/);
  assert.throws(() => parseKernelList(''), /--kernel: empty kernel list/);
  assert.throws(() => parseKernelList('v6.1,v6 4'), /--kernel: bad kernel "v6 4"/);
  assert.throws(() => parseKernelList('v6.1,v9.9', { known: ['v6.1', 'v6.4'] }), /unknown kernel preset "v9.9" \(known: v6.1, v6.4\)/);
  assert.deepEqual(parseKernelList('v6.1,x.json', { known: ['v6.1'] }), ['v6.1', 'x.json']);
});

test('seeds', () => {
  assert.equal(parseSeed('42'), 42);
  assert.throws(() => parseSeed('-1'), /--seed: bad seed "-1"/);
  assert.throws(() => parseSeed('1e3'), /--seed: bad seed/);
  assert.deepEqual(seedList(7, '3'), [7, 8, 9]);
  assert.deepEqual(seedList(0), [0]);
  assert.throws(() => seedList(1, '0'), /--seeds: bad seed count "0"/);
  assert.throws(() => seedList(1, 'two'), /--seeds: bad seed count "two"/);
  // the last seed must be a safe integer too; in doubles MAX_SAFE + 2 - 1 rounds back to MAX_SAFE
  const max = Number.MAX_SAFE_INTEGER;
  assert.deepEqual(seedList(max, '1'), [max]);
  assert.deepEqual(seedList(max - 1, '2'), [max - 1, max]);
  for (const k of ['2', '3', '10000']) assert.throws(() => seedList(max, k), /^InputError: --seeds: seeds overflow from 9007199254740991$/);
  assert.throws(() => seedList(max - 1, '3'), /seeds overflow/);
  for (const s of seedList(max - 9999, '10000')) assert.ok(Number.isSafeInteger(s));
});
