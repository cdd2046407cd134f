/**
 * Test helper (not a test): run one command through commander in this process and return what
 * it wrote to stdout.
 */
import { Command } from 'commander';
// as in the CLI (src/cli/main.ts), stdio.ts is loaded before any command: it takes Node's own
// stdout.write as the one to bypass, so the replacement below must not be the first it sees
// (a command's module is imported only when its action runs, inside the capture)
import '../src/cli/stdio.js';

export async function runCommand(register: (program: Command) => void, args: string[], name = 'kmodlab'): Promise<string> {
  const program = new Command().name(name).exitOverride();
  register(program);
  let out = '';
  const orig = process.stdout.write.bind(process.stdout);
  // a command's output is text; bytes are the test runner's own reports (a file run by
  // `node --test` reports to its parent on stdout), which go on while an action awaits the
  // import of its module (src/cli/declare/lazy.ts), and must pass
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = orig;
  }
  return out;
}
