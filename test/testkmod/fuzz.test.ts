/**
 * DOC: knob fuzzing — random sequences of writes (and reads) to every knob of test_kmod0 never
 * crash the model, never leave a process stuck, and every write answers exactly what the
 * kernel's parsing rules say. The oracle below is written independently of kstrto.ts (regexes
 * and BigInt on the whole string). fast-check prints the seed and path of any failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Sim } from '../../src/sim/index.js';
import { TEST_KMOD_KNOBS, TestKmodDevice } from '../../src/testkmod/index.js';
import { FakeKernel } from './fake-kernel.js';

const KNOBS = [...Object.keys(TEST_KMOD_KNOBS), 'bogus'];
const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;

/** the kernel's verdict on an unsigned decimal: value or -errno */
function oracleUint(s: string): bigint | number {
  const m = /^\+?([0-9]+)/.exec(s);
  if (m === null) return -22;
  if (BigInt(m[1]!) > U64) return -34;
  const rest = s.slice(m[0].length);
  if (rest !== '' && rest !== '\n') return -22;
  if (BigInt(m[1]!) > U32) return -34;
  return BigInt(m[1]!);
}

function oracleInt(s: string): bigint | number {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const m = (neg ? /^([0-9]+)/ : /^\+?([0-9]+)/).exec(body);
  if (m === null) return -22;
  const v = BigInt(m[1]!);
  if (v > U64) return -34;
  const rest = body.slice(m[0].length);
  if (rest !== '' && rest !== '\n') return -22;
  const sv = neg ? -v : v;
  if (sv > (1n << 63n) - 1n || sv < -(1n << 63n)) return -34;
  if (sv > 2147483647n || sv < -2147483648n) return -34;
  return sv;
}

interface Model {
  threads: number;
  oom: boolean;
}

/** expected return of write(knob, data) and the model update */
function expected(knob: string, data: string, m: Model): number {
  const bytes = Buffer.byteLength(data, 'utf8');
  const count = Math.min(bytes, 4096);
  if (!(knob in TEST_KMOD_KNOBS)) return -2;
  if (knob === 'config') return -13;
  if (count === 0) return 0;
  const s = Buffer.from(data, 'utf8').subarray(0, 4096).toString('latin1').split('\0')[0]!;
  switch (knob) {
    case 'config_num_threads': {
      const v = oracleUint(s);
      if (typeof v === 'number') return v;
      if (v === 0n || v * 48n > 1n << 30n) return -22;
      m.threads = Number(v);
      return count;
    }
    case 'config_test_case': {
      const v = oracleUint(s);
      if (typeof v === 'number') return v;
      return v === 1n || v === 2n ? count : -22;
    }
    case 'test_result': {
      const v = oracleInt(s);
      return typeof v === 'number' ? v : count;
    }
    case 'reset':
      m.threads = 50;
      m.oom = false;
      return count;
    case 'trigger_config':
      return count;
    default:
      return count;
  }
}

const numberish = fc.oneof(
  fc.integer({ min: -5, max: 12 }).map(String),
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String),
  fc.constantFrom('', '\n', '\0', '+', '-', '0x10', ' 1', '1 ', '1\n', '2\n\n', '+2', '-0', '007', '4294967295', '4294967296', '18446744073709551616'),
  fc.string({ maxLength: 12 }),
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.constantFrom('', '\n', '\0junk', 'x', '\n\n')).map(([n, t]) => `${n}${t}`),
);

test('random knob writes: never a crash, always the kernel\'s return values', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          knob: fc.constantFrom(...KNOBS),
          data: numberish,
          read: fc.boolean(),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      (ops) => {
        const sim = new Sim({ seed: 7 });
        const kernel = new FakeKernel(sim, { delayNs: 10_000, request: (n) => (n === 'test_module' ? 0 : 256) });
        const dev = new TestKmodDevice(sim, kernel);
        const model: Model = { threads: 50, oom: false };
        for (const op of ops) {
          // keep triggers cheap: at most 64 threads per trigger in this property
          if (op.knob === 'trigger_config' && model.threads > 64) continue;
          const want = expected(op.knob, op.data, model);
          const p = sim.spawn('sh', dev.write(op.knob, op.data));
          sim.runUntil(() => p.done);
          assert.ok(p.done, `write ${op.knob} did not finish`);
          assert.equal(p.result, want, `write ${op.knob} ${JSON.stringify(op.data)}`);
          if (op.read) {
            const r = sim.spawn('cat', dev.read(op.knob));
            sim.runUntil(() => r.done);
            assert.ok(r.done);
            const v = r.result;
            if (op.knob in TEST_KMOD_KNOBS && (TEST_KMOD_KNOBS as Record<string, number>)[op.knob]! & 0o444) assert.equal(typeof v, 'string');
            else assert.ok(v === -13 || v === -2);
          }
          // invariants: a config that always prints, a thread count ≥ 1
          const cfg = sim.spawn('cat', dev.read('config'));
          sim.runUntil(() => cfg.done);
          assert.match(cfg.result as string, /^Custom trigger configuration for: test_kmod0\nNumber of threads:\t\d+\nTest_case:\tTEST_KMOD_(DRIVER|FS_TYPE) \([12]\)\n/);
          assert.equal(dev.num_threads, model.threads);
          assert.ok(dev.num_threads >= 1);
        }
        sim.run();
        assert.equal(sim.liveProcesses().length, 0, 'a process was left blocked');
      },
    ),
    { numRuns: 300 },
  );
});
