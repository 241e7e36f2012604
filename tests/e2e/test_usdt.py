"""USDT probes of programs built here with <sys/sdt.h> (Debian's
systemtap-sdt-dev): every argument size and sign, several locations of one
probe, a probe behind a semaphore (enabled only while traced), -p."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

pytestmark = pytest.mark.kernel

MAIN = r"""
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/sdt.h>
void guarded(int i);
int main(int argc, char **argv)
{
    int rounds = argc > 1 ? 1000000 : 5;
    char name[16];
    for (int i = 0; i < rounds; i++) {
        int8_t a = -i; uint16_t b = 1000 + i; int32_t c = -100000 * i; int64_t d = -5000000000LL * i;
        strcpy(name, i % 2 ? "odd" : "even");
        DTRACE_PROBE5(shop, order, a, b, c, d, name);
        guarded(i);
        if (argc > 1) usleep(5000);
    }
    DTRACE_PROBE1(shop, twice, 1);
    DTRACE_PROBE1(shop, twice, 2);
    DTRACE_PROBE1(audit, order, 3);
    return 0;
}
"""

GUARDED = r"""
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
unsigned short shop_guarded_semaphore __attribute__((section(".probes")));
int enabled_seen;
void guarded(int i)
{
    if (shop_guarded_semaphore) {
        enabled_seen++;
        DTRACE_PROBE2(shop, guarded, i, enabled_seen);
    }
}
"""


@pytest.fixture
def shop(build_c):
    return build_c(MAIN, name="shop", flags=("-O1",), extra={"guarded.c": GUARDED})


def test_arguments_of_every_size_and_sign(shop, run_pytrace):
    script = f'usdt:{shop}:shop:order {{ printf("%d %d %d %ld %s\\n", arg0, arg1, arg2, arg3, str(arg4)); }}'
    result = run_pytrace(["-c", str(shop), "-e", script], timeout=30)
    assert result.rc == 0, result.stderr
    want = [f"{-i} {1000 + i} {-100000 * i} {-5000000000 * i} {'odd' if i % 2 else 'even'}" for i in range(5)]
    assert result.stdout.splitlines()[1:6] == want


def test_several_locations_one_probe_and_no_provider(shop, run_pytrace):
    result = run_pytrace(["-c", str(shop), "-e",
                          f"usdt:{shop}:twice {{ @[probe] = count(); @args[arg0] = count(); }}"], timeout=30)
    assert result.rc == 0, result.stderr
    assert result.stdout.startswith("Attaching 2 probes...\n")
    assert f"@[usdt:{shop}:shop:twice]: 2\n" in result.stdout
    assert "@args[1]: 1\n@args[2]: 1\n" in result.stdout


def test_a_semaphore_is_set_only_while_traced(shop, run_pytrace):
    result = run_pytrace(["-c", str(shop), "-e",
                          f"usdt:{shop}:shop:guarded {{ @n = count(); @last = max(arg1); }}"], timeout=30)
    assert result.rc == 0, result.stderr
    assert "@n: 5\n" in result.stdout and "@last: 5\n" in result.stdout
    untraced = run_pytrace(["-c", str(shop), "-e", f"usdt:{shop}:shop:order {{ @n = count(); }}"], timeout=30)
    assert "@n: 5\n" in untraced.stdout  # the guarded probe's semaphore stayed 0: nothing to see


def test_p_and_a_wildcard(shop, run_pytrace):
    target = subprocess.Popen([str(shop), "long"])
    other = subprocess.Popen([str(shop), "long"])
    try:
        time.sleep(0.2)
        result = run_pytrace(["-p", str(target.pid), "-e",
                              f"usdt:{shop}:shop:* {{ @[probe, pid] = count(); }} interval:ms:300 {{ exit(); }}"],
                             timeout=30)
    finally:
        for proc in (target, other):
            proc.kill()
            proc.wait()
    assert result.rc == 0, result.stderr
    keys = set(re.findall(r"^@\[usdt:\S+:shop:(\w+), (\d+)\]: \d+$", result.stdout, re.M))
    assert keys == {("order", str(target.pid)), ("guarded", str(target.pid))}  # shop:*, not audit:order


def test_listing_and_mistakes(shop, run_pytrace):
    listed = run_pytrace(["-l", f"usdt:{shop}:*"], timeout=30)
    assert listed.stdout == f"usdt:{shop}:audit:order\n" + "".join(
        f"usdt:{shop}:shop:{n}\n" for n in ("guarded", "order", "twice"))
    result = run_pytrace(["-e", f"usdt:{shop}:order {{ }}"], timeout=30)
    assert result.rc == 1 and result.stderr.splitlines()[0] == (
        f"stdin:1:1: error: usdt:{shop}:order names a probe of 2 providers: audit, shop")
    result = run_pytrace(["-e", f"usdt:{shop}:shop:nope {{ }}"], timeout=30)
    assert result.rc == 1
    assert result.stderr.splitlines()[0] == f"stdin:1:1: error: usdt probe not found: shop:nope in {shop}"
    result = run_pytrace(["-e", f"usdt:{shop}:shop:twice {{ @ = arg1; }}"], timeout=30)
    assert result.stderr.splitlines()[0] == (f"stdin:1:{len(f'usdt:{shop}:shop:twice {{ @ = ') + 1}: error:"
                                             f" usdt:{shop}:shop:twice has 1 argument: arg0")
