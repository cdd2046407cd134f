#!/usr/bin/env node
// DOC: the unmodified kmod.sh from a prepared kernel's own linux-source package, run in one guest
// of that kernel (the reference the port is compared with, as in the debian-6.1 calibration).
//
//   node scripts/kernel/kmod-sh.js NAME [--cpus N] [--mem MiB] [--timeout S] [--log-dir DIR] RUN…
//
// Each RUN is one kmod.sh command line in quotes ("-t 0001", "-c 0008 20", "" for all tests);
// the runs go one after another in the same guest, through the guest agent (the script is
// written to /tmp/kmod.sh and run with the guest's bash). Prints, per run, a header with the
// exit code and host wall time, then kmod.sh's own output. Needs `npm run build` (reads dist/).
// Exit 0 when every run exited 0, 1 otherwise, 2 on bad input, 3 when the guest failed.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { URL } from 'node:url';

const dist = new URL('../../dist/src/targets/qemu/', import.meta.url);
const { readPrepared } = await import(new URL('prepare.js', dist).href);
const { bootGuest } = await import(new URL('boot.js', dist).href);

const args = process.argv.slice(2);
const opts = { cpus: 2, mem: 2048, timeout: 3600, logDir: '' };
const runs = [];
let name = '';
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const num = (flag) => {
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 0) bad(`${flag} ${args[i]}: not a whole number`);
    return v;
  };
  if (a === '--cpus') opts.cpus = num(a);
  else if (a === '--mem') opts.mem = num(a);
  else if (a === '--timeout') opts.timeout = num(a);
  else if (a === '--log-dir') opts.logDir = args[++i] ?? bad('--log-dir: needs a directory');
  else if (!name) name = a;
  else runs.push(a.split(/\s+/).filter(Boolean));
}
if (!name || runs.length === 0) bad('usage: kmod-sh.js NAME [--cpus N] [--mem MiB] [--timeout S] [--log-dir DIR] "KMOD.SH ARGS"…');

function bad(msg) {
  process.stderr.write(`kmod-sh: ${msg}\n`);
  process.exit(2);
}

const prepared = readPrepared(name);
if (!prepared) bad(`${name}: not prepared (kmodlab kernel prepare ${name})`);
const script = readFileSync(join(prepared.dir, 'src', 'tools', 'testing', 'selftests', 'kmod', 'kmod.sh'));
const guest = await bootGuest(prepared, { cpus: opts.cpus, memMiB: opts.mem, timeoutS: opts.timeout });
const s = guest.session;
let failed = false;
try {
  process.stdout.write(`# kmod.sh of ${prepared.name} (${prepared.release}, linux-source ${prepared.version}) in a ${guest.cpus}-vCPU ${guest.accel} guest, ${guest.memMiB} MiB, guest kmod ${prepared.kmodVersion}; booted in ${(guest.bootMs / 1000).toFixed(1)} s\n`);
  // the agent's write opens an existing file (it is made for sysfs knobs): create it first
  await s.exec(['/bin/busybox', 'touch', '/tmp/kmod.sh']);
  const w = await s.writeFile('/tmp/kmod.sh', script);
  if (w !== script.length) throw new Error(`writing /tmp/kmod.sh: ${w}`);
  for (const r of runs) {
    const t0 = Date.now();
    const res = await s.exec(['/bin/bash', '/tmp/kmod.sh', ...r], opts.timeout * 1000);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    process.stdout.write(`\n## kmod.sh ${r.join(' ')}: ${res.status} ${res.code} (${secs} s host wall)\n\n${res.stdout}${res.stderr ? `--- stderr\n${res.stderr}` : ''}`);
    if (res.status !== 'exit' || res.code !== 0) failed = true;
  }
} finally {
  const out = await guest.shutdown();
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true });
    writeFileSync(join(opts.logDir, 'console.log'), s.consoleLog());
  }
  process.stdout.write(`\n# guest: ${out.state} (${out.detail})\n`);
  if (out.state !== 'ran') process.exitCode = 3;
}
if (!process.exitCode) process.exitCode = failed ? 1 : 0;
