/**
 * DOC: where the simulator currently disagrees with spec §7.5 / the calibration for a reason
 * outside the selftest port (kernel or userspace timing). The outcome and calibration tests
 * report these as TODO with the measured difference; any other difference fails them.
 */
/** preset → test → why the sim currently differs (see the closing report of issue 5) */
export const SIM_GAPS: Record<string, Record<string, string>> = Object.fromEntries(
  ['v4.13', 'v5.3', 'v5.7', 'v6.1', 'v6.1-stable', 'v6.2', 'v6.4'].map((p) => [
    p,
    {
      '0009':
        'cold 0009 run on qemu-tcg/2 CPUs: the simulated xfs chain needs > 5 s to go LIVE under 50 concurrent modprobes, so the 12 throttled threads time out (-ETIME → NULL → -EINVAL); the real Debian 6.1 guest finished every run in ~6.3 s with no timeout',
    },
  ]),
);

