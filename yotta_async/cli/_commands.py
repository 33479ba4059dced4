"""Which coroutine runs each command, imported only when that command runs."""

from __future__ import annotations

from ._pods import HANDLERS, Handler

__all__ = ["handler_for"]


def handler_for(command: str) -> Handler:
    """The handler of ``command`` (``"pods list"``, ``"launch"``, ``"sweep"``, ...)."""
    if command in HANDLERS:
        return HANDLERS[command]
    if command == "sweep":
        from ._sweep import sweep

        return sweep
    from ._launch import launch

    return launch
