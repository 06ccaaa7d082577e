"""Sub-commands of ``multiscale``, one module per command (group).

Each module defines ``register(app: typer.Typer) -> None`` and adds its
command(s) there; ``multiscale.cli`` calls every module's ``register``.
Modules import their engines inside the command functions, so ``multiscale
--help`` stays fast.
"""
