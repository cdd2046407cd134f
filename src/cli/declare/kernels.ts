/**
 * DOC: `kmodlab kernels` as the command line shows it; the table and JSON are made by
 * ../commands/kernels.ts, imported when the command runs.
 */
import type { Command } from 'commander';
import { lazy } from './lazy.js';

/** Add `--preset-file FILE` to a command. */
export function presetOption(cmd: Command): Command {
  return cmd.option('--preset-file <file>', 'a kernel preset in JSON ({name, basedOn, flags, constants})');
}

const load = () => import('../commands/kernels.js');

export function register(program: Command): void {
  const kernels = presetOption(
    program
      .command('kernels')
      .description('list kernel presets and their flags')
      .option('--json', 'all presets as JSON'),
  ).action(lazy(load, 'kernelsAction'));
  presetOption(
    kernels
      .command('show')
      .description('one preset as JSON (flags and constants)')
      .argument('[name]', 'preset name (see `kmodlab kernels`)'),
  ).action(lazy(load, 'showAction'));
}
