"""`provdc console`: the web console alone (read-only), and its accounts."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from provdc.commands.common import out
from provdc.commands.monitor import _listen

STATE_HELP = "serve's state directory: audits/, runs/report/, and console/ (accounts, audit log)."


class _PathOrCommand(click.Group):
    """`provdc console PATH ...` runs the console; `provdc console add-user ...` is a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_PathOrCommand)
def console() -> None:
    """The web console: health now, compliance by system and requirement, reports.

    \b
      provdc console add-user admin --role admin --state /var/lib/provdc --password-stdin
      provdc console inventory/ --state /var/lib/provdc --listen 127.0.0.1:8443

    Alone it is a read-only view (no form writes); `provdc serve --console ADDR` serves it
    with the service, where security officers can record evidence. Always HTTPS: give
    --tls-cert/--tls-key, or a self-signed certificate is made in STATE/console/tls/.
    """


@console.command("run")
@click.argument("path", type=click.Path(exists=True, path_type=Path), metavar="PATH")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), default=Path("/var/lib/provdc"),
              show_default=True, help=STATE_HELP)
@click.option("--listen", default="127.0.0.1:19443", show_default=True, help="HOST:PORT to serve HTTPS on.")
@click.option("--prometheus", metavar="URL", help="Prometheus to read the state now from, e.g. http://127.0.0.1:19090.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM private key.")
def run(path: Path, state: Path, listen: str, prometheus: str | None, tls_cert: Path | None, tls_key: Path | None) -> None:
    """Serve the console for the inventory at PATH (read-only), until Ctrl-C."""
    from provdc.console.app import Config
    from provdc.console.server import server

    host, port = _listen(listen)
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("give --tls-cert and --tls-key together")
    config = Config(path.resolve(), state.resolve(), prometheus, read_only=True)
    out.print(f"provdc console (read-only): https://{host}:{port}/", markup=False)
    server(config, host, port, tls_cert, tls_key).run()


@console.command("add-user")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "security_officer", "it_staff", "viewer"]), required=True)
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), default=Path("/var/lib/provdc"),
              show_default=True, help=STATE_HELP)
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input (never from the command line, where `ps` shows it).")
def add_user(name: str, role: str, state: Path, password_stdin: bool) -> None:
    """Create or reset the account NAME with ROLE (argon2id hash in STATE/console/users.json).

    \b
      printf '%s\\n' "$PASSWORD" | provdc console add-user an.nguyen --role security_officer --password-stdin
    """
    from provdc.console.auth import Accounts

    password = sys.stdin.readline().rstrip("\n")
    Accounts(state).add_user(name, role, password)
    Accounts(state).record("cli", "add_user", f"{name} ({role})")
    out.print(f"user {name} ({role}) saved in {state / 'console' / 'users.json'}", markup=False)
