/**
 * DOC: a command's action, imported when the command runs.
 *
 * `kmodlab --help`, `kernels` or `machines` must not pay for the simulator, zod, the reports and
 * the qemu target that the other commands need (issue 15: start-up in a tenth of a second). So a
 * command is declared in src/cli/declare/ (name, arguments, options, defaults, help text) and its
 * action is `lazy(() => import('../commands/X.js'), 'name')`: the implementation module is loaded
 * on the first call, with commander's arguments passed through unchanged. An error it throws takes
 * the same way to main's one-line handler as before.
 */

/** a function export of a module, called with commander's action arguments once the module is loaded */
export function lazy<M, K extends keyof M>(load: () => Promise<M>, name: K) {
  type F = M[K] extends (...args: infer A) => infer R ? (...args: A) => R : never;
  return async (...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> => {
    const fn = (await load())[name] as unknown as (...a: Parameters<F>) => ReturnType<F>;
    return await fn(...args);
  };
}
