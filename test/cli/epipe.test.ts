/**
 * A reader that goes away (`kmodlab … | head -1`) ends kmodlab quietly with the status of a
 * process killed by SIGPIPE (141), never with Node's "Unhandled 'error' event … EPIPE" trace,
 * and the selftest stops at the write that found the pipe closed instead of running the suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT_BROKEN_PIPE } from '../../src/errors.js';
import { runCliHead } from './run-cli.js';

const cases: { args: string[]; lines?: number; codes: number[] }[] = [
  // the whole suite fails 0012 (exit 1) if it ran on to the end: 141 says it stopped at the pipe
  { args: ['selftest'], codes: [EXIT_BROKEN_PIPE] },
  { args: ['selftest', '--ktap'], codes: [EXIT_BROKEN_PIPE] },
  // kmod.sh's usage (exit 1, as kmod.sh -h) is 3 KB: it may be in the pipe before head closes it
  { args: ['selftest', '-h'], codes: [1, EXIT_BROKEN_PIPE] },
  { args: ['selftest', '--keep-going', '--kernel', 'v4.9'], lines: 3, codes: [EXIT_BROKEN_PIPE] },
  // a large report: the pipe is closed before the one big write ends
  { args: ['storm', '--format', 'json', '--inline', '--no-progress', '--cpus', '8,64', '--kernel', 'v6.1-stable,v6.4'], codes: [0, EXIT_BROKEN_PIPE] },
  { args: ['--help'], codes: [0, EXIT_BROKEN_PIPE] },
  { args: ['kernels'], codes: [0, EXIT_BROKEN_PIPE] },
  { args: ['machines', 'show', 'sr950'], codes: [0, EXIT_BROKEN_PIPE] },
  { args: ['stats', '--cpus', '4'], codes: [0, EXIT_BROKEN_PIPE] },
];

for (const c of cases) {
  test(`EPIPE: kmodlab ${c.args.join(' ')} | head -${c.lines ?? 1}: quiet, exit ${c.codes.join(' or ')}`, async () => {
    const r = await runCliHead(c.args, c.lines ?? 1);
    assert.ok(r.head.length > 0, 'printed something first');
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|node:|at .*\.js:\d+/, r.stderr);
    assert.ok(c.codes.includes(r.status ?? -1), `exit ${r.status} (${r.signal}), stderr: ${r.stderr}`);
  });
}
