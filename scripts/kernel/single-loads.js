#!/usr/bin/env node
// DOC: single, uncontended loads in one guest of a prepared kernel — the per-operation times of
// the calibration's "single uncontended loads" table (cold and duplicate insmod of xfs, rmmod,
// modprobe of test_module cold and LIVE, modprobe of a missing module, fork+exec), so the
// qemu-tcg profile's timings at a vCPU count come from a measurement with its command.
//
//   node scripts/kernel/single-loads.js NAME [--cpus N] [--mem MiB] [--reps N]
//
// Prints one line per operation: name, median guest seconds over the repetitions, and every
// repetition. Times are bash's `time` (real) inside the guest. Needs `npm run build`.
import { URL } from 'node:url';

const dist = new URL('../../dist/src/targets/qemu/', import.meta.url);
const { readPrepared } = await import(new URL('prepare.js', dist).href);
const { bootGuest } = await import(new URL('boot.js', dist).href);

const args = process.argv.slice(2);
const opts = { cpus: 2, mem: 4096, reps: 3 };
let name = '';
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const num = () => {
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 1) bad(`${a} ${args[i]}: not a whole number ≥ 1`);
    return v;
  };
  if (a === '--cpus') opts.cpus = num();
  else if (a === '--mem') opts.mem = num();
  else if (a === '--reps') opts.reps = num();
  else if (!name) name = a;
  else bad(`${a}: unexpected argument`);
}
if (!name) bad('usage: single-loads.js NAME [--cpus N] [--mem MiB] [--reps N]');

function bad(msg) {
  process.stderr.write(`single-loads: ${msg}\n`);
  process.exit(2);
}

// each timed line prints "LABEL SECONDS"; 20-fold loops print the total (divided below)
const script = `
TIMEFORMAT=%3R
t() { local l=$1; shift; local s; s=$( { time "$@" >/dev/null 2>&1; } 2>&1 ); echo "$l $s"; }
XFS=$(modinfo -n xfs)
modprobe xfs && rmmod xfs
for i in $(seq ${opts.reps}); do
  t insmod-xfs-cold insmod "$XFS"
  t insmod-xfs-live insmod "$XFS"
  t rmmod-xfs rmmod xfs
  t modprobe-test_module-cold modprobe test_module
  t modprobe-test_module-live modprobe test_module
  rmmod test_module
  t modprobe-missing-x20 bash -c 'for j in $(seq 20); do modprobe kml_no_such_module; done'
  t fork-exec-true-x20 bash -c 'for j in $(seq 20); do /bin/busybox true; done'
done
`;

const prepared = readPrepared(name);
if (!prepared) bad(`${name}: not prepared (kmodlab kernel prepare ${name})`);
const guest = await bootGuest(prepared, { cpus: opts.cpus, memMiB: opts.mem, timeoutS: 1800 });
try {
  const res = await guest.session.exec(['/bin/bash', '-c', script], 1_500_000);
  const by = new Map();
  for (const line of res.stdout.split('\n')) {
    const m = /^(\S+) (\d+\.\d+)$/.exec(line);
    if (!m) continue;
    let [, label, s] = m;
    let v = Number(s);
    if (label.endsWith('-x20')) {
      label = label.slice(0, -4);
      v /= 20;
    }
    by.set(label, [...(by.get(label) ?? []), v]);
  }
  process.stdout.write(`# ${prepared.name} (${prepared.release}) ${guest.cpus} vCPUs ${guest.accel}, ${guest.memMiB} MiB; guest seconds, median of ${opts.reps}\n`);
  for (const [label, vs] of by) {
    const sorted = [...vs].sort((a, b) => a - b);
    process.stdout.write(`${label}\t${sorted[Math.floor(sorted.length / 2)].toFixed(3)}\t${vs.map((v) => v.toFixed(3)).join(' ')}\n`);
  }
  if (res.stderr) process.stdout.write(`--- stderr\n${res.stderr}`);
} finally {
  await guest.shutdown();
}
