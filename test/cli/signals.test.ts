/**
 * A sweep stopped by SIGINT, SIGTERM or SIGHUP at a random point keeps every finished run, exits
 * 128 + the signal's number, leaves no stray file, and re-running the same command resumes it to
 * output byte-identical to an uninterrupted run's. Without --out the finished runs are printed,
 * marked partial, and the message does not promise a resume it cannot give.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin, root, runCli } from './run-cli.js';

const sweep = ['storm', '--cpus', '1,8,16,32', '--kernel', 'v6.4,newest', '--format', 'csv', '--no-progress', '--threads', '1'];
const TOTAL = 8;
const CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

interface Stopped {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => /^run_.*\.json$/.test(n));
  } catch {
    return [];
  }
}

/** start `kmodlab ARGS`; once `ready()` holds, wait a random 0–200 ms and send `sig` */
function runAndSignal(args: string[], sig: NodeJS.Signals, ready: (stderr: string) => boolean, env: NodeJS.ProcessEnv = {}): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, CI: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    const poll = setInterval(() => {
      if (!ready(stderr)) return;
      clearInterval(poll);
      setTimeout(() => child.kill(sig), Math.floor(Math.random() * 200));
    }, 20);
    child.on('close', (status, signal) => {
      clearInterval(poll);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

test('SIGINT, SIGTERM, SIGHUP at a random point of a sweep with --out: exit 128+n, no stray file, resume is cmp-identical', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kmodlab-signals-'));
  try {
    const ref = await runCli([...sweep, '--out', path.join(tmp, 'ref')]);
    assert.equal(ref.status, 0, ref.stderr);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const dir = path.join(tmp, sig);
      const after = 1 + Math.floor(Math.random() * (TOTAL - 2));
      const r = await runAndSignal([...sweep, '--out', dir], sig, () => runFiles(dir).length >= after);
      const done = runFiles(dir).length;
      const why = `${sig} after ${after} runs: status ${r.status} signal ${r.signal}, stderr ${r.stderr}`;
      if (done < TOTAL) {
        assert.equal(r.status, CODES[sig], why);
        assert.equal(r.stderr, `kmodlab: interrupted by ${sig}: ${done} of ${TOTAL} runs done; re-run with the same --out to resume\n`, why);
        assert.equal(r.stdout, '', 'with --out nothing partial is printed');
      } else {
        // the signal came after the last run: a whole sweep, printed (exit 0) — or, when it
        // landed while the report was being written, the process ended by it as any program is
        assert.ok(r.status === 0 || r.signal === sig || r.status === CODES[sig], why);
      }
      assert.deepEqual(readdirSync(dir).filter((n) => n !== 'manifest.json' && !/^run_.*\.json$/.test(n)), [], 'no temp or stray files');
      const resumed = await runCli([...sweep, '--out', dir]);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.equal(resumed.stderr, '', 'nothing stored was recomputed');
      assert.ok(resumed.stdout === ref.stdout, `${sig}: the resumed output is byte-identical to the uninterrupted one`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('without --out: the finished runs are printed, marked partial, and the message promises no resume', async () => {
  for (const [sig, format] of [
    ['SIGINT', 'table'],
    ['SIGTERM', 'csv'],
    ['SIGHUP', 'json'],
  ] as const) {
    const args = ['storm', '--cpus', '1,8,16,32', '--kernel', 'v6.4,newest', '--format', format, '--threads', '1'];
    // off a terminal the sweep prints progress lines (every 100 ms here): signal once one says a run is done
    const r = await runAndSignal(args, sig, (err) => /storm: [1-9]\d*\/8 runs/.test(err), { KMODLAB_PROGRESS_MS: '100' });
    const last = r.stderr.trimEnd().split('\n').at(-1) ?? '';
    const m = /: (\d+) of 8 runs done/.exec(last);
    // the signal came after the last run: a whole sweep (exit 0), or the report being written
    // was ended by it (the sweep's handlers are gone once it is over), as any program's is
    if (r.status === 0 || r.signal === sig) continue;
    assert.ok(m, `${sig}: ${r.stderr}`);
    const done = Number(m[1]);
    assert.ok(done >= 1 && done < 8, last);
    assert.equal(r.status, CODES[sig], r.stderr);
    assert.doesNotMatch(r.stderr, /--out to resume/, 'no --out was given: no promise to resume from it');
    assert.equal(last, `kmodlab: interrupted by ${sig}: ${done} of 8 runs done (printed, marked partial); without --out nothing is kept for a resume`);
    if (format === 'table') {
      assert.equal(r.stdout.split('\n')[0], `partial: ${done} of 8 runs done (interrupted by ${sig})`);
    } else if (format === 'csv') {
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^machine,cpus,kernel,seed,/);
      assert.equal(lines.length, 1 + done, 'the header and one row per finished run');
    } else {
      const recs = JSON.parse(r.stdout) as { cpus: number }[];
      assert.equal(recs.length, done, 'valid JSON holding the finished runs');
    }
  }
});
