"""The runtime: run a CompiledProgram in the kernel and print what it reports.

    session.run(program, RunOptions(...)) -> exit code

Modules, from the kernel up: libbcc (ctypes prototypes), bpf (raw bpf()
commands), maps, loader, attach, events (ring buffer, records), decode and
format (pure: bytes -> values -> text), session (the whole run), errors.
Importing this package loads no C library.
"""
