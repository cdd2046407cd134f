/**
 * Test helper (not a test): run one command through commander in this process and return what
 * it wrote to stdout.
 */
import { Command } from 'commander';

export async function runCommand(register: (program: Command) => void, args: string[], name = 'kmodlab'): Promise<string> {
  const program = new Command().name(name).exitOverride();
  register(program);
  let out = '';
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = orig;
  }
  return out;
}
