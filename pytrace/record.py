"""A base for plain-data classes on the path of every run.

The compiled program, spans and diagnostics are made on every start (the
runtime unpickles them from the compile cache), so they are plain classes
rather than dataclasses: importing `dataclasses` costs ~20 ms (it pulls in
inspect, ast and dis), a large share of pytrace's start-up. Equality,
hashing and repr come from `__slots__`, so they behave like dataclasses.
"""


class Record:
    __slots__ = ()

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"
