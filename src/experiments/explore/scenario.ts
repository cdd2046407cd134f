/**
 * DOC: the explore scenario format — processes, their actions, module definitions, machine and
 * timing ranges — as a zod schema, plus the checks the schema cannot express (a process that
 * names an unknown module). Every problem is one InputError line naming the field.
 */
import { z } from 'zod';
import { errnoName, isKnownErrno } from '../../kernel/index.js';
import { InputError } from '../../errors.js';

/** a duration in ms: a number or a [lo, hi] range the explorer draws from */
const ms = z.union([
  z.number().nonnegative(),
  z.tuple([z.number().nonnegative(), z.number().nonnegative()]).refine(([lo, hi]) => lo <= hi, { message: 'a range is [lo, hi] with lo <= hi' }),
]);

/** errno names an init may return: the model's set (ERESTARTSYS is kernel-internal, not an init's) */
export const INIT_ERRNOS: ReadonlyMap<string, number> = new Map(
  Array.from({ length: 511 }, (_, i) => i + 1)
    .filter(isKnownErrno)
    .map((n) => [errnoName(n), -n] as const),
);
/** an init's result: 0 or an errno name (checked against INIT_ERRNOS after the schema) */
const errno = z.union([z.literal(0), z.string().regex(/^E[A-Z0-9]+$/)]);
/** identical processes at most (62 test_kmod threads is the largest built-in) */
export const MAX_COUNT = 4096;

const action = z.discriminatedUnion('op', [
  z.object({ op: z.literal('finit_module'), module: z.string() }).strict(),
  z.object({ op: z.literal('init_module'), module: z.string() }).strict(),
  z.object({ op: z.literal('modprobe'), module: z.string() }).strict(),
  z.object({ op: z.literal('request_module'), name: z.string(), wait: z.boolean().default(true) }).strict(),
  z.object({ op: z.literal('get_fs_type'), name: z.string() }).strict(),
  z.object({ op: z.literal('delete_module'), module: z.string() }).strict(),
  z.object({ op: z.literal('initstate'), module: z.string() }).strict(),
  z.object({ op: z.literal('signal'), target: z.string(), sig: z.enum(['SIGKILL', 'SIGINT']).default('SIGKILL'), chance: z.number().min(0).max(1).default(1) }).strict(),
  z.object({ op: z.literal('sleep'), ms }).strict(),
]);

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    /** the presets where this race changes (the default of --kernel) */
    kernels: z.array(z.string()).min(1).default(['newest']),
    machine: z.object({ profile: z.string().default('qemu-tcg'), cpus: z.number().int().min(1).default(2) }).strict().default({ profile: 'qemu-tcg', cpus: 2 }),
    /** virtual deadline: a process still waiting then is a hang */
    deadlineMs: z.number().positive().optional(),
    modules: z.array(
      z
        .object({
          name: z.string().regex(/^[a-z0-9_]+$/),
          initMs: ms.default(1),
          initResult: errno.default(0),
          /** request_module() calls the init makes */
          requests: z.array(z.string()).default([]),
          /** finit_module() of these modules' files from the init (a self-load) */
          loads: z.array(z.string()).default([]),
          registersFs: z.array(z.string()).default([]),
          deps: z.array(z.string()).default([]),
          aliases: z.array(z.string()).default([]),
          sizeKiB: z.number().int().positive().default(190),
        })
        .strict(),
    ),
    processes: z
      .array(
        z
          .object({
            name: z.string().min(1),
            kind: z.enum(['udev-worker', 'modprobe', 'insmod', 'test_kmod', 'task']).default('task'),
            /** identical processes; their results are counted together */
            count: z.number().int().min(1).max(MAX_COUNT).default(1),
            startMs: ms.default(0),
            actions: z.array(action).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type Action = Scenario['processes'][number]['actions'][number];
export type Ms = z.infer<typeof ms>;

/** Validate scenario data; `source` names it in the one-line error. */
export function parseScenario(data: unknown, source: string): Scenario {
  const r = scenarioSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InputError(`${source}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  const s = r.data;
  const mods = new Set<string>();
  s.modules.forEach((m, i) => {
    if (mods.has(m.name)) throw new InputError(`${source}: modules.${i}.name: module ${m.name} is defined twice`);
    mods.add(m.name);
    if (m.initResult !== 0 && !INIT_ERRNOS.has(m.initResult)) throw new InputError(`${source}: modules.${i}.initResult: unknown errno ${m.initResult} (known: ${[...INIT_ERRNOS.keys()].join(', ')})`);
  });
  // the names the processes run under: NAME, or NAME-0 … NAME-(count-1) for a group
  const procs = new Set(s.processes.map((p) => p.name));
  const running = new Map<string, string>();
  s.processes.forEach((p, i) => {
    if (s.processes.findIndex((q) => q.name === p.name) !== i) throw new InputError(`${source}: processes.${i}.name: process ${p.name} is defined twice`);
    for (let k = 0; k < p.count; k++) {
      const n = p.count > 1 ? `${p.name}-${k}` : p.name;
      const other = running.get(n);
      if (other !== undefined) throw new InputError(`${source}: processes.${i}.name: ${n} is also a member of ${other}; the names must differ`);
      running.set(n, p.name);
    }
  });
  s.modules.forEach((m, i) => {
    for (const [f, xs] of [['loads', m.loads], ['deps', m.deps]] as const)
      xs.forEach((x, j) => {
        if (!mods.has(x)) throw new InputError(`${source}: modules.${i}.${f}.${j}: unknown module ${x}`);
      });
  });
  s.processes.forEach((p, i) =>
    p.actions.forEach((a, j) => {
      const at = `${source}: processes.${i}.actions.${j}`;
      if ('module' in a && !mods.has(a.module)) throw new InputError(`${at}.module: unknown module ${a.module}`);
      if (a.op === 'signal' && !procs.has(a.target)) throw new InputError(`${at}.target: unknown process ${a.target}`);
    }),
  );
  return s;
}
