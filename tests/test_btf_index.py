"""The kernel's BTF is indexed once: later runs load the index from the
cache directory and find the same types."""

from __future__ import annotations

import os

import pytest

from pytrace import btf


@pytest.fixture
def fresh_btf(monkeypatch, tmp_path):
    if not os.path.exists(btf.VMLINUX):
        pytest.skip("no kernel BTF")
    monkeypatch.setenv("PYTRACE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(btf, "_types", {})
    monkeypatch.setattr(btf, "_kernel_types", {})
    return tmp_path


def test_the_index_is_stored_and_reused(fresh_btf, monkeypatch):
    first = btf.kernel_types().struct("task_struct")
    (index,) = [p for p in fresh_btf.iterdir() if p.name.startswith("btf-")]
    monkeypatch.setattr(btf, "_types", {})
    monkeypatch.setattr(btf, "_kernel_types", {})
    loaded = btf._load(btf.VMLINUX)
    assert index.stat().st_size == 4 * len(loaded.offsets)
    assert btf.kernel_types().struct("task_struct") == first


def test_a_damaged_index_is_rebuilt(fresh_btf, monkeypatch):
    expected = btf._load(btf.VMLINUX).offsets
    (index,) = [p for p in fresh_btf.iterdir() if p.name.startswith("btf-")]
    index.write_bytes(b"\x01\x02\x03")  # not a whole number of entries
    monkeypatch.setattr(btf, "_types", {})
    assert btf._load(btf.VMLINUX).offsets == expected
    assert len(index.read_bytes()) == 4 * len(expected)  # and written again
