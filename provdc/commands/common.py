"""What every command module shares: the consoles, the error handling group, small helpers."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from provdc.errors import InventoryError, ProvdcError

# soft_wrap: problem lines are file:line:column records that tools grep; never wrap them.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "inventory" / "examples"


def examples_dir() -> Path:
    """Where the embedded example provinces live (the repo, or the installed package)."""
    if EXAMPLES.is_dir():
        return EXAMPLES
    import provdc.inventory as pkg
    return Path(pkg.__file__).parent / "examples"


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a failed export never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class ProvdcGroup(click.Group):
    """Turns ProvdcError into one clear line (all problems for an inventory) instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InventoryError as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False)
            err.print(f"[bold red]error:[/] {exc}")
            ctx.exit(1)
        except ProvdcError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            err.print(f"[bold red]error:[/] {exc}", markup=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must still end in one line, not a traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (run with --debug for the traceback)")
            ctx.exit(1)


class DefaultCommandGroup(click.Group):
    """A group that runs its default command when the first argument is not a subcommand, so
    `provdc audit PATH` and `provdc audit diff OLD NEW` both read naturally."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)
