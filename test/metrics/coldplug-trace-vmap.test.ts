/**
 * In-kernel decompression in a real trace: Debian trixie's 6.12.117 at 2 vCPUs (kmod 34 passes
 * the .ko.xz with MODULE_INIT_COMPRESSED_FILE), lines copied from the guest's trace of
 * 2026-12-03 (data/calibration/coldplug-debian-trixie.md). intel_cstate's first load: the kernel's
 * copy of the 5,496-byte file, the xz dictionary (1 MiB: the file's LZMA2 header says
 * dict=1MiB, `xz -lvv`), the vmap() of the 37,935-byte image's 10 pages, then module memory,
 * then its init fails with -ENODEV. button's load succeeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFtrace } from '../../src/metrics/ftrace.js';
import { coldplugFigures, traceEvents } from '../../src/metrics/coldplug-trace.js';
import { coldplugRecord, parseDataPort } from '../../src/targets/qemu/coldplug/record.js';

const EXCERPT = `
            init-1       [001] .....    32.479622: tracing_mark_write: KML_TRIGGER
   (udev-worker)-175     [000] .....    50.229341: open: (do_sys_openat2+0x0/0xe0) path="/lib/modules/6.12.117+deb13-amd64/kernel/drivers/acpi/button.ko.xz"
   (udev-worker)-175     [000] ...1.    50.250383: sys_finit_module(fd: 10, uargs: 7fd6d4e3b44d, flags: 4)
   (udev-worker)-175     [000] .....    50.250984: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=7668
   (udev-worker)-175     [000] .....    50.450366: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=1048576
   (udev-worker)-175     [000] .....    50.949848: vmap: (vmap+0x4/0xd0) count=11
   (udev-worker)-175     [000] .....    51.140101: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=4096
   (udev-worker)-175     [000] .....    51.693563: module_load: button
   (udev-worker)-175     [000] ...1.    51.900000: sys_finit_module -> 0x0
   (udev-worker)-178     [001] .....    64.494982: open: (do_sys_openat2+0x0/0xe0) path="/lib/modules/6.12.117+deb13-amd64/kernel/arch/x86/events/intel/intel-cstate.ko.xz"
   (udev-worker)-178     [000] ...1.    64.585375: sys_finit_module(fd: 13, uargs: 7fd6d4e3b44d, flags: 4)
   (udev-worker)-178     [000] .....    64.585445: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=5496
   (udev-worker)-178     [000] .....    64.585814: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=1048576
   (udev-worker)-178     [000] .....    64.621519: vmap: (vmap+0x4/0xd0) count=10
   (udev-worker)-178     [000] .....    64.873496: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=4096
   (udev-worker)-178     [000] .....    64.873652: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=12288
   (udev-worker)-178     [000] .....    64.873714: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=4096
   (udev-worker)-178     [000] .....    64.873750: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=4096
   (udev-worker)-178     [000] .....    64.873771: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=12288
   (udev-worker)-178     [000] .....    64.873857: valloc: (__vmalloc_node_range_noprof+0x4/0x810) size=4096
   (udev-worker)-178     [000] .....    65.268682: module_load: intel_cstate
   (udev-worker)-178     [000] .....    65.300000: vmap: (vmap+0x4/0xd0) count=3
   (udev-worker)-178     [000] .....    69.389423: module_free: intel_cstate
   (udev-worker)-178     [000] .N.1.    69.531827: sys_finit_module -> 0xffffffffffffffed
            init-1       [000] .....    97.689155: tracing_mark_write: KML_SETTLED
`;
const PAGE = 4096;
/** vmallocinfo's size of a vmalloc of n bytes: whole pages and the guard page */
const area = (n: number) => Math.ceil(n / PAGE) * PAGE + PAGE;
const trixie = { earlySameNameCheck: true, idempotentFinit: true };

test('kml/vmap lines are read with their page count, other lines as before', () => {
  const ev = parseFtrace(EXCERPT);
  const vmaps = ev.filter((e) => e.kind === 'vmap');
  assert.deepEqual(vmaps.map((e) => (e.kind === 'vmap' ? [e.pid, e.pages] : [])), [[175, 11], [178, 10], [178, 3]]);
  assert.equal(ev.filter((e) => e.kind === 'valloc').length, [...EXCERPT.matchAll(/ valloc: /g)].length);
});

test('a failing compressed load: kread, the xz dictionary, the vmap()ed image and module memory, each in its part', () => {
  const { figures } = coldplugFigures({ events: parseFtrace(EXCERPT), kernel: trixie, sizes: () => undefined, uevents: 0 });
  // the failing call's lines, read again here: its vallocs in order and its one vmap before module_load
  const lines = EXCERPT.split('\n').filter((l) => l.includes('-178 '));
  const loadAt = lines.findIndex((l) => l.includes('module_load'));
  const vallocs = lines.slice(0, loadAt).flatMap((l) => [...l.matchAll(/valloc: .* size=(\d+)/g)].map((m) => Number(m[1])));
  const pages = Number(/vmap: .* count=(\d+)/.exec(lines.slice(0, loadAt).join('\n'))![1]);
  const [kread, dict, ...module] = vallocs;
  assert.equal(dict, 1 << 20, 'kbuild compresses modules with a 1 MiB dictionary');
  // 37,935 decompressed bytes (xz --list) fill 10 pages
  assert.equal(pages, Math.ceil(37935 / PAGE));
  assert.deepEqual(figures.failedAttemptBytesByKind, {
    file: area(kread!) + (pages + 1) * PAGE,
    module: module.reduce((s, n) => s + area(n), 0),
    workspace: area(dict!),
    vmap: (pages + 1) * PAGE,
  });
  // the total is what was really allocated: the vmap'ed pages and the dictionary included; the
  // vmap after module_load (init's own) is not the loader's
  assert.equal(figures.failedAttemptBytes, area(kread!) + area(dict!) + (pages + 1) * PAGE + module.reduce((s, n) => s + area(n), 0));
  assert.deepEqual(figures.failuresByModule, { intel_cstate: { ENODEV: 1 } });
});

test('without the vmap probe (an older trace) the dictionary is still the second vmalloc, the image unseen', () => {
  const noVmap = EXCERPT.split('\n').filter((l) => !l.includes(' vmap: ')).join('\n');
  const { metrics } = traceEvents(parseFtrace(noVmap), 0);
  const kinds = metrics.filter((m) => m.type === 'alloc' && m.pid === 178).map((m) => (m.type === 'alloc' ? m.kind : ''));
  assert.deepEqual(kinds, ['kread', 'decompress_workspace', 'module', 'module', 'module', 'module', 'module', 'module']);
  const { figures } = coldplugFigures({ events: parseFtrace(noVmap), kernel: trixie, sizes: () => undefined, uevents: 0 });
  assert.equal(figures.failedAttemptBytesByKind?.vmap, undefined);
  assert.equal(figures.failedAttemptBytesByKind?.workspace, area(1 << 20));
});

test('an uncompressed kernel (debian-6.1, flags 0): no decompressor, no vmap part', () => {
  const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/coldplug');
  const data = parseDataPort(readFileSync(path.join(fixtures, 'debian-6.1-2cpu.data'), 'utf8'));
  const r = coldplugRecord({ data, kernelName: 'debian-6.1', machine: 'm', cpus: 2, seed: 1, kernel: { earlySameNameCheck: false, idempotentFinit: false }, sizes: () => undefined });
  const flags = [...data.sections.get('trace')!.matchAll(/sys_finit_module\(.*flags: (\w+)\)/g)].map((m) => parseInt(m[1]!, 16));
  assert.ok(flags.length > 0 && flags.every((f) => (f & 4) === 0), 'the 6.1 guest loads uncompressed modules');
  assert.deepEqual(Object.keys(r.failedAttemptBytesByKind!).sort(), ['file', 'module']);
});
