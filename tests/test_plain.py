"""pytrace.plain behaves as the standard dataclasses do for what pytrace uses."""

from __future__ import annotations

import pickle

import pytest

from pytrace.plain import FrozenInstanceError, dataclass, field, fields


@dataclass
class Base:
    span: int = field(default=0, compare=False, repr=False, kw_only=True)


@dataclass
class Call(Base):
    name: str
    args: list = field(default_factory=list)
    flag: bool = False


@dataclass(frozen=True)
class Int:
    size: int
    signed: bool = True


@dataclass(eq=False)
class Value:
    n: int

    def __post_init__(self):
        self.double = self.n * 2


@dataclass
class Custom:
    a: int

    def __repr__(self) -> str:
        return "custom"


def test_fields_defaults_factories_and_keyword_only():
    c = Call("f", span=7)
    assert (c.name, c.args, c.flag, c.span) == ("f", [], False, 7)
    assert Call("f").args is not Call("f").args
    assert [f.name for f in fields(Call)] == ["span", "name", "args", "flag"]
    with pytest.raises(TypeError):
        Call("f", [], False, 7)  # span is keyword-only
    assert repr(c) == "Call(name='f', args=[], flag=False)"
    assert Call.__match_args__ == ("name", "args", "flag")


def test_value_equality_ignores_compare_false_and_leaves_instances_unhashable():
    assert Call("f", span=1) == Call("f", span=2)
    assert Call("f") != Call("g")
    with pytest.raises(TypeError):
        hash(Call("f"))


def test_frozen_hashes_by_value_and_refuses_assignment():
    assert Int(4) == Int(4) and hash(Int(4)) == hash(Int(4)) and Int(4) != Int(4, False)
    with pytest.raises(FrozenInstanceError):
        Int(4).size = 8
    assert pickle.loads(pickle.dumps(Int(8, False))) == Int(8, False)


def test_eq_false_is_identity_and_post_init_runs():
    v = Value(3)
    assert v.double == 6 and v != Value(3) and len({v, Value(3)}) == 2


def test_methods_written_in_the_class_are_kept():
    assert repr(Custom(1)) == "custom" and Custom(1) == Custom(1)
