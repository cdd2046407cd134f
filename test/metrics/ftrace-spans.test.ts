/**
 * A kml.spans=1 trace carries the scheduler's and module_mutex's lines too (sched_waking,
 * sched_switch, the lock slow path's kprobes: scripts/coldplug/init) — for the analysis scripts,
 * not for the record. The reader skips lines it does not know, so those lines change no event it
 * returns and no figure of the run: the 8-vCPU quiet-host trace of 2026-12-06
 * (data/calibration/coldplug/debian-6.1-8cpu-sched.data.log.gz, data/calibration/coldplug-debian-6.1.md),
 * read whole and read with those lines taken out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseFtrace } from '../../src/metrics/ftrace.js';
import { parseDataPort } from '../../src/targets/qemu/coldplug/record.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data/calibration/coldplug/debian-6.1-8cpu-sched.data.log.gz');
const trace = parseDataPort(gunzipSync(readFileSync(file)).toString('utf8')).sections.get('trace')!;
const SPANS = /: (sched_waking|sched_switch|mutex_lock_slowpath_in|mutex_lock_slowpath_out): /;

test('the scheduler and module_mutex lines of a spans trace change none of the events the reader returns', () => {
  const lines = trace.split('\n');
  const spans = lines.filter((l) => SPANS.test(l));
  assert.ok(spans.length > 10000, `the trace holds the spans lines (${spans.length})`);
  const whole = parseFtrace(trace);
  const without = parseFtrace(lines.filter((l) => !SPANS.test(l)).join('\n'));
  assert.deepEqual(whole, without);
  assert.equal(whole.filter((e) => e.kind === 'enter').length, 221, 'the 221 finit_module calls of the boot');
});
