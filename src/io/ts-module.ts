/**
 * DOC: a user's TypeScript module (a policy plug-in, an explore scenario) compiled on the fly to
 * an .mjs that Node can import. One loader for both, so both refuse the same things the same
 * way: without the `typescript` package, one line saying so; a syntax error (which the
 * transpiler would silently "repair" into different code), one line naming file:line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';

export interface TsMessages {
  /** the line when the typescript package is not installed */
  missing: string;
  /** how the file is named before `:LINE: syntax error: …` */
  shown: string;
}

/** the ES module text of a .ts file */
export async function transpileTs(file: string, m: TsMessages): Promise<string> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch {
    throw new InputError(m.missing);
  }
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: file,
    reportDiagnostics: true,
  });
  const bad = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (bad !== undefined) {
    const line = bad.file !== undefined && bad.start !== undefined ? bad.file.getLineAndCharacterOfPosition(bad.start).line + 1 : 1;
    throw new InputError(`${m.shown}:${line}: syntax error: ${ts.flattenDiagnosticMessageText(bad.messageText, ' ')}`);
  }
  return out.outputText;
}

/** compile a .ts file into NAME.mjs in a fresh temporary directory (`prefix`…); the caller removes `dir` */
export async function compileTsModule(file: string, prefix: string, m: TsMessages): Promise<{ dir: string; module: string }> {
  const js = await transpileTs(file, m);
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const module = path.join(dir, `${path.basename(file).replace(/\.m?ts$/, '')}.mjs`);
  writeFileSync(module, js);
  return { dir, module };
}
