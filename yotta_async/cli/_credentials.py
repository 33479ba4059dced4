"""``yotta-async credentials``: registry logins for private images; the password never on argv."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._config import UsageError
from ._resources_out import print_credentials
from ._types import resource_id

credential_id = resource_id("credential")

if TYPE_CHECKING:
    from ._context import Context, Handler

__all__ = ["HANDLERS", "add_commands", "read_password"]

Sub = Callable[..., argparse.ArgumentParser]
TYPES = ("DOCKER_HUB", "GCR", "ECR", "ACR", "PRIVATE")
NO_PASSWORD = (
    "no password: pipe it in with --password-stdin (e.g. printf %s \"$PASSWORD\" | yotta-async "
    "credentials create ... --password-stdin), or run in a terminal to be prompted"
)


class _NoPasswordOnArgv(argparse.Action):
    """``--password VALUE`` is refused without echoing VALUE: argv shows in ``ps`` and history."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs="?", help=argparse.SUPPRESS, **kw)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        parser.error("--password is not accepted (a value on the command line shows in ps and shell "
                     "history); use --password-stdin, or omit it to be prompted")


def add_commands(top: argparse._SubParsersAction[argparse.ArgumentParser], sub: Sub) -> None:
    """Add ``credentials list|get|create|update|delete``."""
    group = top.add_parser("credentials", help="registry credentials for private images")
    verbs = group.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = sub(verbs, "list", "list registry credentials")
    p.set_defaults(command="credentials list")
    p = sub(verbs, "get", "show one credential")
    p.add_argument("id", type=credential_id, metavar="ID")
    p.set_defaults(command="credentials get")
    p = sub(verbs, "create", "store a registry login (the password from stdin or a hidden prompt)")
    p.add_argument("--name", required=True, metavar="N")
    p.add_argument("--type", required=True, type=str.upper, choices=TYPES, help="registry kind")
    p.add_argument("--username", required=True, metavar="U")
    _password_flags(p, prompt_flag=False)
    p.set_defaults(command="credentials create")
    p = sub(verbs, "update", "change a credential's name, username or password")
    p.add_argument("id", type=credential_id, metavar="ID")
    p.add_argument("--name", default=None, metavar="N")
    p.add_argument("--username", default=None, metavar="U")
    _password_flags(p, prompt_flag=True)
    p.set_defaults(command="credentials update")
    p = sub(verbs, "delete", "delete a credential (refused while a pod uses it)")
    p.add_argument("id", type=credential_id, metavar="ID")
    p.set_defaults(command="credentials delete")


def _password_flags(p: argparse.ArgumentParser, *, prompt_flag: bool) -> None:
    p.add_argument("--password-stdin", action="store_true", help="read the password (or token) from stdin")
    if prompt_flag:
        p.add_argument("--password-prompt", action="store_true", help="ask for a new password (hidden)")
    p.add_argument("--password", action=_NoPasswordOnArgv)


def read_password(args: argparse.Namespace) -> str:
    """The password from stdin (``--password-stdin``, trailing newline dropped) or a hidden prompt."""
    if args.password_stdin:
        text = sys.stdin.read()
        text = text[:-1] if text.endswith("\n") else text
        text = text[:-1] if text.endswith("\r") else text
        if not text:
            raise UsageError("--password-stdin: stdin was empty")
        return text
    if not sys.stdin.isatty():
        raise UsageError(NO_PASSWORD)
    import getpass

    text = getpass.getpass("Registry password (hidden): ")
    if not text:
        raise UsageError("the password must not be empty")
    return text


async def credentials_list(ctx: Context) -> int:
    """``credentials list``."""
    print_credentials(ctx.out, await ctx.client.credentials.list())
    return 0


async def credentials_get(ctx: Context) -> int:
    """``credentials get ID``."""
    print_credentials(ctx.out, [await ctx.client.credentials.get(ctx.args.id)], one=True)
    return 0


async def credentials_create(ctx: Context) -> int:
    """``credentials create --name N --type T --username U [--password-stdin]``."""
    args = ctx.args
    password = read_password(args)
    cred = await ctx.client.credentials.create(
        name=args.name, type=args.type, username=args.username, password=password
    )
    del password
    ctx.out.info(f"created credential {cred.id}; use it with --credential {cred.id}")
    print_credentials(ctx.out, [cred], one=True)
    return 0


async def credentials_update(ctx: Context) -> int:
    """``credentials update ID [--name N] [--username U] [--password-stdin | --password-prompt]``."""
    args = ctx.args
    if args.password_stdin and args.password_prompt:
        raise UsageError("give --password-stdin or --password-prompt, not both")
    password = read_password(args) if args.password_stdin or args.password_prompt else None
    if args.name is None and args.username is None and password is None:
        raise UsageError("nothing to update: give --name, --username, --password-stdin or --password-prompt")
    cred = await ctx.client.credentials.update(
        args.id, name=args.name, username=args.username, password=password
    )
    del password
    print_credentials(ctx.out, [cred], one=True)
    return 0


async def credentials_delete(ctx: Context) -> int:
    """``credentials delete ID``: exit 1 with the typed refusal while a pod uses it."""
    await ctx.client.credentials.delete(ctx.args.id)
    if ctx.out.json:
        ctx.out.emit_json({"id": ctx.args.id, "deleted": True})
    else:
        ctx.out.info(f"deleted credential {ctx.args.id}")
    return 0


HANDLERS: dict[str, Handler] = {
    "credentials list": credentials_list,
    "credentials get": credentials_get,
    "credentials create": credentials_create,
    "credentials update": credentials_update,
    "credentials delete": credentials_delete,
}
