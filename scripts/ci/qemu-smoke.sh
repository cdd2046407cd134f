#!/usr/bin/env bash
# DOC: the real-kernel smoke for CI — debian-6.1 under QEMU, bounded time (about 2–4 minutes on
# two host cores under TCG, each step with its own deadline).
#
#   1. prepare (instant when cached) — if that fails: "SKIP: <reason>", exit 0
#   2. kmodlab kernel boot: the agent answers, test_kmod's knobs give the kernel's answers
#   3. kmodlab selftest -s 0001 / -s 0003 / -s 0010 --compare: each passes on the real kernel and
#      agrees with sim v6.1-stable on the qemu-tcg profile
#   4. kmodlab storm --parallel 1,2,4 of kml_slow and kml_fail via finit_module --compare: the
#      v6.2 same-name check's answers (1×0 + (N−1)×EEXIST; 1×ENODEV + (N−1)×EBUSY), and the
#      sim agrees
# Any wrong result exits 1 (a boot failure 3, a panic 5, a timeout 124: the failing step's code).
# Logs (console, dmesg, results, compare) go to $KMODLAB_SMOKE_LOGS (default a temp directory).
set -uo pipefail
cd "$(dirname "$0")/../.."
K="node bin/kmodlab.js"
LOGS=${KMODLAB_SMOKE_LOGS:-$(mktemp -d /tmp/kmodlab-smoke.XXXXXX)}
mkdir -p "$LOGS"
SECONDS=0
fail() { echo "FAIL: $*"; echo "logs: $LOGS"; exit "${2:-1}"; }

if ! out=$($K kernel prepare debian-6.1 2>&1); then
  if [ -n "${KMODLAB_QEMU_TESTS:-}" ]; then fail "kernel prepare debian-6.1 failed although KMODLAB_QEMU_TESTS is set: $(echo "$out" | tail -n1)"; fi
  echo "SKIP: kmodlab kernel prepare debian-6.1 failed: $(echo "$out" | tail -n1)"
  exit 0
fi
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed"; exit 0; }

# step NAME DEADLINE_S CMD… — run with a hard deadline; its exit code and output go to $LOGS/NAME.*
step() {
  local name=$1 deadline=$2; shift 2
  local t0=$SECONDS
  timeout --kill-after=10 "$deadline" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"
  local rc=$?
  echo "  $name: exit $rc ($((SECONDS - t0)) s)"
  return $rc
}

echo "== qemu smoke: debian-6.1 ($(date -u +%H:%M:%S))"
step boot 120 $K kernel boot debian-6.1 --timeout 100 --log-dir "$LOGS/boot" || fail "kernel boot: exit $? (see $LOGS/boot.out)" $?
grep -q '^outcome: ran' "$LOGS/boot.out" || fail "kernel boot: not 'ran'"

for t in 0001 0003 0010; do
  step "selftest-$t" 150 $K selftest --target qemu:debian-6.1 -s "$t" --compare --timeout 120 --log-dir "$LOGS/selftest-$t" \
    || fail "selftest -s $t: exit $? (see $LOGS/selftest-$t.out and .err)" $?
  grep -q 'no differences' "$LOGS/selftest-$t.out" || fail "selftest -s $t: sim v6.1-stable disagrees (see $LOGS/selftest-$t.out)"
done

step storm 240 $K storm --target qemu:debian-6.1 --parallel 1,2,4 --module kml_slow,kml_fail --path finit --compare --timeout 220 --log-dir "$LOGS/storm" \
  || fail "storm: exit $? (see $LOGS/storm.out)" $?
for want in '| kml_slow | finit | 1 | 0 ×1 |' '| kml_slow | finit | 4 | EEXIST ×3, 0 ×1 |' \
            '| kml_fail | finit | 1 | ENODEV ×1 |' '| kml_fail | finit | 4 | EBUSY ×3, ENODEV ×1 |'; do
  grep -qF "$want" "$LOGS/storm.out" || fail "storm: expected a row '$want' (see $LOGS/storm.out)"
done
grep -q 'no differences' "$LOGS/storm.out" || fail "storm: sim v6.1-stable disagrees (see $LOGS/storm.out)"

echo "== qemu smoke passed in ${SECONDS} s (logs: $LOGS)"
