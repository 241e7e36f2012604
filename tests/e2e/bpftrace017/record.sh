#!/usr/bin/env bash
# Records bpftrace 0.17's output for the scripts here, as the expected output
# of tests/e2e/test_aggregations.py (the test runs pytrace on the same script
# and workload and compares). Run as root where `bpftrace` is 0.17:
#
#   tests/e2e/bpftrace017/record.sh
#
# Read the diff before committing: these files are the reference.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bpftrace --version | grep -q 'v0.17' || { echo "record.sh: needs bpftrace 0.17" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O0 -o "$tmp/values" values.c
args=$(cat values.args)
for script in *.bt; do
    name=${script%.bt}
    bpftrace -f text -c "$tmp/values $args" "$script" 2>/dev/null > "$name.txt"
    bpftrace -f json -c "$tmp/values $args" "$script" 2>/dev/null > "$name.json"
done
