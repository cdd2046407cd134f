/**
 * `kmodlab storm` is four storms behind one option list (the simulated coldplug sweep, the real
 * coldplug boot, and --parallel on the simulator or in a guest); an option the chosen storm does
 * not read is refused with one line naming it, never dropped (issue 12, item 10: --module,
 * --path, --mem, --target were ignored without --parallel; so were --cpu-model on the simulator
 * and --svg, --policy, --seeds … with --parallel). The table of what each storm reads must cover
 * every option the command declares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerCommands } from '../../src/cli/declare/index.js';
import { InputError } from '../../src/errors.js';
import { refuseUnreadStormOptions, STORM_OPTION_MODES, stormMode, type StormMode } from '../../src/cli/commands/storm-modes.js';

const program = new Command();
await registerCommands(program);
const storm = program.commands.find((c) => c.name() === 'storm')!;
const declared = storm.options.map((o) => ({ key: o.attributeName(), flag: o.long! }));

test('every option of kmodlab storm says which storms read it', () => {
  assert.deepEqual(declared.map((d) => d.key).sort(), Object.keys(STORM_OPTION_MODES).sort());
});

const MODES: Record<StormMode, { parallel?: string; target?: string }> = {
  'coldplug-sim': {},
  'coldplug-qemu': { target: 'qemu:debian-6.1' },
  'parallel-sim': { parallel: '1' },
  'parallel-qemu': { parallel: '1', target: 'qemu:debian-6.1' },
};

/** a command whose options `given` came from the command line */
const givenOnly = (given: readonly string[]) => ({ getOptionValueSource: (k: string) => (given.includes(k) ? 'cli' : k === 'machine' || k === 'cpus' ? 'default' : undefined) });

for (const [mode, o] of Object.entries(MODES) as [StormMode, (typeof MODES)[StormMode]][]) {
  test(`${mode}: each option it does not read is refused, naming the option; the ones it reads pass`, () => {
    assert.equal(stormMode(o), mode);
    const base = Object.keys(o);
    let refused = 0;
    for (const { key, flag } of declared) {
      if (base.includes(key)) continue;
      const run = () => refuseUnreadStormOptions(o, givenOnly([...base, key]));
      if (STORM_OPTION_MODES[key]!.includes(mode)) {
        assert.doesNotThrow(run, `${flag} is read by ${mode}`);
        continue;
      }
      refused++;
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof InputError && e.exitCode === 2, String(e));
        assert.ok(e.message.startsWith(`${flag}: `), e.message);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      }, `${flag} with ${mode}`);
    }
    assert.ok(refused >= 8, `${mode}: ${refused} options refused`);
  });
}

test('the options not given are never refused (a default is no request)', () => {
  for (const o of Object.values(MODES)) assert.doesNotThrow(() => refuseUnreadStormOptions(o, givenOnly(Object.keys(o))));
});

test('--kernel with --parallel --target sim:PRESET is refused: the target names the preset', () => {
  assert.throws(() => refuseUnreadStormOptions({ parallel: '1', target: 'sim:v6.4' }, givenOnly(['parallel', 'target', 'kernel'])), /^InputError: --kernel: not with --target sim:v6\.4 \(the target names the preset\)$/);
  assert.doesNotThrow(() => refuseUnreadStormOptions({ parallel: '1', target: 'sim' }, givenOnly(['parallel', 'target', 'kernel'])));
});
