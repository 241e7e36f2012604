"""Where else an event can be traced, for the sentence that says a probe
type is missing: a kprobe or fentry on a system call's function has its
syscalls tracepoints, other functions sometimes a tracepoint of their name."""

from __future__ import annotations


def same_event_elsewhere(func: str) -> str:
    """"; tracepoint:syscalls:sys_enter_X carries the same event" when a
    tracepoint or raw tracepoint looks like it does, else "."."""
    from pytrace import tracefs

    base = func
    for prefix in ("__x64_sys_", "__arm64_sys_", "__se_sys_", "__do_sys_", "ksys_", "do_sys_", "sys_", "do_",
                   "vfs_"):
        if base.startswith(prefix):
            base = base[len(prefix):]
            break
    try:
        if tracefs.exists("syscalls", f"sys_enter_{base}"):
            return (f"; tracepoint:syscalls:sys_enter_{base} and sys_exit_{base} trace the same"
                    " system call.")
        matches = tracefs.list_tracepoints(f"*:{func}")
    except Exception:  # noqa: BLE001 - only a suggestion
        return "."
    if matches:
        category, event = matches[0]
        return f"; tracepoint:{category}:{event} traces the same event."
    return "."
