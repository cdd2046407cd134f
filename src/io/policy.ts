/**
 * DOC: loading a same-name policy plug-in from a file (the interface is kernel/policy.ts).
 *
 * A plug-in is an ES module (.js/.mjs, or .ts compiled on the fly when the `typescript` package is
 * installed) whose default export — or export named `policy` — is a SameNamePolicy. Every problem
 * is one InputError line naming the file: missing, not loadable, or not exporting a policy.
 *
 * A policy holds functions, so it cannot be handed to a worker thread; a worker imports the
 * plug-in's module itself. loadPolicyPlugin therefore also returns that module's path — the file
 * itself, or for a .ts plug-in the .mjs it was compiled to — so a sweep compiles a .ts plug-in
 * once, here, and its workers import the result like any ES module (kernel/policy.ts's
 * policyOfModule checks the export there).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import { policyOfModule, type SameNamePolicy } from '../kernel/policy.js';
import { requireRegularFile } from '../userspace/files.js';
import { compileTsModule } from './ts-module.js';

/** A loaded plug-in: the policy, and the ES module a worker thread imports to get its own. */
export interface PolicyPlugin {
  policy: SameNamePolicy;
  /** absolute path of the plug-in's ES module (a .ts plug-in's compiled .mjs) */
  module: string;
}

/** transpile a .ts plug-in to an .mjs in a fresh temporary directory; returns its path */
async function compileTs(file: string, shown: string): Promise<string> {
  const { dir, module } = await compileTsModule(file, 'kmodlab-policy-', {
    missing: `policy ${file}: a .ts plug-in needs the 'typescript' package; compile it to .js or install typescript`,
    shown: `policy ${shown}`,
  });
  removeWhenDone(dir);
  return module;
}

/** the signals that end kmodlab (by their default action, or through a command's own handler) */
const ENDING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/**
 * The workers import the compiled module while this process lives: it goes when the process
 * ends — at 'exit', and also on a signal that would end it without one (Ctrl-C while a report is
 * written, a SIGTERM before a sweep starts), which left /tmp/kmodlab-policy-* behind. While a
 * command listens for the signal itself (a sweep stopping cleanly), the choice is the command's and
 * 'exit' removes the directory; alone, the directory goes and the signal is raised again with its
 * default action, so the process ends as it would have.
 */
function removeWhenDone(dir: string): void {
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  const handlers = ENDING_SIGNALS.map((sig) => {
    const h = (): void => {
      if (process.listenerCount(sig) > 1) return;
      remove();
      for (const [s, f] of handlers) process.off(s, f);
      process.kill(process.pid, sig);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
}

/** the line of a .js plug-in's SyntaxError: Node's message has none, so parse it again with typescript's parser when installed */
async function syntaxErrorLine(file: string): Promise<string> {
  try {
    const ts = (await import('typescript')).default;
    const out = ts.transpileModule(readFileSync(file, 'utf8'), { fileName: file, reportDiagnostics: true, compilerOptions: { allowJs: true } });
    const bad = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error && d.file !== undefined && d.start !== undefined);
    if (bad !== undefined) return String(bad.file!.getLineAndCharacterOfPosition(bad.start!).line + 1);
  } catch {
    // no typescript: the message alone
  }
  return '?';
}

/** Load a same-name policy plug-in by path (dynamic import), keeping the module's path. */
export async function loadPolicyPlugin(file: string): Promise<PolicyPlugin> {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new InputError(`policy ${file}: no such file`);
  requireRegularFile(abs, `policy ${file}`);
  let module = abs;
  let mod: Record<string, unknown>;
  try {
    if (abs.endsWith('.ts')) module = await compileTs(abs, file);
    mod = (await import(pathToFileURL(module).href)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof SyntaxError) throw new InputError(`policy ${file}:${await syntaxErrorLine(abs)}: syntax error: ${e.message.split('\n')[0]}`);
    throw new InputError(`policy ${file}: cannot load (${(e as Error).message.split('\n')[0]})`);
  }
  return { policy: policyOfModule(mod, file), module };
}

/** Load a same-name policy plug-in by path. */
export async function loadSameNamePolicy(file: string): Promise<SameNamePolicy> {
  return (await loadPolicyPlugin(file)).policy;
}
