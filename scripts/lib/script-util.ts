/**
 * DOC: what the data-generating scripts share — their argv reading, a logged synchronous
 * command runner, and apt options for a private apt state.
 *
 * Why: the snapshot, -dbg snapshot and udev-rules generators each download Debian packages with
 * apt without touching the host's apt setup (own sources list, lists and cache), and each read
 * `--flag VALUE` options and echo the commands they run. One copy keeps them from drifting.
 * (The qemu target's `kernel prepare` has its own, asynchronous apt code in
 * src/targets/qemu/prepare.ts: it also pins an empty dpkg status, which these scripts do not need.)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
/** `--flag` present */
export const flag = (f: string): boolean => argv.includes(f);
/** the value after the first `--flag VALUE` */
export const value = (f: string): string | undefined => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
/** the values after every `--flag VALUE` */
export const values = (f: string): string[] => argv.flatMap((a, i) => (a === f && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));

/** runs a command, echoing it on stderr unless quiet; stdout is returned, stderr passes through */
export function run(cmd: string, args: string[], opts: { cwd?: string; quiet?: boolean } = {}): string {
  if (!opts.quiet) console.error(`+ ${cmd} ${args.join(' ')}`);
  return execFileSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
}

const KEYRING = 'signed-by=/usr/share/keyrings/debian-archive-keyring.gpg';

/**
 * apt options for a private state in `dir` that sees only `suites` (each `SUITE main` of
 * deb.debian.org); creates the directories and writes the sources list.
 */
export function privateAptOpts(dir: string, suites: string[]): string[] {
  for (const d of ['lists/partial', 'cache/archives/partial']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const list = path.join(dir, 'sources.list');
  fs.writeFileSync(list, suites.map((s) => `deb [${KEYRING}] http://deb.debian.org/debian ${s} main\n`).join(''));
  return [
    '-o', `Dir::Etc::SourceList=${list}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${path.join(dir, 'lists')}`,
    '-o', `Dir::Cache=${path.join(dir, 'cache')}`,
  ];
}
