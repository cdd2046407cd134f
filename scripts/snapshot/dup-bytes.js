#!/usr/bin/env node
// DOC: what one rejected duplicate of kvm, kvm_intel and xfs holds in the model, per module set
// (data/calibration/developer-kernels.md): the kernel's copy of the file (for a compressed set,
// the decompressed pages), the core and the init area of the pre-v6.4 layout, each page-rounded
// with its guard page. Prints a Markdown table. Needs `npm run build` (reads dist/).
//
//   node scripts/snapshot/dup-bytes.js SNAPSHOT…     (names or snapshot files)
import { URL } from 'node:url';

const dist = new URL('../../dist/src/', import.meta.url);
const { moduleLayout, pageAlign, PAGE_SIZE } = await import(new URL('kernel/memory.js', dist).href);
const { loadSnapshot } = await import(new URL('userspace/depmod/snapshot.js', dist).href);

const sets = process.argv.slice(2);
if (sets.length === 0) {
  process.stderr.write('usage: dup-bytes.js SNAPSHOT…\n');
  process.exit(2);
}
const K = (n) => (n / 1024).toFixed(0);
console.log('| set | module | file | core | init | per duplicate, v6.1 (copy + core + init) | per duplicate, v6.4 early check (copy) |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const s of sets) {
  const set = loadSnapshot(s);
  for (const n of ['kvm', 'kvm_intel', 'xfs']) {
    const m = set.modules.get(n);
    const L = moduleLayout(m.sections, 'core-init');
    const core = L.regions.find((r) => r.kind === 'core').size;
    const init = L.regions.find((r) => r.kind === 'init')?.size ?? 0;
    const copy = (m.compression === 'none' ? pageAlign(m.fileSize) : pageAlign(m.imageSize)) + PAGE_SIZE;
    const name = s.split('/').pop().replace('.json.gz', '');
    console.log(`| ${name} | ${n} | ${K(m.fileSize)} KiB | ${K(core)} KiB | ${K(init)} KiB | ${K(copy + core + PAGE_SIZE + init + PAGE_SIZE)} KiB | ${K(copy)} KiB |`);
  }
}
