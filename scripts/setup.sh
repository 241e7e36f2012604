#!/usr/bin/env bash
# Set up pytrace from a fresh clone; safe to run again.
#
#   scripts/setup.sh          what pytrace needs to run (the demo)
#   scripts/setup.sh --test   that, and what the tests and benchmarks need
#
#   1. Debian packages (apt-get, only the missing ones): python3-bpfcc (libbcc and
#      its Python module). With --test also gcc, g++ and libc6-dev (tests build
#      small C and C++ programs), systemtap-sdt-dev (<sys/sdt.h>, for USDT test
#      programs) and bpftrace (the reference tracer for the benchmarks and the
#      recorded outputs; optional: a failure to install it is only a warning).
#   2. .venv with `pip install -e .` (--test: `.[dev]`, which adds pytest),
#      skipped when a stamp in .venv says the same pyproject.toml was already
#      installed, with the same extras, by the same Python.
#   3. Debian's `bcc` module linked into the venv's site-packages (never the PyPI
#      package called "bcc": it is unrelated).
#
# Leaves .venv/bin/pytrace (and with --test .venv/bin/pytest). Environment knobs:
#   PYTRACE_PYTHON=/path/to/python3   interpreter for a new venv (default: python3 on PATH
#                                     when it is >= 3.11, else /usr/bin/python3)
#   PYTRACE_SETUP_QUIET=1             say nothing when there is nothing to do
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.pytrace-setup-stamp"
mode=run
if [ "${1:-}" = --test ]; then mode=test; shift; fi
[ "$#" -eq 0 ] || { echo "usage: scripts/setup.sh [--test]" >&2; exit 2; }

required_debs=(python3-bpfcc)
optional_debs=()
extras=""
if [ "$mode" = test ]; then
    required_debs+=(gcc g++ libc6-dev systemtap-sdt-dev)
    optional_debs+=(bpftrace)
    extras="[dev]"
fi

changed=0
say() { changed=1; [ "${PYTRACE_SETUP_QUIET:-}" = 1 ] || echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

# ---- Debian packages ---------------------------------------------------------

deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root to run: $*"
    fi
}

apt_updated=0
apt_install() {  # apt_install PKG... ; returns apt-get's status
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        as_root apt-get update -qq || return 1
        apt_updated=1
    fi
    say "apt-get install $*"
    local log status=0
    log=$(mktemp)
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" </dev/null >"$log" 2>&1 || status=$?
    [ "$status" -eq 0 ] || cat "$log" >&2
    rm -f "$log"
    return "$status"
}

missing_debs() {
    local p
    for p in "$@"; do deb_installed "$p" || printf '%s\n' "$p"; done
}

if command -v dpkg-query >/dev/null 2>&1; then
    mapfile -t missing < <(missing_debs "${required_debs[@]}")
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}" || die "could not install: ${missing[*]}"
    fi
    mapfile -t missing < <(missing_debs "${optional_debs[@]+"${optional_debs[@]}"}")
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}" \
            || say "warning: could not install ${missing[*]} (bpftrace is only the reference for the benchmark)"
    fi
else
    say "warning: not a Debian system; install libbcc's Python module (and for the tests gcc, g++, <sys/sdt.h> and bpftrace) yourself"
fi

# ---- virtualenv ----------------------------------------------------------------

python_ok() {  # python_ok PYTHON: is it a Python >= 3.11?
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

pick_python() {
    if [ -n "${PYTRACE_PYTHON:-}" ]; then
        python_ok "$PYTRACE_PYTHON" || die "PYTRACE_PYTHON=$PYTRACE_PYTHON is not Python >= 3.11"
        echo "$PYTRACE_PYTHON"; return
    fi
    local p
    for p in "$(command -v python3 || true)" /usr/bin/python3; do
        if [ -n "$p" ] && python_ok "$p"; then echo "$p"; return; fi
    done
    die "no Python >= 3.11 found (tried python3 on PATH and /usr/bin/python3)"
}

# A venv whose interpreter is gone (e.g. made by a Python since removed) is rebuilt.
if [ -e "$venv" ] && ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    say "removing broken $venv"
    rm -rf "$venv"
fi

if [ ! -e "$venv/bin/python" ]; then
    py=$(pick_python)
    say "creating .venv with $py ($("$py" -c 'import sys; print(sys.version.split()[0])'))"
    if ! "$py" -m venv "$venv" 2>/dev/null; then
        # Debian's python3 ships venv/ensurepip separately.
        rm -rf "$venv"
        if [ "$py" = /usr/bin/python3 ] && command -v dpkg-query >/dev/null 2>&1; then
            apt_install python3-venv || die "could not install python3-venv"
        fi
        "$py" -m venv "$venv" || die "could not create $venv with $py"
    fi
fi

vpy="$venv/bin/python"

# ---- pytrace itself, editable -------------------------------------------------

# The install depends only on pyproject.toml (the code is linked, not copied) and
# on the interpreter, so that is what the stamp records.
want_stamp="compat$extras $(sha256sum "$root/pyproject.toml" | cut -d' ' -f1) $("$vpy" -c 'import sys; print(sys.version)' | head -n1)"
# A test set-up also satisfies the demo: the run mode accepts either stamp.
have_stamp=$(cat "$stamp" 2>/dev/null || true)
if [ -x "$venv/bin/pytrace" ] && { [ "$have_stamp" = "$want_stamp" ] \
        || { [ "$mode" = run ] && [ "$have_stamp" = "${want_stamp/compat /compat[dev] }" ]; }; }; then
    :
else
    say "pip install -e '.$extras'"
    rm -f "$stamp"
    # compat mode links the checkout with a plain .pth path entry: the
    # default import-hook finder costs ~20 ms at every pytrace start.
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$vpy" -m pip install -q \
        --config-settings editable_mode=compat -e "$root$extras" </dev/null
    printf '%s\n' "$want_stamp" >"$stamp"
fi

# ---- Debian's bcc module, linked into the venv ---------------------------------

site=$("$vpy" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
link="$site/bcc"
bcc_dir=""
if command -v dpkg-query >/dev/null 2>&1 && deb_installed python3-bpfcc; then
    while IFS= read -r d; do
        if [ -f "$d/__init__.py" ]; then bcc_dir=$d; break; fi
    done < <(dpkg -L python3-bpfcc | grep -E '/(dist|site)-packages/bcc$')
fi
if [ -z "$bcc_dir" ]; then
    for d in /usr/lib/python3/dist-packages/bcc /usr/lib/python3*/site-packages/bcc; do
        if [ -f "$d/__init__.py" ]; then bcc_dir=$d; break; fi
    done
fi
if [ -z "$bcc_dir" ]; then
    say "warning: Debian's bcc Python module not found; the runtime will not work"
elif [ "$(readlink "$link" 2>/dev/null || true)" != "$bcc_dir" ]; then
    if [ -e "$link" ] && [ ! -L "$link" ]; then
        die "$link exists and is not a link (the unrelated PyPI 'bcc'?); remove it and re-run"
    fi
    say "linking $bcc_dir into the venv"
    ln -sfn "$bcc_dir" "$link"
fi

[ -x "$venv/bin/pytrace" ] || die "$venv/bin/pytrace is missing after install"

# Replace pip's console-script launcher with a minimal one. pip's imports `re`
# before any pytrace code runs, and Python's `site` start-up (.pth files) both
# costs ~10 ms and dies with a fatal error on a Ctrl-C in that window. This
# one runs with -S and puts the checkout and the venv's packages on the path
# itself; a Ctrl-C before pytrace's own handlers are in place exits quietly.
launcher="$venv/bin/pytrace"
want_launcher="#!$vpy -S
# pytrace launcher written by scripts/setup.sh (see there for why).
import sys
try:
    sys.path[:0] = ['$root', '$site']
    from pytrace.cli import main
except KeyboardInterrupt:
    sys.exit(130)
sys.exit(main())"
if [ "$(cat "$launcher" 2>/dev/null)" != "$want_launcher" ]; then
    printf '%s\n' "$want_launcher" >"$launcher.tmp" && chmod 755 "$launcher.tmp" && mv -f "$launcher.tmp" "$launcher"
fi

# Byte-compile pytrace, so a start never compiles its modules (an environment
# with PYTHONDONTWRITEBYTECODE would otherwise compile them at every start).
"$vpy" -m compileall -q "$root/pytrace" >/dev/null || true
[ "$changed" -eq 0 ] || say "ready: $venv/bin/pytrace"
