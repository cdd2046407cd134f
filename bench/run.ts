/**
 * DOC: benchmark runner — `npm run bench -- NAME`.
 *
 * Each benchmark is bench/NAME.ts exporting `run()`. Every figure is printed on its own line as
 * `BENCH <metric> <value> <unit>` so scripts can read them; targets are printed beside them as
 * `BENCH <metric>_target <value> <unit>` and a miss is reported, not hidden.
 */
const BENCHES = ['engine', 'selftest', 'storm', 'explore', 'startup'] as const;

async function main(): Promise<number> {
  const name = process.argv[2];
  if (name === undefined || !(BENCHES as readonly string[]).includes(name)) {
    process.stderr.write(`bench: name one of: ${BENCHES.join(', ')} (got ${name ?? 'nothing'})\n`);
    return 2;
  }
  let mod: { run: (args: string[]) => Promise<void> | void };
  try {
    mod = (await import(`./${name}.js`)) as typeof mod;
  } catch (err) {
    process.stderr.write(`bench: ${name}: not yet available (${(err as Error).message.split('\n')[0]})\n`);
    return 2;
  }
  try {
    await mod.run(process.argv.slice(3));
  } catch (err) {
    // a bench's own refusal of its arguments or machine ("bench NAME: …") is one line, not a stack
    const msg = err instanceof Error ? err.message : String(err);
    if (!msg.startsWith('bench ')) throw err;
    process.stderr.write(`${msg.split('\n')[0]}\n`);
    return 2;
  }
  return 0;
}

process.exitCode = await main();
