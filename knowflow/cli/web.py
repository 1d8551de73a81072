"""``knowflow serve``: the local web app."""

from __future__ import annotations

import click

from knowflow.cli.common import Context


@click.command(name="serve")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option(
    "--port",
    type=int,
    default=8765,
    show_default=True,
    help="The port to listen on (the next free one when it is taken; 0: any).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on; anything but loopback needs --allow-remote.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Listen on a non-loopback address (the vault is then reachable, with the "
    "token, from the network).",
)
@click.option(
    "--no-fetch",
    is_flag=True,
    help="Do not fetch sources on their schedules (the file watcher still runs).",
)
@click.pass_obj
def serve_cmd(
    obj: Context, directory: str | None, port: int, host: str, allow_remote: bool, no_fetch: bool
) -> None:
    """Serve the vault (DIRECTORY, else the usual vault) as a local web app.

    Prints the address to open, with its access token; stop it with Ctrl-C. While it
    runs it fetches due sources and follows changes other programs make to the vault.
    """
    from knowflow.vault import Vault
    from knowflow.web.server import LOOPBACK, serve

    if host not in LOOPBACK and not allow_remote:
        raise click.UsageError(
            f"{host} is not a loopback address: add --allow-remote to listen there "
            "(anyone who can reach it and has the token can read the vault)"
        )
    if host not in LOOPBACK:
        click.echo(
            f"Warning: listening on {host}: the vault is reachable from the network "
            "by anyone holding the token.",
            err=True,
        )
    vault = Vault.locate(directory, given="DIR") if directory else obj.vault()
    click.echo(f"knowflow is serving {vault.root}; open:", err=True)
    serve(
        vault,
        host=host,
        port=port,
        fetch=not no_fetch,
        announce=lambda line: click.echo(f"  {line}"),
    )
