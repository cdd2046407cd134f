/**
 * DOC: kmod's alias matching is fnmatch(3) without flags; these cases pin the semantics the
 * module aliases rely on (and the corner cases fnmatch defines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasMatches, lookupAlias } from '../../../src/userspace/depmod/alias.js';

const cases: [string, string, boolean][] = [
  ['abc', 'abc', true],
  ['abc', 'abd', false],
  ['abc', 'ab', false],
  ['', '', true],
  ['*', '', true],
  ['*', 'anything/with/slashes', true],
  ['a*c', 'ac', true],
  ['a*c', 'abbbc', true],
  ['a*c', 'abbbd', false],
  ['a**c', 'axc', true],
  ['?', 'x', true],
  ['?', '', false],
  // udev's MODALIAS=="?*": at least one character (a character, not a UTF-16 unit)
  ['?*', '', false],
  ['?*', 'x', true],
  ['?*', 'cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0001', true],
  ['ab??*', 'abc', false],
  ['ab??*', 'abcd', true],
  ['ab??*', 'ab\u{1F600}', false],
  ['ab??*', 'ab\u{1F600}x', true],
  ['a?', 'a\u{1F600}', true],
  ['a*b', 'a\u{1F600}b', true],
  ['a?c', 'abc', true],
  ['a?c', 'abbc', false],
  ['[abc]', 'b', true],
  ['[abc]', 'd', false],
  ['[a-f]x', 'cx', true],
  ['[a-f]x', 'gx', false],
  ['[!a-f]x', 'gx', true],
  ['[!a-f]x', 'cx', false],
  ['[^a-f]x', 'gx', true],
  ['[]]', ']', true],
  ['[!]]', 'a', true],
  ['[!]]', ']', false],
  ['[a-]', '-', true],
  ['[-a]', '-', true],
  ['[0-9A-F]', 'E', true],
  ['[0-9A-F]', 'e', false],
  ['[ab', '[ab', true], // unterminated bracket: literal '['
  ['[ab', 'a', false],
  ['\\*', '*', true],
  ['\\*', 'x', false],
  ['a\\?', 'a?', true],
  ['*0085*', ',0000,0085,0099', true],
  ['*0085*', ',0000,0086', false],
  ['pci:v00008086d*sv*sd*bc*sc*i*', 'pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01', true],
  ['pci:v00008086d*sv*sd*bc*sc*i*', 'pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00', false],
  ['cpu:type:x86,ven*fam*mod*:feature:*0094*', 'cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0094', true],
  ['usb:v*p*d*dc*dsc*dp*ic08isc06ip50in*', 'usb:v0781p5567d0100dc00dsc00dp00ic08isc06ip50in00', true],
  ['*a*a*a*a*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', false],
];

for (const [p, s, want] of cases) {
  test(`aliasMatches(${JSON.stringify(p)}, ${JSON.stringify(s)}) is ${want}`, () => {
    assert.equal(aliasMatches(p, s), want);
  });
}

test('lookupAlias: file order, each module once, names normalised on both sides', () => {
  const set = {
    aliases: [
      { pattern: 'crypto-crc32c', module: 'crc32c_intel' },
      { pattern: 'crc32c', module: 'crc32c_intel' },
      { pattern: 'crypto-crc32c', module: 'crc32c_generic' },
      { pattern: 'fs-xfs', module: 'xfs' },
    ],
  };
  assert.deepEqual(lookupAlias(set, 'crypto-crc32c'), ['crc32c_intel', 'crc32c_generic']);
  assert.deepEqual(lookupAlias(set, 'crypto_crc32c'), ['crc32c_intel', 'crc32c_generic']);
  assert.deepEqual(lookupAlias(set, 'fs-xfs'), ['xfs']);
  assert.deepEqual(lookupAlias(set, 'fs-ext4'), []);
});
