"""`dataclass`, `field` and `fields`: the part of the standard dataclasses
that pytrace's tree and type classes use, made cheaply.

The compiler defines ~110 node and type classes, and the standard decorator
spends ~0.4 ms on each (it inspects signatures and builds every method
through its own exec), ~45 ms of every cache-miss compile: a fifth of a new
one-liner's start. Here each class costs one small exec for `__init__`;
equality, hashing and repr are shared methods driven by the class's field
list.

Supported, as in dataclasses: annotated fields in definition order after
the bases' fields, defaults, `field(default=, default_factory=,
compare=False, repr=False, kw_only=True)`, `__post_init__`, and the
decorator options `eq=False` (identity equality and hashing) and
`frozen=True` (immutable, hashable by value). Without either, instances
compare by value and are unhashable, as dataclasses make them.
"""

from __future__ import annotations

_MISSING = object()
_FIELDS = "__plain_fields__"


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen instance."""


class Field:
    __slots__ = ("name", "default", "default_factory", "compare", "repr", "kw_only")

    def __init__(self, default=_MISSING, default_factory=_MISSING, compare=True, repr=True,  # noqa: A002
                 kw_only=False):
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr
        self.kw_only = kw_only


def field(*, default=_MISSING, default_factory=_MISSING, compare=True, repr=True,  # noqa: A002
          kw_only=False) -> Field:
    return Field(default, default_factory, compare, repr, kw_only)


def fields(obj_or_class) -> tuple[Field, ...]:
    return getattr(obj_or_class, _FIELDS)


def dataclass(cls=None, *, eq: bool = True, frozen: bool = False):
    def wrap(cls):
        return _process(cls, eq, frozen)

    return wrap if cls is None else wrap(cls)


def _process(cls, eq: bool, frozen: bool):
    own = _own_fields(cls)
    merged: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in getattr(base, _FIELDS, ()):
            merged[f.name] = f
    for f in own:
        merged[f.name] = f
    all_fields = tuple(merged.values())
    body = dict(cls.__dict__)  # methods written in the class win, as in dataclasses
    explicit_hash = body.get("__hash__") is not None
    setattr(cls, _FIELDS, all_fields)
    cls._compared = tuple(f.name for f in all_fields if f.compare)
    _set(cls, body, "__init__", _make_init(cls, all_fields, frozen))
    _set(cls, body, "__repr__", _repr)
    _set(cls, body, "__match_args__", tuple(f.name for f in all_fields if not f.kw_only))
    if eq:
        _set(cls, body, "__eq__", _eq)
        if not explicit_hash:
            cls.__hash__ = _hash if frozen else None
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
    return cls


def _set(cls, body: dict, name: str, value) -> None:
    if name not in body:
        setattr(cls, name, value)


def _own_fields(cls) -> list[Field]:
    """The class's own annotated fields; class attributes that were Field
    objects are replaced by their plain default (or removed), as dataclasses
    does."""
    out = []
    for name in cls.__dict__.get("__annotations__", {}):
        value = cls.__dict__.get(name, _MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name = name
        if isinstance(value, Field):
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        out.append(f)
    return out


def _make_init(cls, all_fields: tuple[Field, ...], frozen: bool):
    positional, keyword, body = [], [], []
    scope = {"_MISSING": _MISSING}
    for f in all_fields:
        if f.default_factory is not _MISSING:
            scope[f"_factory_{f.name}"] = f.default_factory
            param, value = f"{f.name}=_MISSING", f"_factory_{f.name}() if {f.name} is _MISSING else {f.name}"
        elif f.default is not _MISSING:
            scope[f"_default_{f.name}"] = f.default
            param, value = f"{f.name}=_default_{f.name}", f.name
        else:
            param, value = f.name, f.name
        (keyword if f.kw_only else positional).append(param)
        if frozen:
            body.append(f"    _setattr(self, {f.name!r}, {value})")
        else:
            body.append(f"    self.{f.name} = {value}")
    if frozen:
        scope["_setattr"] = object.__setattr__
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    params = ", ".join(["self"] + positional + (["*"] + keyword if keyword else []))
    source = f"def __init__({params}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, scope)  # noqa: S102 - the text is built from field names above
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _values(self) -> tuple:
    return tuple(getattr(self, name) for name in self._compared)


def _eq(self, other):
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self) -> int:
    return hash(_values(self))


def _repr(self) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
    return f"{self.__class__.__qualname__}({shown})"


def _frozen_setattr(self, name, value):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self, name):
    raise FrozenInstanceError(f"cannot delete field {name!r}")
