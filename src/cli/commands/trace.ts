/**
 * DOC: `kmodlab trace` — the timeline of one simulated coldplug boot as Chrome trace-event JSON
 * (open it in Perfetto or chrome://tracing) and, with --svg, as a picture.
 */
import { InputError } from '../../errors.js';
import { checkOutputFile, writeOutputFile } from '../../io/output.js';
import { stdout } from '../stdio.js';
import { runStorm } from '../../experiments/storm.js';
import { renderTraceSvg, toChromeTrace } from '../../report/trace.js';
import { bootPoint, type BootPointOpts } from './boot-point.js';

/** `kmodlab trace` (declared in ../declare/trace.ts) */
export async function traceAction(o: BootPointOpts & { out: string; svg?: string }): Promise<void> {
  // `-` is stdout, as users mean it: for one of the two outputs (the other then goes to its file)
  if (o.out !== '-') checkOutputFile('--out', o.out);
  if (o.svg === '-' && o.out === '-') throw new InputError('--svg -: --out - writes the trace to stdout already; give the picture a file name');
  if (o.svg !== undefined && o.svg !== '-') checkOutputFile('--svg', o.svg);
  const { point, machineName } = await bootPoint(o);
  const run = await runStorm(point, { log: true });
  const records = run.system.sim.log.records;
  const meta = { machine: `${machineName}, ${point.cpus} CPUs, ${run.preset.name}, seed ${point.seed}`, tool: 'kmodlab trace' };
  const trace = toChromeTrace(records, meta);
  // `--out -` is stdout, as users mean it
  if (o.out === '-') stdout(`${JSON.stringify(trace)}\n`);
  else await writeOutputFile('--out', o.out, JSON.stringify(trace));
  process.stderr.write(`kmodlab: wrote ${o.out === '-' ? 'stdout' : o.out} (${trace.traceEvents.length} events, ${records.length} log records)\n`);
  if (o.svg !== undefined) {
    const svg = await renderTraceSvg(records, meta.machine);
    if (o.svg === '-') stdout(svg.endsWith('\n') ? svg : `${svg}\n`);
    else await writeOutputFile('--svg', o.svg, svg);
    process.stderr.write(`kmodlab: wrote ${o.svg === '-' ? 'stdout' : o.svg}\n`);
  }
}
