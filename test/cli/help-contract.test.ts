/**
 * The help text of every command is a contract (option names, defaults, the words): this walks
 * the command tree as a user would — `kmodlab --help`, then `PATH… --help` for every command its
 * "Commands:" list names, `kmodlab help NAME` for each top-level command (selftest's own --help
 * is kmod.sh's) and its usage error for an unknown option — and compares the whole text, stdout
 * and stderr, with each exit code, byte for byte with test/fixtures/cli/help.txt.
 * UPDATE_GOLDEN=1 rewrites the file (a deliberate change of the help).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pool, root, runCli } from './run-cli.js';

const golden = path.join(root, 'test/fixtures/cli/help.txt');

/** the subcommand names of a help text's "Commands:" section (the implicit `help` left out) */
export function subcommands(help: string): string[] {
  const at = help.indexOf('\nCommands:\n');
  if (at < 0) return [];
  const names: string[] = [];
  for (const line of help.slice(at + '\nCommands:\n'.length).split('\n')) {
    if (line === '' || !line.startsWith(' ')) break;
    const m = /^ {2}(\S+)/.exec(line);
    if (m && m[1] !== 'help') names.push(m[1]!);
  }
  return names;
}

async function helpOf(args: string[]): Promise<{ args: string[]; text: string; help: string }> {
  // stdout is a pipe, so commander wraps at its default 80 columns whatever the terminal
  const r = await runCli(args);
  return { args, help: r.stdout, text: `## kmodlab ${args.join(' ')} (exit ${r.status})\n${r.stdout}${r.stderr === '' ? '' : `-- stderr\n${r.stderr}`}` };
}

test('the help of every command is byte-identical to test/fixtures/cli/help.txt', { timeout: 300_000 }, async () => {
  const out: string[] = [];
  const top = await helpOf(['--help']);
  out.push(top.text);
  out.push((await helpOf(['--version'])).text);
  const names = subcommands(top.help);
  assert.ok(names.includes('storm') && names.includes('selftest'), `the top-level help lists the commands (got ${names.join(', ')})`);
  // breadth first, in the order the help lists them, so the file reads like the tree
  let level = names.map((n) => [n]);
  while (level.length > 0) {
    const helps = await pool(level, 2, (p) => helpOf([...p, '--help']));
    const next: string[][] = [];
    for (const h of helps) {
      out.push(h.text);
      for (const s of subcommands(h.help)) next.push([...h.args.slice(0, -1), s]);
    }
    level = next;
  }
  for (const h of await pool(names, 2, (n) => helpOf(['help', n]))) out.push(h.text);
  // and the usage error beside the help: one line, exit 2
  for (const h of await pool(names, 2, (n) => helpOf([n, '--no-such-option']))) out.push(h.text);
  const text = out.join('\n');
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(path.dirname(golden), { recursive: true });
    writeFileSync(golden, text);
  }
  assert.equal(text, readFileSync(golden, 'utf8'), `the help differs from ${golden} (UPDATE_GOLDEN=1 to accept a deliberate change)`);
});
