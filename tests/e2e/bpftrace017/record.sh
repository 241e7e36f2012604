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
# -l and -lv of tracepoints (the kernel's: re-record on another kernel)
bpftrace -l 'tracepoint:sched:sched_sw*' > list_sched_sw.txt
bpftrace -l 'tracepoint:*:sched_switch' > list_any_sched_switch.txt
bpftrace -lv tracepoint:sched:sched_switch > listv_sched_switch.txt
bpftrace -lv tracepoint:syscalls:sys_enter_openat > listv_sys_enter_openat.txt
bpftrace -lv tracepoint:sched:sched_process_exec > listv_sched_process_exec.txt
