/**
 * DOC: a fake qemu guest for runQemuSelftest: the simulated v6.1-stable kernel behind the Target
 * interface, which can be told to fail (time out, panic, die) at the K-th request; and an io that
 * collects what a command prints.
 */
import type { QemuSelftestOptions } from '../../../src/targets/qemu/selftest.js';
import { GuestSessionError } from '../../../src/targets/qemu/session.js';
import type { SessionOutcome } from '../../../src/targets/qemu/outcome.js';
import { createSimTarget } from '../../../src/targets/sim.js';
import type { Target } from '../../../src/selftest/target.js';

export type Fake = NonNullable<QemuSelftestOptions['open']>;

/** a guest running the v6.1-stable model that fails with `fail` at request number `at` */
export function fakeGuest(fail?: { at: number; outcome: SessionOutcome }): { open: Fake; closed: () => boolean } {
  let closed = false;
  const open: Fake = async () => {
    const sim = createSimTarget({ kernel: 'v6.1-stable', machine: 'qemu-tcg', cpus: 2 });
    let n = 0;
    let dead: GuestSessionError | null = null;
    const guard = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
      if (dead) throw dead;
      if (fail && ++n >= fail.at) throw (dead = new GuestSessionError(fail.outcome));
      return f(...a);
    };
    const t: Target = {
      name: 'qemu:debian-6.1',
      kernel: '6.1.0-fake',
      preconditions: guard(() => sim.preconditions()),
      loadTestKmod: guard(() => sim.loadTestKmod()),
      readKnob: guard((k: string) => sim.readKnob(k)),
      writeKnob: guard((k: string, d: string) => sim.writeKnob(k, d)),
      modprobe: guard((a: string[]) => sim.modprobe(a)),
      readModprobePath: guard(() => sim.readModprobePath()),
      writeModprobePath: guard((p: string) => sim.writeModprobePath(p)),
      readFile: guard((p: string, o?: { dropCapSyslog?: boolean }) => sim.readFile(p, o)),
      listDir: guard((p: string) => sim.listDir(p)),
      date: guard(() => sim.date()),
      kernelLog: guard(() => sim.kernelLog()),
      close: async () => {
        closed = true;
        await sim.close();
      },
    };
    return Object.assign(t, { outcome: (): SessionOutcome => dead?.outcome ?? { state: 'ran', detail: 'powered off' } }) as Awaited<ReturnType<Fake>>;
  };
  return { open, closed: () => closed };
}

export function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env: {} } };
}
