/**
 * DOC: the kmodlab command line.
 *
 * Argument parsing and wiring only (commander): each command is declared in src/cli/declare/ and
 * lives in src/cli/commands/, loaded when it runs, and calls into the library. Unknown commands
 * and options are usage errors: one line, exit 2.
 */
import { Command, CommanderError } from 'commander';
import { errorLine, InputError } from '../errors.js';
import { registerCommands } from './declare/index.js';
import { installPipeGuards } from './stdio.js';

/** the command line; with NAME (argv's first word) only that command is declared (declare/index.ts) */
export async function buildProgram(name?: string): Promise<Command> {
  const program = new Command();
  program
    .name('kmodlab')
    .description(
      "A toolkit for the Linux kernel's module loader: the kmod.sh selftest and boot-time\n" +
        'duplicate-load storms on a simulated kernel (v4.9 to newest) or a real one under QEMU.',
    )
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(false)
    // a subcommand's options belong to it (`storm merge --format` is merge's, not storm's)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      // commander's own usage errors: keep to one line, prefixed like ours.
      outputError: (str, write) => write(`kmodlab: ${str.replace(/^error: /, '').split('\n')[0]}\n`),
    });
  await registerCommands(program, name);
  return program;
}

const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<number> {
  installPipeGuards();
  const program = await buildProgram(argv[0]);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; every usage error (unknown command/option, missing argument) exits 2
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof InputError) {
      process.stderr.write(`kmodlab: ${errorLine(err)}\n`);
      return err.exitCode;
    }
    process.stderr.write(`kmodlab: ${errorLine(err)}\n`);
    if (process.env.KMODLAB_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
