import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNELS, kernelSpec } from '../../../src/targets/qemu/kernels.js';
import { compilerPackage, parsePrintUris } from '../../../src/targets/qemu/prepare.js';
import { presetNames } from '../../../src/kernel/presets.js';

test('every known kernel is modelled by a built-in preset', () => {
  const names = presetNames();
  for (const k of KERNELS) {
    assert.ok(names.includes(k.sim.preset), `${k.name}: ${k.sim.preset}`);
    assert.equal(k.simPreset, k.sim.preset);
  }
});

test('debian-6.1 and debian-6.12 stay as they were; the new kernels run their own suites', () => {
  assert.deepEqual(
    KERNELS.map((k) => [k.name, k.suite, k.sim.preset, k.toolchain, k.sim.kmodVersion]),
    [
      ['debian-6.1', 'bookworm', 'v6.1-stable', 'host', 30],
      ['debian-6.12', 'bookworm-backports', 'v6.11', 'host', 30],
      ['debian-5.10', 'bullseye', 'v5.10-stable', 'suite', 28],
      ['debian-trixie', 'trixie', 'v6.11', 'suite', 34],
      ['debian-sid', 'sid', 'v7.1', 'suite', 34],
    ],
  );
  assert.equal(kernelSpec('debian-6.12').userspaceSuite, 'bookworm');
  assert.throws(() => kernelSpec('debian-4.19'), /unknown/);
});

test('the compiler a headers package names', () => {
  assert.equal(compilerPackage('linux-headers-5.10.0-32-common (= 5.10.223-1), linux-kbuild-5.10 (>= 5.10.223-1), linux-compiler-gcc-10-x86'), 'linux-compiler-gcc-10-x86');
  assert.equal(compilerPackage('linux-base (>= 4.12~), linux-headers-6.12.117+deb13-common (= 6.12.117-1), linux-kbuild-6.12.117+deb13, gcc-14'), 'gcc-14');
  assert.equal(compilerPackage('gcc-16-for-host, linux-base (>= 4.12~), linux-kbuild-7.2.13+deb14'), 'gcc-16-for-host');
  assert.equal(compilerPackage('linux-kbuild-6.1'), undefined);
});

test('apt-get --print-uris lines become packages (the epoch colon is %3a in the file name)', () => {
  const out = [
    "'http://deb.debian.org/debian/pool/main/k/kmod/kmod_28-1_amd64.deb' kmod_28-1_amd64.deb 97440 SHA256:00",
    "'http://deb.debian.org/debian/pool/main/libc/libcap2/libcap2-bin_1%3a2.44-1_amd64.deb' libcap2-bin_1%3a2.44-1_amd64.deb 32000 SHA256:11",
    'Reading package lists...',
  ].join('\n');
  assert.deepEqual(parsePrintUris(out), [
    { name: 'kmod', version: '28-1', depends: '', filename: 'kmod_28-1_amd64.deb' },
    { name: 'libcap2-bin', version: '1:2.44-1', depends: '', filename: 'libcap2-bin_1%3a2.44-1_amd64.deb' },
  ]);
});
