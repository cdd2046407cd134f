#!/usr/bin/env bash
# DOC: the kernel's own test machinery, unmodified, for the tests that check kmodlab against it:
# tools/testing/selftests/run_kselftest.sh with kselftest/ (runner.sh, prefix.pl) and the KTAP
# parser tools/testing/kunit (`kunit.py parse`), taken from Debian's linux-source package.
#
# The package is the one `kmodlab kernel prepare` already downloads into the cache
# ($KMODLAB_CACHE/debs, default ~/.cache/kmodlab): when it is there, nothing is fetched. When it
# is not, the newest linux-source-6.1 of bookworm is downloaded into that same cache through a
# private apt state ($KMODLAB_CACHE/apt/kselftest-bookworm: its own sources.list, lists and an
# empty dpkg status; nothing is installed on the host). Nothing is ever written into the repo.
#
# Prints the directory (CACHE/kselftest/<package version>/tools/testing/…) on stdout, exit 0.
# When the package cannot be had, prints "SKIP: <reason>" on stderr and exits 4 (kselftest's skip).
set -uo pipefail
CACHE=${KMODLAB_CACHE:-$HOME/.cache/kmodlab}
skip() { echo "SKIP: $*" >&2; exit 4; }

deb=$(ls -1 "$CACHE"/debs/linux-source-*_all.deb 2>/dev/null | sort -V | tail -n1)
if [ -z "$deb" ]; then
  command -v apt-get >/dev/null || skip "no linux-source package in $CACHE/debs and no apt-get to download one"
  A=$CACHE/apt/kselftest-bookworm
  mkdir -p "$A/lists/partial" "$A/archives/partial" "$CACHE/debs" || skip "cannot create $A"
  : >"$A/status"
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main' >"$A/sources.list"
  opts=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$A/lists"
        -o "Dir::Cache=$A" -o "Dir::State::status=$A/status" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" -qq update >&2 || skip "apt-get update (bookworm) failed"
  (cd "$CACHE/debs" && apt-get "${opts[@]}" -qq download linux-source-6.1 >&2) || skip "apt-get download linux-source-6.1 failed"
  deb=$(ls -1 "$CACHE"/debs/linux-source-*_all.deb 2>/dev/null | sort -V | tail -n1)
  [ -n "$deb" ] || skip "apt-get download linux-source-6.1 left no package in $CACHE/debs"
fi

name=$(basename "$deb" _all.deb)
out=$CACHE/kselftest/$name
if [ ! -e "$out/done" ]; then
  series=$(dpkg-deb -f "$deb" Package) || skip "$deb: not a Debian package"
  tmp=$(mktemp -d "$CACHE/kselftest/.tmp-XXXXXX" 2>/dev/null || { mkdir -p "$CACHE/kselftest" && mktemp -d "$CACHE/kselftest/.tmp-XXXXXX"; }) || skip "cannot write $CACHE/kselftest"
  if ! dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$series.tar.xz" |
      tar -xJ -C "$tmp" --strip-components=1 --wildcards \
        "$series/tools/testing/selftests/run_kselftest.sh" "$series/tools/testing/selftests/kselftest/*" \
        "$series/tools/testing/selftests/kmod/*" "$series/tools/testing/kunit/*"; then
    rm -rf "$tmp"
    skip "$deb: the kselftest and kunit tools could not be extracted"
  fi
  touch "$tmp/done"
  # two callers at once (tests run in parallel): the first one's copy stays, the other is dropped
  if [ -e "$out/done" ]; then rm -rf "$tmp"; else rm -rf "$out"; mv -T "$tmp" "$out" 2>/dev/null || rm -rf "$tmp"; fi
  [ -e "$out/done" ] || skip "$out: could not be put in place"
fi
echo "$out/tools/testing"
