#!/usr/bin/env node
// DOC: measure the real module memory layout of a prepared kernel: what module_alloc() is asked
// for per load (the core and the init area, issue 17 item 2), what /sys/module/NAME/coresize and
// initsize say, the section addresses in /sys/module/NAME/sections and the module's lines in
// /proc/vmallocinfo. The simulator's layout (src/kernel/memory.ts) is checked against these.
//
//   node scripts/kernel/module-layout.js NAME [--cpus N] [--json FILE] [--probe execmem] MODULE…
//
// MODULE is a module name of the kernel's own tree (CACHE/kernels/NAME/root/lib/modules/REL,
// from Debian's image package); its modules.dep dependencies are loaded first. The .ko files go
// into the guest as an extra cpio archive appended to the prepared initramfs (the kernel unpacks
// concatenated archives), under /lib/kml-layout/. In the guest, a kprobe event on module_alloc
// records every size asked for (tracefs, mounted by this script): the first call of a load is
// the core area, the second the init area — also for a module whose init then fails (kvm_intel
// without VMX), because layout_and_allocate runs before the init. initsize reads 0 once the init
// area is freed, so the kprobe is the init figure. From v6.4 a load allocates each module_memory
// type separately (text, data, rodata, ro_after_init, init_text, init_data, init_rodata: the
// non-empty ones, in that order), and from 6.10 through execmem_alloc(type, size): `--probe
// execmem` puts the kprobe there (size is its second argument). Needs `npm run build` (reads dist/) and root
// for nothing but QEMU. Exit 0 when every module was measured, 1 otherwise, 2 bad input, 3 guest.
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { URL } from 'node:url';

const dist = new URL('../../dist/src/targets/qemu/', import.meta.url);
const { readPrepared } = await import(new URL('prepare.js', dist).href);
const { bootGuest } = await import(new URL('boot.js', dist).href);
const { readKoFile } = await import(new URL('../../userspace/depmod/kofile.js', dist).href);

function bad(msg) {
  process.stderr.write(`module-layout: ${msg}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const opts = { cpus: 2, json: '', probe: 'module_alloc' };
const wanted = [];
let name = '';
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--cpus') opts.cpus = Number(args[++i]);
  else if (a === '--json') opts.json = args[++i] ?? bad('--json: needs a file');
  else if (a === '--probe') opts.probe = args[++i] === 'execmem' ? 'execmem_alloc' : bad('--probe: want execmem');
  else if (!name) name = a;
  else wanted.push(a);
}
if (!name || wanted.length === 0) bad('usage: module-layout.js NAME [--cpus N] [--json FILE] [--probe execmem] MODULE…');
/** the kprobe event: module_alloc(size) before 6.10, execmem_alloc(type, size) after */
const probeDef = opts.probe === 'module_alloc' ? 'p:kml/module_alloc module_alloc size=%di:u64' : 'p:kml/module_alloc execmem_alloc size=%si:u64';
if (!Number.isInteger(opts.cpus) || opts.cpus < 1) bad(`--cpus ${opts.cpus}: want an integer >= 1`);

const prepared = readPrepared(name);
if (!prepared) bad(`${name}: not prepared (kmodlab kernel prepare ${name})`);
const tree = join(prepared.dir, 'root', 'lib', 'modules', prepared.release);
const depLines = readFileSync(join(tree, 'modules.dep'), 'utf8').split('\n');
/** module name → { path (relative to the tree), deps (paths) } */
const dep = new Map();
for (const l of depLines) {
  const m = /^([^:]+):\s*(.*)$/.exec(l);
  if (!m) continue;
  const mod = basename(m[1]).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
  dep.set(mod, { path: m[1], deps: m[2].split(/\s+/).filter(Boolean) });
}
const modName = (p) => basename(p).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');

// load order: every dependency before its user, each module once
const order = [];
const visit = (p) => {
  if (order.includes(p)) return;
  const m = dep.get(modName(p));
  if (!m) bad(`${p}: not in ${tree}/modules.dep`);
  for (const d of [...m.deps].reverse()) visit(d);
  order.push(m.path);
};
for (const w of wanted) {
  const m = dep.get(w.replace(/-/g, '_'));
  if (!m) bad(`${w}: no such module in ${tree}`);
  visit(m.path);
}

const work = mkdtempSync(join(tmpdir(), 'kmodlab-layout-'));
let exit = 0;
try {
  const stage = join(work, 'stage');
  mkdirSync(join(stage, 'lib', 'kml-layout'), { recursive: true });
  for (const p of order) copyFileSync(join(tree, p), join(stage, 'lib', 'kml-layout', basename(p)));
  const extra = execFileSync('sh', ['-c', 'find lib | cpio -o -H newc --quiet | gzip -9'], { cwd: stage, maxBuffer: 1 << 30 });
  const initramfs = join(work, 'initramfs.cpio.gz');
  writeFileSync(initramfs, Buffer.concat([readFileSync(prepared.initramfs), extra]));

  const guest = await bootGuest({ ...prepared, initramfs }, { cpus: opts.cpus, memMiB: 2048, timeoutS: 1800 });
  const s = guest.session;
  const sh = async (script, timeoutMs = 120_000) => {
    const r = await s.exec(['sh', '-c', script], timeoutMs);
    return { ok: r.status === 'exit' && r.code === 0, code: r.code, out: r.stdout, err: r.stderr };
  };
  const results = [];
  try {
    const tr = '/sys/kernel/tracing';
    const setup = await sh(
      `mount -t tracefs nodev ${tr} && echo '${probeDef}' > ${tr}/kprobe_events && echo 1 > ${tr}/events/kml/module_alloc/enable && echo 1 > ${tr}/tracing_on`,
    );
    if (!setup.ok) throw new Error(`kprobe ${probeDef}: ${setup.err.trim()}`);
    process.stdout.write(`# ${prepared.name} (${prepared.release}, ${prepared.version}), ${guest.cpus} vCPUs (${guest.accel}); booted in ${(guest.bootMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`# kprobe: ${probeDef}\n`);
    for (const p of order) {
      const mod = modName(p);
      const file = `/lib/kml-layout/${basename(p)}`;
      const fileSize = statSync(join(tree, p)).size;
      await sh(`echo > ${tr}/trace`);
      const ins = await sh(`insmod ${file}`, 600_000);
      const trace = await sh(`cat ${tr}/trace`);
      const allocs = [...trace.out.matchAll(/module_alloc: \((?:module_alloc|execmem_alloc)\+0x0\/0x\w+\) size=(\d+)/g)].map((m) => Number(m[1]));
      const sys = await sh(`cat /sys/module/${mod}/coresize /sys/module/${mod}/initsize 2>/dev/null`);
      const [coresize, initsize] = sys.ok ? sys.out.trim().split('\n').map(Number) : [null, null];
      const secs = await sh(`cd /sys/module/${mod}/sections 2>/dev/null && for f in .* *; do [ -f "$f" ] && echo "$f $(cat "$f")"; done`);
      const sections = Object.fromEntries(
        secs.out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(' ')),
      );
      // the core area's line in /proc/vmallocinfo (the init area is gone after init): addresses
      // are hashed for %pK, so it is found by its caller and its size, which counts the guard page
      const vm = await sh(`grep move_module /proc/vmallocinfo`);
      const vmLines = coresize ? vm.out.split('\n').filter((l) => new RegExp(`^\\S+ +${coresize + 4096} move_module`).test(l)) : [];
      // the .ko as the simulator reads it (src/userspace/depmod): what the layout is modelled from
      const ko = await readKoFile(join(tree, p));
      const elf = { fileSize: ko.fileSize, imageSize: ko.imageSize, signed: ko.signed, sections: ko.sections };
      const r = { module: mod, path: p, fileSize, insmod: ins.ok ? 0 : ins.err.trim(), moduleAlloc: allocs, coresize, initsize, vmallocinfo: vmLines, sections, elf };
      results.push(r);
      process.stdout.write(
        `${mod}: file ${fileSize}, insmod ${ins.ok ? 'ok' : JSON.stringify(ins.err.trim())}, module_alloc ${allocs.join(' ') || '-'}, ` +
          `coresize ${coresize ?? '-'}, initsize ${initsize ?? '-'}, ${Object.keys(sections).length} sections\n`,
      );
      for (const l of vmLines) process.stdout.write(`  vmallocinfo: ${l}\n`);
      process.stdout.write(`  elf: ${JSON.stringify(elf.sections)}\n`);
      if (allocs.length === 0) exit = 1;
    }
  } finally {
    const out = await guest.shutdown();
    process.stdout.write(`# guest: ${out.state} (${out.detail})\n`);
    if (out.state !== 'ran') exit = 3;
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ kernel: prepared.name, release: prepared.release, version: prepared.version, modules: results }, null, 2) + '\n');
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = exit;
