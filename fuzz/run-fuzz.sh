#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs a libFuzzer target for KS_FUZZ_SECONDS (default 60), seeded with the files of SEED_DIR named
# PATTERN (default *.toml: the toml-test corpus), copied into a temporary directory, so the corpus
# is never modified. Any crash, leak, timeout or sanitizer report makes libFuzzer exit non-zero: the
# test fails and prints the input.
# Usage: run-fuzz.sh FUZZER SEED_DIR [DICT [PATTERN]]
set -u
fuzzer=$1 seeds=$2 dict=${3:-} pattern=${4:-*.toml}
secs=${KS_FUZZ_SECONDS:-60}
case $secs in ''|*[!0-9]*) echo "KS_FUZZ_SECONDS must be a number of seconds"; exit 1;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus" "$tmp/artifacts"
n=0
if [ -d "$seeds" ]; then
        while IFS= read -r -d '' f; do
                cp "$f" "$tmp/corpus/seed-$n.toml"
                n=$((n + 1))
        done < <(find "$seeds" -name "$pattern" -print0)
fi
echo "fuzzing $(basename "$fuzzer") for ${secs}s, seeded with $n files from $seeds"

args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 -max_len=16384 -print_final_stats=1
      -artifact_prefix="$tmp/artifacts/")
[ -n "$dict" ] && args+=(-dict="$dict")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
rc=0
timeout -k 10 $((secs + 300)) "$fuzzer" "${args[@]}" "$tmp/corpus" 2>"$tmp/log" || rc=$?
grep -E '^(Done|stat::|#[0-9]+ +DONE)' "$tmp/log"
if [ $rc -ne 0 ]; then
        tail -n 80 "$tmp/log"
        for a in "$tmp"/artifacts/*; do
                [ -f "$a" ] || continue
                echo "--- reproducer $(basename "$a") (base64):"
                base64 "$a"
        done
        echo "fuzzer failed (exit $rc)"
        exit 1
fi
if grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$tmp/log"; then
        tail -n 80 "$tmp/log"
        echo "sanitizer report"
        exit 1
fi
echo "no findings"
