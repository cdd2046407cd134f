/**
 * DOC: the command set. Each command declares itself (name, arguments, options, help) from its
 * own file here and imports its implementation, src/cli/commands/NAME.ts, only when it runs — so
 * `kmodlab --help`, `kernels` and `machines` load commander and little else (issue 15). A command
 * whose issue has not landed answers "not yet available" with exit code 2 (never a fake result).
 */
import type { Command } from 'commander';
import { NotYetAvailable } from '../../errors.js';
import { registerKernelCommand } from './kernel.js';
import { register as registerMachines } from './machines.js';
import { register as registerKernels } from './kernels.js';
import { register as registerSelftest } from './selftest.js';
import { register as registerStorm } from './storm.js';
import { register as registerTrace } from './trace.js';
import { register as registerStats } from './stats.js';
import { register as registerExplore } from './explore.js';
import { register as registerBaseline } from './baseline.js';
import { register as registerKselftest } from './kselftest.js';

interface PendingCommand {
  name: string;
  summary: string;
}

/** Commands wired now and filled in by later issues. */
const PENDING: PendingCommand[] = [];

export function registerCommands(program: Command): void {
  registerKernelCommand(program);
  registerMachines(program);
  registerKernels(program);
  registerSelftest(program);
  registerStorm(program);
  registerTrace(program);
  registerStats(program);
  registerExplore(program);
  registerBaseline(program);
  registerKselftest(program);
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
