/**
 * DOC: `kmodlab selftest` — the kmod.sh port on a target.
 *
 *   kmodlab selftest [kmod.sh args…] [--target sim|sysfs|qemu:NAME] [--kernel P] [--machine M]
 *                    [--cpus N] [--seed N] [--ktap] [--keep-going] [--test-modules B]
 *                    [--snapshot NAME] [--kmod-version N] [--kmod-sh ERA] [--dmesg FILE]
 *                    [--results DIR]
 *
 * kmod.sh's own arguments (`all`, `-t NNNN`, `-s NNNN`, `-c NNNN K`, `-w [NNNN]`, `-l`, `-h`,
 * `--help`) pass through unchanged, so `-h`/`--help` print kmod.sh's usage (exit 1, as the
 * script does); `kmodlab help selftest` shows this command's options. kmod.sh's environment
 * variables (DEFAULT_KMOD_DRIVER, DEFAULT_KMOD_FS, MODPROBE_LIMIT, DEFAULT_NUM_TESTS, PROC_DIR,
 * DIR, MODPROBE_LIMIT_FILE) are read from the environment. The exit code is kmod.sh's: 0 pass,
 * 1 fail (or usage), 4 skip; 2 for a bad kmodlab option. --results DIR keeps the run in
 * DIR/<release>/<run id>/ (src/results/results-dir.ts): ktap.txt, kmod.sh.txt, record.json,
 * command.json, and the kernel log (sim: dmesg.txt; qemu: the --log-dir files).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stdout } from '../stdio.js';
import { errorLine, EXIT_USAGE, InputError } from '../../errors.js';
import { resolvePreset } from '../../kernel/presets.js';
import { loadSnapshot } from '../../userspace/depmod/snapshot.js';
import { loadPresetFile } from '../../io/presets.js';
import { KmodShReporter, KtapReporter, NEWEST_KMOD_SH, isEra, runSelftest, runStop, type KmodShEra, type SelftestReporter } from '../../selftest/index.js';
import { createSimTarget, type TestModuleBuild } from '../../targets/sim.js';
import type { Target } from '../../selftest/target.js';
import { intOption, secondsOption } from '../options.js';

/*
 * Loaded only when an option needs them (a plain simulator run is a whole process that should
 * start fast): the output-file checks (write-file-atomic), --results (node:crypto and
 * node:child_process through results-dir and results-option), the sysfs target.
 */
const outputFiles = () => import('../../io/output.js');
const resultsDir = async () => ({ ...(await import('../../results/results-dir.js')), ...(await import('../results-option.js')), ...(await import('../selftest-capture.js')) });

export interface SelftestOpts {
  target: string;
  kernel?: string;
  machine?: string;
  cpus?: string;
  seed?: string;
  ktap?: boolean;
  keepGoing?: boolean;
  testModules?: string;
  kmodSh?: string;
  dmesg?: string;
  watchRounds?: string;
  mem?: string;
  timeout?: string;
  accel?: string;
  logDir?: string;
  compare?: boolean;
  results?: string;
  snapshot?: string;
  kmodVersion?: string;
  restore?: boolean;
}

/** --kmod-sh ERA, checked; undefined when not given */
function kmodShOption(v: string | undefined): KmodShEra | undefined {
  if (v !== undefined && !isEra(v)) throw new InputError(`--kmod-sh ${v}: want v4.13, v5.7 or v5.8`);
  return v;
}

/** --target qemu:NAME: boot, run, keep the four session outcomes apart (src/targets/qemu/selftest.ts);
 *  --compare sets the run beside its sim model (src/experiments/selftest-compare.ts) */
async function runQemuCli(
  kmodShArgs: string[],
  o: SelftestOpts,
  io: { stdout: (s: string) => void; stderr: (s: string) => void; env: Readonly<Record<string, string | undefined>> },
): Promise<number> {
  for (const [name, v] of [
    ['--kernel', o.kernel],
    ['--machine', o.machine],
    ['--seed', o.seed],
    ['--test-modules', o.testModules],
    ['--snapshot', o.snapshot],
    ['--kmod-version', o.kmodVersion],
  ] as const)
    if (v !== undefined) throw new InputError(`${name}: only for --target sim (got --target ${o.target})`);
  if (o.ktap && kmodShArgs[0] === '-w') throw new InputError('--ktap: not with -w (watch runs until a failure)');
  // a real kernel runs the newest script unless told otherwise
  const era = kmodShOption(o.kmodSh) ?? NEWEST_KMOD_SH;
  if (o.accel !== undefined && !['tcg', 'kvm', 'auto'].includes(o.accel)) throw new InputError(`--accel ${o.accel}: want tcg, kvm or auto`);
  const q = await import('../../targets/qemu/index.js');
  const keepGoing = o.keepGoing ?? false;
  if (o.results !== undefined && o.logDir !== undefined) throw new InputError('--log-dir: not with --results (the run directory keeps the guest logs)');
  // before the boot: a directory that cannot be made fails now (Node's recursive mkdir spins forever under /proc)
  if (o.logDir !== undefined) (await outputFiles()).checkOutputDir('--log-dir', o.logDir);
  const res = o.results !== undefined ? await resultsDir() : null;
  const pending = res !== null ? res.PendingRun.open(o.results!) : null;
  const text = res !== null ? res.captureSelftestText() : null;
  const run = await q.runQemuSelftest(
    {
      spec: o.target,
      args: kmodShArgs,
      era,
      ktap: o.ktap ?? false,
      keepGoing,
      ...(o.watchRounds !== undefined ? { watchRounds: intOption('--watch-rounds', o.watchRounds, 1) } : {}),
      ...(o.dmesg !== undefined ? { dmesg: o.dmesg } : {}),
      ...(o.logDir !== undefined ? { logDir: o.logDir } : {}),
      ...(pending ? { logDir: pending.tmp, wrapReporter: (r) => res!.teeReporter(r, ...text!.reporters) } : {}),
      keepKernelLog: o.compare ?? false,
      ...(o.cpus !== undefined ? { cpus: intOption('--cpus', o.cpus, 1) } : {}),
      ...(o.mem !== undefined ? { memMiB: intOption('--mem', o.mem, 256) } : {}),
      ...(o.timeout !== undefined ? { timeoutS: secondsOption('--timeout', o.timeout, 0) } : {}),
      ...(o.accel !== undefined ? { accel: o.accel as 'tcg' | 'kvm' | 'auto' } : {}),
    },
    io,
  ).catch((e: unknown) => {
    pending?.discard();
    throw e;
  });
  if (pending) {
    // a session that did not run to its end keeps no run directory (its logs would be partial)
    if (run.report === null || run.report.outcome.state !== 'ran') {
      pending.discard();
      io.stderr('kmodlab: --results: the session did not run to its end; no run kept\n');
    } else {
      pending.write('ktap.txt', text!.ktap());
      pending.write('kmod.sh.txt', text!.kmodSh());
      const dir = pending.commit(res!.runCommand('selftest', run.report.kernel, o.target, io.env), run.report, undefined);
      io.stderr(`kmodlab: results in ${dir}\n`);
    }
  }
  if (!o.compare) return run.exitCode;
  const { compareWithSim } = await import('../../experiments/selftest-compare.js');
  const c = await compareWithSim(run, { name: q.parseQemuTargetName(o.target), args: kmodShArgs, env: io.env, era, keepGoing });
  if (c.kind === 'skipped') io.stderr(`kmodlab: --compare: skipped, ${c.reason}\n`);
  if (c.kind !== 'compared') return run.exitCode;
  io.stdout(c.text);
  if (o.logDir) {
    mkdirSync(o.logDir, { recursive: true });
    writeFileSync(join(o.logDir, 'compare.txt'), c.comparison.text);
  }
  return c.exitCode;
}

export interface SelftestCliResult {
  exitCode: number;
}

/** Build the target, run kmod.sh, close the target. Exported for tests. */
export async function runSelftestCli(
  kmodShArgs: string[],
  o: SelftestOpts,
  io: { stdout: (s: string) => void; stderr: (s: string) => void; env: Readonly<Record<string, string | undefined>> },
): Promise<number> {
  const isWatch = kmodShArgs[0] === '-w';
  if (o.restore === true && o.target !== 'sysfs') throw new InputError(`--restore: only for --target sysfs (got --target ${o.target})`);
  // output paths are checked before the suite runs: a bad one must not cost the results
  if (o.dmesg !== undefined) (await outputFiles()).checkOutputFile('--dmesg', o.dmesg);
  if (o.target.startsWith('qemu:') && o.target.length > 5) return runQemuCli(kmodShArgs, o, io);
  for (const [name, v] of [['--mem', o.mem], ['--accel', o.accel], ['--log-dir', o.logDir], ['--compare', o.compare]] as const)
    if (v !== undefined) throw new InputError(`${name}: only for --target qemu:NAME (got --target ${o.target})`);
  if (o.ktap && isWatch) throw new InputError('--ktap: not with -w (watch runs until a failure)');
  const simOnly: [string, string | undefined][] = [
    ['--kernel', o.kernel],
    ['--machine', o.machine],
    ['--cpus', o.cpus],
    ['--seed', o.seed],
    ['--test-modules', o.testModules],
    ['--snapshot', o.snapshot],
    ['--kmod-version', o.kmodVersion],
  ];
  const t = o.target;
  if (t !== 'sim') {
    for (const [name, v] of simOnly) if (v !== undefined) throw new InputError(`${name}: only for --target sim (got --target ${t})`);
  }
  const kmodSh = kmodShOption(o.kmodSh);
  const cpus = o.cpus === undefined ? undefined : intOption('--cpus', o.cpus, 1);
  const seed = o.seed === undefined ? undefined : intOption('--seed', o.seed, 0);
  const kmodVersion = o.kmodVersion === undefined ? undefined : intOption('--kmod-version', o.kmodVersion, 1);
  // the module set is read (and a bad name refused) before the suite starts
  if (o.snapshot !== undefined) loadSnapshot(o.snapshot);
  const watchRounds = o.watchRounds === undefined ? undefined : intOption('--watch-rounds', o.watchRounds, 1);
  const timeoutS = o.timeout === undefined ? undefined : secondsOption('--timeout', o.timeout, 1);
  let testModules: TestModuleBuild | undefined;
  if (o.testModules !== undefined) {
    if (o.testModules !== 'in-tree' && o.testModules !== 'out-of-tree') throw new InputError(`--test-modules ${o.testModules}: want in-tree or out-of-tree`);
    testModules = o.testModules;
  }

  // which kmod.sh runs: --kmod-sh, else the one the kernel ships (the preset's), else the newest
  let era: KmodShEra;
  let target: Target;
  let simPresetName = 'newest';
  if (t === 'sim') {
    // a preset name, or a preset JSON file (accepted wherever a preset name is)
    const preset = o.kernel?.endsWith('.json') === true ? loadPresetFile(o.kernel) : resolvePreset(o.kernel ?? 'newest');
    simPresetName = preset.name;
    era = kmodSh ?? preset.constants.kmodSh;
    target = createSimTarget({
      kernel: preset,
      machine: o.machine ?? 'qemu-tcg',
      ...(cpus !== undefined ? { cpus } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(testModules !== undefined ? { testModules } : {}),
      ...(o.snapshot !== undefined ? { modules: o.snapshot } : {}),
      ...(kmodVersion !== undefined ? { kmodVersion } : {}),
      ...(io.env.DIR ? { dir: io.env.DIR } : {}),
    });
  } else if (t === 'sysfs') {
    era = kmodSh ?? NEWEST_KMOD_SH;
    // KMODLAB_SYSFS_MODPROBE / KMODLAB_SYSFS_STATE point the sysctl and its state file elsewhere (tests)
    const where = {
      ...(io.env.KMODLAB_SYSFS_MODPROBE ? { modprobeSysctl: io.env.KMODLAB_SYSFS_MODPROBE } : {}),
      ...(io.env.KMODLAB_SYSFS_STATE ? { stateFile: io.env.KMODLAB_SYSFS_STATE } : {}),
    };
    const { MODPROBE_SYSCTL, restoreFromState, stateFileFor, SysfsTarget } = await import('../../targets/sysfs.js');
    if (o.restore === true) {
      if (kmodShArgs.length > 0) throw new InputError(`--restore: takes no kmod.sh arguments (got ${kmodShArgs.join(' ')})`);
      const line = restoreFromState({ ...(where.modprobeSysctl ? { sysctl: where.modprobeSysctl } : {}), ...(where.stateFile ? { stateFile: where.stateFile } : {}) });
      const sysctl = where.modprobeSysctl ?? MODPROBE_SYSCTL;
      io.stderr(`kmodlab: ${line ?? `nothing to restore: no run left ${sysctl} changed (no ${where.stateFile ?? stateFileFor(where.modprobeSysctl)})`}\n`);
      return 0;
    }
    target = new SysfsTarget({ ...(io.env.DIR ? { dir: io.env.DIR } : {}), ...where, onRestore: (line) => io.stderr(`kmodlab: ${line}\n`) });
  } else {
    throw new InputError(`--target ${t}: want sim, sysfs or qemu:NAME`);
  }

  const shown: SelftestReporter = o.ktap ? new KtapReporter(io.stdout) : new KmodShReporter(io.stdout, io.stderr);
  if (o.results !== undefined && t !== 'sim') throw new InputError(`--results: for --target sim or qemu:NAME (got --target ${t})`);
  const res = o.results !== undefined ? await resultsDir() : null;
  const pending = res !== null ? res.PendingRun.open(o.results!) : null;
  const text = res !== null ? res.captureSelftestText() : null;
  const reporter = text ? res!.teeReporter(shown, ...text.reporters) : shown;
  // SIGINT, SIGTERM and --timeout stop the run with every open KTAP level closed (and the
  // modprobe path restored on a real target)
  const stop = runStop(timeoutS !== undefined ? { timeoutS } : {});
  try {
    const r = await runSelftest({
      target,
      args: kmodShArgs,
      env: io.env,
      era,
      reporter,
      keepGoing: o.keepGoing ?? false,
      ...(watchRounds !== undefined ? { watchRounds } : {}),
      signal: stop.signal,
    });
    if (r.interrupted !== null) io.stderr(`kmodlab: ${t}: stopped, ${r.interrupted.reason} (exit ${r.exitCode})\n`);
    if (pending && r.interrupted === null) {
      const release = res!.simRelease(simPresetName);
      pending.write('ktap.txt', text!.ktap());
      pending.write('kmod.sh.txt', text!.kmodSh());
      pending.write('dmesg.txt', await target.kernelLog());
      const { testRecords } = await import('../../targets/qemu/selftest.js');
      const record = { target: 'sim', kernel: release, exitCode: r.exitCode, tests: testRecords(r, new Map()) };
      io.stderr(`kmodlab: results in ${pending.commit(res!.runCommand('selftest', release, 'sim', io.env), record, seed ?? 1)}\n`);
    }
    if (o.dmesg !== undefined) {
      try {
        await (await outputFiles()).writeOutputFile('--dmesg', o.dmesg, await target.kernelLog());
      } catch (err) {
        // the suite's verdict stands; the lost log is said in one line (and is a failure if it passed)
        io.stderr(`kmodlab: ${errorLine(err)}\n`);
        return r.exitCode === 0 ? EXIT_USAGE : r.exitCode;
      }
    }
    return r.exitCode;
  } finally {
    pending?.discard();
    await target.close();
    stop.dispose();
  }
}

/** `kmodlab selftest [kmod.sh args…]` (declared in ../declare/selftest.ts) */
export async function selftestAction(kmodsh: string[], opts: SelftestOpts): Promise<void> {
  // kmod.sh's only long option is --help: any other --long one is a mistyped kmodlab option
  const unknown = kmodsh.find((a) => a.startsWith('--') && a !== '--help');
  if (unknown !== undefined) throw new InputError(`unknown option '${unknown.split('=')[0]}' (kmodlab help selftest lists the options)`);
  const code = await runSelftestCli(kmodsh, opts, {
    stdout: (s) => stdout(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
  });
  process.exitCode = code;
}
