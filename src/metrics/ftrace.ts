/**
 * DOC: a tracefs `trace` file, read — the lines the coldplug's instruments write.
 *
 * The guest (scripts/coldplug/init) enables the syscall tracepoints of finit_module and
 * init_module, module:module_load and module:module_free, kprobes (`kml/open` on
 * do_sys_openat2 with the path, filtered to *.ko*, `kml/valloc` on the vmalloc allocator with
 * the size, `kml/vmap` on vmap() with the page count, `kml/devadd` on device_add with the device's
 * name), and writes markers through trace_marker (KML_TRIGGER, KML_TRIGGER_DEVICES, KML_TRIGGERED,
 * KML_SETTLED, KML_VMALLOC <kB>).
 * With trace_clock=global the timestamps of all CPUs are one clock. Each line is
 * `COMM-PID [CPU] FLAGS SECONDS: EVENT: ARGS` (syscall events: `sys_X(args)` and `sys_X -> 0xRET`);
 * lines this reader does not know are skipped, never guessed at.
 */

export type TraceEvent =
  | { kind: 'enter'; t: number; pid: number; comm: string; syscall: 'finit_module' | 'init_module'; flags: number; len: number }
  | { kind: 'exit'; t: number; pid: number; comm: string; syscall: 'finit_module' | 'init_module'; ret: number }
  | { kind: 'module_load'; t: number; pid: number; comm: string; module: string }
  | { kind: 'module_free'; t: number; pid: number; comm: string; module: string }
  | { kind: 'open'; t: number; pid: number; comm: string; path: string }
  | { kind: 'valloc'; t: number; pid: number; comm: string; size: number }
  /** kml/vmap: vmap() of `pages` pages (in-kernel decompression maps the image with it) */
  | { kind: 'vmap'; t: number; pid: number; comm: string; pages: number }
  | { kind: 'marker'; t: number; pid: number; comm: string; text: string }
  | { kind: 'devadd'; t: number; pid: number; comm: string; name: string };

const LINE = /^\s*(.+)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+\.\d+): (.*)$/;

/** A u64 return value printed in hex, as the signed long the syscall returned. */
function signed(hex: string): number {
  const v = BigInt.asIntN(64, BigInt(hex));
  return Number(v);
}

/** nanoseconds from "SECONDS.MICROS" without float rounding */
function ns(s: string): number {
  const [a, b = ''] = s.split('.');
  return Number(a) * 1e9 + Number((b + '000000000').slice(0, 9));
}

export function parseFtrace(text: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const comm = m[1]!.trim();
    const pid = Number(m[2]);
    const t = ns(m[4]!);
    const rest = m[5]!;
    let x: RegExpExecArray | null;
    if ((x = /^sys_(finit_module|init_module)\((.*)\)\s*$/.exec(rest))) {
      const args = Object.fromEntries([...x[2]!.matchAll(/(\w+): (\w+)/g)].map((a) => [a[1]!, a[2]!]));
      out.push({
        kind: 'enter', t, pid, comm,
        syscall: x[1] as 'finit_module' | 'init_module',
        flags: args.flags !== undefined ? parseInt(args.flags, 16) : 0,
        len: args.len !== undefined ? parseInt(args.len, 16) : 0,
      });
    } else if ((x = /^sys_(finit_module|init_module) -> (0x[0-9a-f]+)/.exec(rest))) {
      out.push({ kind: 'exit', t, pid, comm, syscall: x[1] as 'finit_module' | 'init_module', ret: signed(x[2]!) });
    } else if ((x = /^module_load: (\S+)/.exec(rest))) {
      out.push({ kind: 'module_load', t, pid, comm, module: x[1]! });
    } else if ((x = /^module_free: (\S+)/.exec(rest))) {
      out.push({ kind: 'module_free', t, pid, comm, module: x[1]! });
    } else if ((x = /^open: \([^)]*\) path="(.*)"\s*$/.exec(rest))) {
      out.push({ kind: 'open', t, pid, comm, path: x[1]! });
    } else if ((x = /^valloc: \([^)]*\) size=(\d+)/.exec(rest))) {
      out.push({ kind: 'valloc', t, pid, comm, size: Number(x[1]) });
    } else if ((x = /^vmap: \([^)]*\) count=(\d+)/.exec(rest))) {
      out.push({ kind: 'vmap', t, pid, comm, pages: Number(x[1]) });
    } else if ((x = /^devadd: \([^)]*\) name="(.*)"\s*$/.exec(rest))) {
      out.push({ kind: 'devadd', t, pid, comm, name: x[1]! });
    } else if ((x = /^tracing_mark_write: (.*?)\s*$/.exec(rest))) {
      out.push({ kind: 'marker', t, pid, comm, text: x[1]! });
    }
  }
  // the per-CPU buffers are merged in time order by tracefs; keep that order, stable
  return out;
}

/** A module's name from its file, as the kernel names it: basename without .ko*, '-' → '_'. */
export function moduleNameOfPath(path: string): string {
  return path.replace(/^.*\//, '').replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
}
