/**
 * DOC: `kmodlab kselftest install DIR` — write the `kmod` kselftest collection
 * (src/selftest/kselftest.ts) into an installed kselftest tree, so the kernel's own
 * `run_kselftest.sh -c kmod` (and the CI systems built on it) runs kmodlab unchanged.
 *
 *   kmodlab kselftest install DIR [--target sim|sysfs|qemu:NAME] [--kernel P] [--timeout S]
 *
 * DIR is the kselftest install directory (the one holding run_kselftest.sh and kselftest/):
 * DIR/kmod/kmod.sh, settings and config are written (replacing the kernel's kmod.sh, whose job
 * this one does), and `kmod:kmod.sh` is added to DIR/kselftest-list.txt, every other line kept.
 * Each file is written atomically. The wrapper calls this kmodlab by absolute path.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../errors.js';
import { checkOutputDir, writeOutputFile } from '../../io/output.js';
import { resolvePreset } from '../../kernel/presets.js';
import { KSELFTEST_ENTRY, kselftestCollection, targetKind, withListEntry } from '../../selftest/kselftest.js';
import { kernelSpec } from '../../targets/qemu/kernels.js';
import { intOption } from '../options.js';

/** bin/kmodlab.js of this checkout: dist/src/cli/commands/ → four levels up */
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../bin/kmodlab.js');

interface InstallOpts {
  target: string;
  kernel?: string;
  timeout?: string;
}

export async function installCollection(dir: string, o: InstallOpts): Promise<{ files: string[]; timeoutS: number; runner: boolean }> {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) throw new InputError(`${dir}: no such directory (the kselftest install directory, e.g. where run_kselftest.sh is)`);
  if (!st.isDirectory()) throw new InputError(`${dir}: not a directory`);
  if (o.target !== 'sim' && o.target !== 'sysfs' && !o.target.startsWith('qemu:'))
    throw new InputError(`--target ${o.target}: want sim, sysfs or qemu:NAME`);
  if (o.target.startsWith('qemu:')) kernelSpec(o.target.slice(5));
  if (o.kernel !== undefined) {
    if (o.target !== 'sim') throw new InputError(`--kernel: only for --target sim (got --target ${o.target})`);
    resolvePreset(o.kernel);
  }
  const timeoutS = o.timeout !== undefined ? intOption('--timeout', o.timeout, 5) : undefined;
  const files = kselftestCollection({
    kmodlab: [process.execPath, BIN],
    target: o.target,
    ...(o.kernel !== undefined ? { kernel: o.kernel } : {}),
    ...(timeoutS !== undefined ? { timeoutS } : {}),
  });
  const kmodDir = path.join(dir, 'kmod');
  checkOutputDir('kselftest install', kmodDir);
  mkdirSync(kmodDir, { recursive: true });
  const written: string[] = [];
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await writeOutputFile('kselftest install', file, text);
    written.push(file);
  }
  chmodSync(path.join(dir, 'kmod/kmod.sh'), 0o755);
  const list = path.join(dir, 'kselftest-list.txt');
  await writeOutputFile('kselftest install', list, withListEntry(existsSync(list) ? readFileSync(list, 'utf8') : null));
  written.push(list);
  const settings = /^timeout=(\d+)$/m.exec(files['kmod/settings'])?.[1];
  return { files: written, timeoutS: Number(settings), runner: existsSync(path.join(dir, 'run_kselftest.sh')) };
}

/** `kmodlab kselftest install DIR` (declared in ../declare/kselftest.ts) */
export async function installAction(dir: string, o: InstallOpts): Promise<void> {
  const r = await installCollection(dir, o);
  process.stderr.write(
    `kmodlab: kselftest collection kmod (${KSELFTEST_ENTRY}, target ${o.target}, ${targetKind(o.target)} timeout ${r.timeoutS} s) in ${dir}\n` +
      (r.runner
        ? `kmodlab: run it with ${path.join(dir, 'run_kselftest.sh')} -c kmod (KSELFTEST_KMOD_SH_ARGS passes kmod.sh and kmodlab options)\n`
        : `kmodlab: no run_kselftest.sh in ${dir}: it and kselftest/ come from the kernel's tools/testing/selftests\n`),
  );
}
