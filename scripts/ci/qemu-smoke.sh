#!/usr/bin/env bash
# DOC: the real-kernel smoke for CI — debian-6.1, one old kernel (debian-5.10, bullseye) and one
# new one (debian-sid, the newest Debian builds) under QEMU, bounded time (about 3–4 minutes for
# debian-6.1 and 2 for each other kernel on two host cores under TCG, each step with its own
# deadline; a kernel prepared from a clean cache adds 1–3 minutes of downloads and builds).
#
# debian-6.1 (the calibrated kernel):
#   1. prepare (instant when cached) — if that fails: "SKIP: <reason>", exit 0
#   2. kmodlab kernel boot: the agent answers, test_kmod's knobs give the kernel's answers
#   3. kmodlab selftest -s 0001 / -s 0003 / -s 0010 --compare: each passes on the real kernel and
#      agrees with sim v6.1-stable on the qemu-tcg profile
#   4. kmodlab storm --parallel 1,2,4 of kml_slow and kml_fail via finit_module --compare: the
#      v6.2 same-name check's answers (1×0 + (N−1)×EEXIST; 1×ENODEV + (N−1)×EBUSY), and the
#      sim agrees
#   5. kmodlab kselftest install --target qemu:debian-6.1, then the kernel's run_kselftest.sh -c
#      kmod with KSELFTEST_KMOD_SH_ARGS="-s 0001": 'ok 1 selftests: kmod: kmod.sh' (skipped
#      with the reason when linux-source's tools cannot be had)
# debian-5.10 and debian-sid (each with its own suite's kmod in the guest):
#   1. prepare — if the suite's packages cannot be fetched: "SKIP debian-X: <reason>" and the
#      next kernel; any other prepare failure (a build that broke) fails the smoke
#   2. kernel boot; 3. selftest -s 0001 --compare; 4. storm --parallel 1,4 of kml_slow and
#      kml_fail via finit_module --compare: real and the kernel's sim preset agree
# KMODLAB_SMOKE_KERNELS="debian-5.10 debian-sid" picks the other kernels (empty: only debian-6.1).
# Any wrong result exits 1 (a boot failure 3, a panic 5, a timeout 124: the failing step's code).
# Logs (console, dmesg, results, compare) go to $KMODLAB_SMOKE_LOGS (default a temp directory).
set -uo pipefail
cd "$(dirname "$0")/../.."
K="node bin/kmodlab.js"
LOGS=${KMODLAB_SMOKE_LOGS:-$(mktemp -d /tmp/kmodlab-smoke.XXXXXX)}
OTHERS=${KMODLAB_SMOKE_KERNELS-debian-5.10 debian-sid}
mkdir -p "$LOGS" && LOGS=$(cd "$LOGS" && pwd)
SECONDS=0
LAST_STEP=
# the failing step's own words and the guest's last console lines go into CI's output: a smoke that
# fails on a fresh machine keeps no logs, so what it printed is all there is to read
show_step() {
  local n=$1 f
  for f in "$LOGS/$n.err" "$LOGS/$n.out"; do
    [ -s "$f" ] && { echo "--- tail of $f"; tail -n 15 "$f"; }
  done
  f=$(ls "$LOGS/$n"/console*.log 2>/dev/null | tail -n1)
  [ -n "$f" ] && { echo "--- last console lines ($f)"; tail -n 25 "$f"; }
  return 0
}
fail() { echo "FAIL: $*"; [ -n "$LAST_STEP" ] && show_step "$LAST_STEP"; echo "logs: $LOGS"; exit "${2:-1}"; }

if ! out=$($K kernel prepare debian-6.1 2>&1); then
  if [ -n "${KMODLAB_QEMU_TESTS:-}" ]; then fail "kernel prepare debian-6.1 failed although KMODLAB_QEMU_TESTS is set: $(echo "$out" | tail -n1)"; fi
  echo "SKIP: kmodlab kernel prepare debian-6.1 failed: $(echo "$out" | tail -n1)"
  exit 0
fi
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed"; exit 0; }

# step NAME DEADLINE_S CMD… — run with a hard deadline; its exit code and output go to $LOGS/NAME.*
# A guest that panicked (5) or died (a reset) is shown and its step run once more: the newest
# kernels change daily under TCG, and one bad boot in many is reported (FLAKY, with the panic line
# and the console) rather than hidden or allowed to stop everything. A second failure fails.
step() {
  local name=$1 deadline=$2; shift 2
  local t0 rc try f
  LAST_STEP=$name
  for try in first rerun; do
    t0=$SECONDS
    timeout --kill-after=10 "$deadline" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"
    rc=$?
    if [ $try = first ]; then echo "  $name: exit $rc ($((SECONDS - t0)) s)"; else echo "  $name (rerun): exit $rc ($((SECONDS - t0)) s)"; break; fi
    [ $rc -eq 5 ] || { [ $rc -eq 1 ] && grep -q 'guest-died' "$LOGS/$name.err" "$LOGS/$name.out" 2>/dev/null; } || break
    echo "  FLAKY $name: exit $rc; its output and console follow, then one rerun"
    show_step "$name"
    for f in out err; do mv "$LOGS/$name.$f" "$LOGS/$name.first.$f"; done
    [ -d "$LOGS/$name" ] && mv "$LOGS/$name" "$LOGS/$name.first"
  done
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

# the kselftest collection on the real kernel, run by the kernel's own run_kselftest.sh
if ksft=$(bash scripts/ci/kselftest-tools.sh 2>"$LOGS/kselftest-tools.err"); then
  KT=$LOGS/kselftest
  mkdir -p "$KT" && cp "$ksft/selftests/run_kselftest.sh" "$KT/" && cp -r "$ksft/selftests/kselftest" "$KT/"
  $K kselftest install "$KT" --target qemu:debian-6.1 2>"$LOGS/kselftest-install.err" || fail "kselftest install: exit $? (see $LOGS/kselftest-install.err)"
  grep -qx 'timeout=2700' "$KT/kmod/settings" || fail "kselftest install: settings is not timeout=2700"
  # runner.sh opens /dev/stdout by name and appends to it: the output goes to a file opened for appending
  : >"$LOGS/kselftest.out"
  t0=$SECONDS
  (cd "$KT" && KSELFTEST_KMOD_SH_ARGS="-s 0001" timeout --kill-after=10 300 ./run_kselftest.sh -c kmod >>"$LOGS/kselftest.out" 2>&1)
  rc=$?
  echo "  kselftest: exit $rc ($((SECONDS - t0)) s)"
  [ $rc -eq 0 ] || fail "run_kselftest.sh -c kmod: exit $rc (see $LOGS/kselftest.out)"
  grep -qx 'ok 1 selftests: kmod: kmod.sh' "$LOGS/kselftest.out" || fail "run_kselftest.sh -c kmod: no 'ok 1 selftests: kmod: kmod.sh' (see $LOGS/kselftest.out)"
  grep -qx '# ok 1 kmod_test_0001' "$LOGS/kselftest.out" || fail "run_kselftest.sh -c kmod: kmodlab's KTAP has no 'ok 1 kmod_test_0001' (see $LOGS/kselftest.out)"
else
  echo "  kselftest: SKIP ($(tail -n1 "$LOGS/kselftest-tools.err"))"
fi

for k in $OTHERS; do
  echo "== qemu smoke: $k ($(date -u +%H:%M:%S))"
  t0=$SECONDS
  if ! out=$($K kernel prepare "$k" 2>&1); then
    # packages that cannot be fetched (the archive or the network) skip; anything else is a bug
    if echo "$out" | tail -n3 | grep -qE 'apt-get (update|download|install --print-uris)|not found in|download of .* did not produce|Failed to fetch|Temporary failure resolving'; then
      echo "SKIP $k: its packages cannot be fetched: $(echo "$out" | tail -n1)"
      continue
    fi
    echo "$out" >"$LOGS/$k-prepare.err"
    fail "kernel prepare $k: $(echo "$out" | tail -n1) (see $LOGS/$k-prepare.err)"
  fi
  echo "  prepare: ok ($((SECONDS - t0)) s)"
  step "$k-boot" 120 $K kernel boot "$k" --timeout 100 --log-dir "$LOGS/$k-boot" || fail "$k: kernel boot: exit $? (see $LOGS/$k-boot.out)" $?
  grep -q '^outcome: ran' "$LOGS/$k-boot.out" || fail "$k: kernel boot: not 'ran'"
  step "$k-selftest-0001" 150 $K selftest --target "qemu:$k" -s 0001 --compare --timeout 120 --log-dir "$LOGS/$k-selftest-0001" \
    || fail "$k: selftest -s 0001: exit $? (see $LOGS/$k-selftest-0001.out and .err)" $?
  grep -q 'no differences' "$LOGS/$k-selftest-0001.out" || fail "$k: selftest -s 0001: its sim preset disagrees (see $LOGS/$k-selftest-0001.out)"
  step "$k-storm" 240 $K storm --target "qemu:$k" --parallel 1,4 --module kml_slow,kml_fail --path finit --compare --timeout 220 --log-dir "$LOGS/$k-storm" \
    || fail "$k: storm: exit $? (see $LOGS/$k-storm.out)" $?
  grep -q 'no differences' "$LOGS/$k-storm.out" || fail "$k: storm: its sim preset disagrees (see $LOGS/$k-storm.out)"
done

echo "== qemu smoke passed in ${SECONDS} s (logs: $LOGS)"
