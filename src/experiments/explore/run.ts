/**
 * DOC: one schedule of a scenario on the existing simulated machine (system/createSystem and the
 * kernel API): build the machine with the scenario's modules, start its processes, run until the
 * scenario quiesces or reaches its virtual deadline, and read off the outcome — each process's
 * return values (counted together for a group of identical processes), hangs, final module
 * states and init attempts, and the wasted bytes by MODULE_STATS category.
 */
import { errnoName, type KFile, type ModuleBehaviour, type Task } from '../../kernel/index.js';
import type { Proc, Process } from '../../sim/index.js';
import { createSystem, modulePath, type System } from '../../system/index.js';
import { modprobeErrno } from '../../userspace/libkmod.js';
import type { Machine } from '../../userspace/machines/load.js';
import type { AliasEntry, ModuleInfo, ModuleSet } from '../../userspace/moduleset.js';
import { InputError } from '../../errors.js';
import { Choices, type Strategy } from './choices.js';
import { INIT_ERRNOS, type Action, type Ms, type Scenario } from './scenario.js';

const MS = 1_000_000;
/** without a deadline a scenario must quiesce within this much virtual time */
const QUIESCE_LIMIT_NS = 24 * 3600 * 1e9;

export interface RunOptions {
  kernel: string;
  strategy: Strategy;
  seed: number;
  depth?: number;
  log?: boolean;
  /** the decisions' values (path mode: exhaustive, shrinking, `--replay S --path P`) */
  path?: readonly number[];
  /** path mode: values tried per duration range */
  points?: number;
  /** scenario processes left out (a shrunk schedule) */
  drop?: readonly string[];
  /** record the candidates' names at ties and CPU hand-overs (default true; for step lists and shrinking) */
  names?: boolean;
  /** without a deadline the scenario must quiesce within this much virtual time (default 24 h) */
  quiesceLimitNs?: number;
}

/** one part of an outcome key; `proc` names the scenario process it is about, if any */
export interface KeyPart {
  proc?: string;
  text: string;
}

export interface RunResult {
  key: string;
  parts: KeyPart[];
  choices: Choices;
  system: System;
}

/** the key an outcome has without the parts of the processes `drop` leaves out */
export function projectKey(parts: readonly KeyPart[], drop: readonly string[]): string {
  return parts.filter((p) => p.proc === undefined || !drop.includes(p.proc)).map((p) => p.text).join(' · ');
}

const EMPTY_SET: ModuleSet = { release: 'explore', modules: new Map(), aliases: [], builtin: new Set(), order: [] };

function ret(n: number): string {
  if (n === 0) return '0';
  return n < 0 ? `-${errnoName(n)}` : String(n);
}

function errnoValue(e: 0 | string): number {
  // the schema admits only the names of INIT_ERRNOS
  return e === 0 ? 0 : INIT_ERRNOS.get(e)!;
}

/** pct's k per scenario, machine, preset and dropped processes (a pure function of them) */
const horizons = new WeakMap<Scenario, WeakMap<Machine, Map<string, number>>>();

/** the tie and CPU hand-over decisions of the all-defaults schedule: where pct's change points fall */
export function pctHorizon(sc: Scenario, machine: Machine, kernel: string, drop: readonly string[] = []): number {
  let byMachine = horizons.get(sc);
  if (byMachine === undefined) horizons.set(sc, (byMachine = new WeakMap()));
  let byKey = byMachine.get(machine);
  if (byKey === undefined) byMachine.set(machine, (byKey = new Map()));
  const key = `${kernel}\0${[...drop].sort().join(',')}`;
  let k = byKey.get(key);
  if (k === undefined) {
    const r = runSchedule(sc, machine, { kernel, strategy: 'exhaustive', seed: 1, path: [], drop, names: false });
    k = r.choices.decisions.filter((d) => d.kind === 'tie' || d.kind === 'cpu').length;
    byKey.set(key, k);
  }
  return k;
}

export function runSchedule(sc: Scenario, machine: Machine, o: RunOptions): RunResult {
  const pathMode = o.path !== undefined || o.strategy === 'exhaustive';
  const pct = !pathMode && o.strategy === 'pct';
  const choices = new Choices({
    mode: pathMode ? 'path' : pct ? 'pct' : 'random', seed: o.seed, depth: o.depth ?? 3, path: o.path ?? [], points: o.points ?? 3, names: o.names ?? true,
    ...(pct ? { horizon: pctHorizon(sc, machine, o.kernel, o.drop ?? []) } : {}),
  });
  const draw = (m: Ms, label: string): number => (typeof m === 'number' ? Math.round(m * MS) : choices.duration(Math.round(m[0] * MS), Math.round(m[1] * MS), label));
  const drop = new Set(o.drop ?? []);
  const inits = new Map<string, number>();
  const nested: string[] = [];
  let sysRef: System | null = null;
  const behaviours: Record<string, ModuleBehaviour> = {};
  for (const m of sc.modules) {
    const sleepNs = draw(m.initMs, `${m.name} init takes`);
    const result = errnoValue(m.initResult);
    behaviours[m.name] = {
      initCpuNs: 0,
      initSleepNs: sleepNs,
      initResult: result,
      *init(ctx): Proc<number> {
        inits.set(m.name, (inits.get(m.name) ?? 0) + 1);
        const sys = sysRef!;
        yield sys.sim.delay(sleepNs);
        for (const r of m.requests) nested.push(`${m.name}.init request_module ${r}=${ret(yield* ctx.kernel.request_module(ctx.task, r))}`);
        for (const l of m.loads) {
          const f = sys.fs.open(modulePath(sys, `extra/${l}.ko`)) as KFile;
          nested.push(`${m.name}.init finit_module ${l}=${ret(yield* ctx.kernel.finit_module(ctx.task, f, '', 0))}`);
        }
        if (result === 0) for (const fs of m.registersFs) ctx.kernel.register_filesystem(fs, m.name);
        return result;
      },
    };
  }
  const extraModules: ModuleInfo[] = sc.modules.map((m) => ({
    name: m.name, path: `extra/${m.name}.ko`, fileSize: m.sizeKiB * 1024, compression: 'none', imageSize: m.sizeKiB * 1024, signed: false, deps: m.deps, softdeps: { pre: [], post: [] },
  }));
  const extraAliases: AliasEntry[] = sc.modules.flatMap((m) => m.aliases.map((a) => ({ pattern: a, module: m.name })));
  const sys = createSystem({
    machine, cpus: sc.machine.cpus, kernel: o.kernel, modules: EMPTY_SET, seed: o.seed, log: o.log ?? false, jitter: 0, behaviours, extraModules, extraAliases, testModules: false, tieBreak: choices, cpuPlacement: choices,
  });
  sysRef = sys;
  const { sim, kernel } = sys;
  choices.now = () => sim.now;
  const procs = new Map<string, Process[]>();
  const results = new Map<Process, string[]>();

  const act = function* (a: Action, t: Task, out: string[], who: string): Proc<void> {
    switch (a.op) {
      case 'finit_module': {
        const f = sys.fs.open(modulePath(sys, `extra/${a.module}.ko`));
        out.push(ret(typeof f === 'number' ? f : yield* kernel.finit_module(t, f, '', 0)));
        break;
      }
      case 'init_module': {
        const f = sys.fs.open(modulePath(sys, `extra/${a.module}.ko`)) as KFile;
        out.push(ret(yield* kernel.init_module(t, f, f.image.imageSize, '')));
        break;
      }
      case 'modprobe': {
        const r = yield* sys.runModprobe([a.module]);
        const e = r.exitCode === 0 ? null : modprobeErrno(r.stderr);
        out.push(`exit ${r.exitCode}${e ? ` ${e}` : ''}`);
        break;
      }
      case 'request_module':
        out.push(ret(yield* kernel.request_module(t, a.name, a.wait)));
        break;
      case 'get_fs_type': {
        const fs = yield* kernel.get_fs_type(t, a.name);
        if (fs !== null) kernel.put_filesystem(fs);
        out.push(fs === null ? 'NULL' : 'found');
        break;
      }
      case 'delete_module':
        out.push(ret(yield* kernel.delete_module(t, a.module, 0o4000)));
        break;
      case 'initstate':
        out.push(`initstate=${kernel.sysfsModule(a.module).initstate ?? 'absent'}`);
        break;
      case 'signal':
        if (choices.chance(a.chance, `${who} sends ${a.sig} to ${a.target}`)) {
          for (const p of procs.get(a.target) ?? []) sim.signal(p, a.sig);
          out.push(`sent ${a.sig}`);
        } else out.push('no signal');
        break;
      case 'sleep':
        yield sim.delay(draw(a.ms, `${who} sleeps`));
        break;
    }
  };

  // a process's first step only parks it on its start delay: it cannot affect any other step
  const unstarted = new Set<Process>();
  choices.local = (q) => unstarted.has(q);
  const members = sc.processes.filter((p) => !drop.has(p.name));
  for (const p of members) {
    const group: Process[] = [];
    procs.set(p.name, group);
    for (let i = 0; i < p.count; i++) {
      const name = p.count > 1 ? `${p.name}-${i}` : p.name;
      const start = draw(p.startMs, `${name} starts at`);
      const out: string[] = [];
      const proc = sim.spawn(name, (function* (): Proc<void> {
        unstarted.delete(sim.current!);
        yield sim.delay(start);
        const t: Task = { proc: sim.current!, comm: p.kind === 'task' ? name : p.kind, capSysModule: true, capSyslog: true };
        for (const a of p.actions) yield* act(a, t, out, name);
      })());
      unstarted.add(proc);
      group.push(proc);
      results.set(proc, out);
    }
  }
  const limit = o.quiesceLimitNs ?? QUIESCE_LIMIT_NS;
  const deadline = sc.deadlineMs !== undefined ? Math.round(sc.deadlineMs * MS) : limit;
  sim.run(deadline);
  if (sc.deadlineMs === undefined && !sim.idle()) throw new InputError(`scenario ${sc.name}: deadlineMs: the scenario does not quiesce within ${limit / 3600e9} h of virtual time; give it a deadline`);

  const parts: KeyPart[] = [];
  for (const p of members) {
    const vals = (procs.get(p.name) ?? []).map((q) => (results.get(q) ?? []).join(',') + (q.done ? '' : `${results.get(q)!.length ? ',' : ''}hang`));
    if (p.count === 1) parts.push({ proc: p.name, text: `${p.name}: ${vals[0]}` });
    else {
      const c = new Map<string, number>();
      for (const v of vals) c.set(v, (c.get(v) ?? 0) + 1);
      parts.push({ proc: p.name, text: `${p.name}: ${[...c].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([v, n]) => `${v}×${n}`).join(' ')}` });
    }
  }
  for (const n of nested.sort()) parts.push({ text: n });
  for (const m of sc.modules) parts.push({ text: `${m.name} ${kernel.moduleState(m.name) ?? 'gone'}, ${inits.get(m.name) ?? 0} init${inits.get(m.name) === 1 ? '' : 's'}` });
  const st = kernel.stats;
  const waste = [['kread', st.invalid_kread_bytes], ['decompress', st.invalid_decompress_bytes], ['becoming', st.invalid_becoming_bytes], ['load', st.invalid_mod_bytes]].filter(([, b]) => (b as number) > 0);
  parts.push({ text: `waste: ${waste.length ? waste.map(([c, b]) => `${c} ${b}`).join(' ') : 'none'}` });
  return { key: parts.map((p) => p.text).join(' · '), parts, choices, system: sys };
}
