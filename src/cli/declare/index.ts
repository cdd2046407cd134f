/**
 * DOC: the command set. Each command declares itself (name, arguments, options, help) from its
 * own file here and imports its implementation, src/cli/commands/NAME.ts, only when it runs — so
 * `kmodlab --help`, `kernels` and `machines` load commander and little else (issue 15). A command
 * whose issue has not landed answers "not yet available" with exit code 2 (never a fake result).
 */
import type { Command } from 'commander';
import { NotYetAvailable } from '../../errors.js';

type Register = (program: Command) => void;

/*
 * Each command's declaration, imported when it is declared: a run names one command, and
 * declaring only that one spares loading the others' declarations (and what they import for
 * their option choices, e.g. the qemu kernel list). In the order `kmodlab --help` lists them.
 */
const DECLARATIONS: Readonly<Record<string, () => Promise<Register>>> = {
  kernel: async () => (await import('./kernel.js')).registerKernelCommand,
  machines: async () => (await import('./machines.js')).register,
  kernels: async () => (await import('./kernels.js')).register,
  selftest: async () => (await import('./selftest.js')).register,
  storm: async () => (await import('./storm.js')).register,
  trace: async () => (await import('./trace.js')).register,
  stats: async () => (await import('./stats.js')).register,
  explore: async () => (await import('./explore.js')).register,
  baseline: async () => (await import('./baseline.js')).register,
  kselftest: async () => (await import('./kselftest.js')).register,
};

interface PendingCommand {
  name: string;
  summary: string;
}

/** Commands wired now and filled in by later issues. */
const PENDING: PendingCommand[] = [];

/**
 * Declare the command set on PROGRAM: only the command NAME when it is one of them (the
 * command line's first word), else every command (help, a usage error, an unknown word).
 */
export async function registerCommands(program: Command, name?: string): Promise<void> {
  const only = name !== undefined && Object.hasOwn(DECLARATIONS, name) ? [DECLARATIONS[name]!] : Object.values(DECLARATIONS);
  const registers = await Promise.all(only.map((load) => load()));
  for (const register of registers) register(program);
  if (only.length === 1) return;
  for (const c of PENDING) {
    program
      .command(c.name)
      .description(c.summary)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .helpOption(false)
      .action(() => {
        throw new NotYetAvailable(c.name);
      });
  }
}
