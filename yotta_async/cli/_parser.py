"""The ``yotta-async`` parser: global options, ``pods``, ``launch``, ``sweep``, resources, ``simulate``."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import NoReturn

from .._version import __version__
from ._spec import add_create_arguments
from ._types import positive_float, positive_int, resource_id

__all__ = ["DEFAULT_SIM_TIME_SCALE", "build_parser", "duration", "pod_id", "secret_arguments"]

# Under --simulate a pod starts in ~2-3 s: slow enough to watch, fast enough to wait for.
DEFAULT_SIM_TIME_SCALE = 0.05
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

EPILOG = """\
API key: --api-key, else YOTTA_API_KEY, else api_key in ~/.yotta/config [default]
(--profile NAME picks another section and beats the environment). --simulate needs none.
exit status: 0 ok, 1 API or pod failure, 2 usage error, 130 interrupted (after cleanup).
"""


pod_id = resource_id("pod")
"""A pod id as argparse type: a positive int64 (given as digits)."""

def duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``30m``, ``2h`` or ``1d`` (argparse type)."""
    match = _DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: use e.g. 90, 90s, 30m, 2h or 1d")
    return float(match.group(1)) * _UNIT[match.group(2).lower()]


def _positive_duration(text: str) -> float:
    seconds = duration(text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected a duration > 0, got {text!r}")
    return seconds


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"expected an amount >= 0 such as 20 or 12.50, got {text!r}")
    return value


def port_selector(text: str) -> int | str:
    """``--port``: a container port (``22``) or a protocol name (``ssh``), as argparse type."""
    value = text.strip()
    if value.isascii() and value.isdigit() and 0 <= int(value) <= 65535:
        return int(value)
    if not value or not value.replace("-", "").replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: use a port number or a protocol name")
    return value


def _add_readiness(parser: argparse.ArgumentParser, what: str) -> None:
    g = parser.add_argument_group("readiness (with ready)")
    g.add_argument(
        "--port", dest="ready_ports", action="append", type=port_selector, metavar="PORT",
        help=f"{what}: only these exposed ports must be healthy, by number or protocol "
             "(e.g. 22 or ssh; repeatable; default every exposed port)",
    )
    g.add_argument(
        "--probe", action="store_true",
        help="also open a TCP connection to each port's host:proxyPort before calling it ready",
    )


def _wait_option(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument(
        "--wait", nargs="?", const="running", default=None, choices=("running", "ready"), type=str.lower,
        metavar="running|ready",
        help=f"{text}: '--wait' or '--wait running' waits for RUNNING, '--wait ready' also for "
             "the exposed ports to be healthy",
    )


def _add_globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Sub-commands repeat the options with SUPPRESS defaults, so they may come before or
    # after the command word without the later parser resetting the earlier value.
    def d(value: object) -> object:
        return value if top else argparse.SUPPRESS

    g = parser.add_argument_group("global options")
    g.add_argument("--api-key", default=d(None), metavar="KEY", help="API key (resolution order below)")
    g.add_argument("--base-url", default=d(None), metavar="URL", help="API root (default https://api.yottalabs.ai)")
    g.add_argument("--profile", default=d(None), metavar="NAME", help="section of ~/.yotta/config to use")
    g.add_argument(
        "--simulate", action="store_true", default=d(False),
        help="run against an embedded in-process simulator: no account, nothing billed",
    )
    g.add_argument(
        "--time-scale", type=positive_float, default=d(None), metavar="X",
        help=f"with --simulate: multiply pod lifecycle durations by X (default {DEFAULT_SIM_TIME_SCALE})",
    )
    g.add_argument(
        "--allow-insecure-http", action="store_true", default=d(False),
        help="allow a plain-http --base-url that is not loopback (the key then travels unencrypted)",
    )
    g.add_argument(
        "-o", "--output", choices=("table", "json"), default=d("table"),
        help="stdout format: readable table, or the API's JSON fields (one document)",
    )
    g.add_argument(
        "-q", "--quiet", action="store_true", default=d(False), help="no progress or notes on stderr"
    )
    g.add_argument(
        "--debug", action="store_true", default=d(False),
        help="log requests to stderr (the key is redacted) and show tracebacks",
    )


def _sub(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=text, description=text)
    _add_globals(parser, top=False)
    # main() reports an unknown flag with the usage of the command it was given to.
    parser.set_defaults(usage_parser=parser)
    return parser


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors never echo a value given to a ``--pass...`` option.

    argparse quotes offending arguments ("ambiguous option: --passw=VALUE", "ignored
    explicit argument 'VALUE'"); a password typed there must not be printed back.
    """

    hidden: tuple[str, ...] = ()

    def error(self, message: str) -> NoReturn:
        for value in self.hidden:
            message = message.replace(value, "<redacted>")
        super().error(message)


def secret_arguments(argv: Sequence[str]) -> tuple[str, ...]:
    """Values in ``argv`` given to any ``--pass...`` option (``--password X``, ``--passw=X``)."""
    found = []
    for i, token in enumerate(argv):
        if not token.startswith("--pass"):
            continue
        _, sep, value = token.partition("=")
        if sep and value:
            found.append(value)
        elif not sep and i + 1 < len(argv) and argv[i + 1]:
            found.append(argv[i + 1])
    return tuple(sorted(set(found), key=len, reverse=True))


def build_parser(hidden: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The full ``yotta-async`` parser; each leaf command sets ``command``.

    ``hidden`` are argv values usage errors must not echo (see :func:`secret_arguments`).
    """

    class Parser(_Parser):  # sub-parsers are built with the parent's class, so they share it
        pass

    Parser.hidden = tuple(hidden)
    parser: argparse.ArgumentParser = Parser(
        prog="yotta-async",
        description="Manage Yotta Labs pods (Pods API v2): everyday pod work and bulk launches, "
        "GPU availability, registry credentials and volumes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"yotta-async {__version__}")
    _add_globals(parser, top=True)
    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    pods = top.add_parser("pods", help="list, inspect, create, pause, resume, delete and wait for pods")
    verbs = pods.add_subparsers(dest="verb", metavar="VERB", required=True)

    p = _sub(verbs, "list", "list pods, optionally filtered")
    p.add_argument(
        "--region", dest="regions", action="append", metavar="R", help="region filter (repeatable)"
    )
    p.add_argument(
        "--status", dest="statuses", action="append", metavar="S",
        help="status filter, e.g. RUNNING (repeatable)",
    )
    p.set_defaults(command="pods list")

    p = _sub(verbs, "get", "show one pod")
    p.add_argument("id", type=pod_id, metavar="ID")
    p.set_defaults(command="pods get")

    for verb, text in (
        ("pause", "pause RUNNING pods (GPU billing stops once PAUSED)"),
        ("resume", "resume PAUSED pods"),
        ("delete", "terminate pods"),
    ):
        p = _sub(verbs, verb, text)
        p.add_argument("ids", type=pod_id, nargs="+", metavar="ID")
        p.set_defaults(command=f"pods {verb}")

    p = _sub(verbs, "wait", "wait until pods reach a state")
    p.add_argument("ids", type=pod_id, nargs="+", metavar="ID")
    p.add_argument(
        "--until", choices=("running", "ready", "paused", "terminated"), default="running", type=str.lower,
        help="the state to wait for; 'ready' is RUNNING with the exposed ports healthy",
    )
    _add_readiness(p, "with --until ready")
    p.add_argument(
        "--timeout", type=duration, default=None, metavar="S", help="give up after S (e.g. 600, 10m)"
    )
    p.set_defaults(command="pods wait")

    p = _sub(verbs, "create", "create one pod")
    add_create_arguments(p)
    _wait_option(p, "wait for the pod")
    p.add_argument("--timeout", type=duration, default=None, metavar="S", help="with --wait: give up after S")
    _add_readiness(p, "with --wait ready")
    p.set_defaults(command="pods create")

    p = _sub(top, "launch", "create N pods as a group, with live progress and guaranteed cleanup")
    p.add_argument("--count", type=positive_int, required=True, metavar="N", help="how many pods")
    p.add_argument(
        "--concurrency", type=positive_int, default=None, metavar="C", help="creates in flight at once"
    )
    _wait_option(p, "wait for every pod")
    p.add_argument("--timeout", type=duration, default=None, metavar="S", help="with --wait: give up after S")
    _add_readiness(p, "with --wait ready")
    p.add_argument(
        "--cleanup-timeout", type=duration, default=600.0, metavar="S",
        help="how long deleting (or pausing) the group's pods may take (default 600)",
    )
    p.add_argument(
        "--then", choices=("keep", "pause", "delete"), default="keep",
        help="after launching (and waiting): keep the pods, pause them, or delete them (default keep)",
    )
    p.add_argument(
        "--ttl", type=_positive_duration, default=None, metavar="AGE",
        help="write an expiry on every pod (e.g. 2h): deleted (or paused, --on-expire) once it "
        "passes, by this launch while it runs and afterwards by 'sweep --expired'",
    )
    p.add_argument(
        "--on-expire", choices=("delete", "pause"), default="delete",
        help="with --ttl: what happens to an expired pod (default delete)",
    )
    p.add_argument(
        "--max-hourly-cost", type=_amount, default=None, metavar="USD",
        help="cap the group's summed hourly cost (e.g. 20): a pod that would pass it is deleted "
        "before it runs, and the launch fails",
    )
    add_create_arguments(p, placements=True)
    p.set_defaults(command="launch")

    p = _sub(top, "sweep", "delete orphaned pods left behind by crashed runs, or expired pods")
    p.add_argument(
        "--older-than", type=duration, default=None, metavar="AGE",
        help="only pods older than AGE (e.g. 2h)",
    )
    p.add_argument(
        "--expired", action="store_true",
        help="pods whose expiry stamp (launch --ttl, create expires_in) has passed, whoever made "
        "them; pods without a stamp are never touched by this filter",
    )
    p.add_argument(
        "--grace", type=duration, default=None, metavar="S",
        help="with --expired: allowance for clock skew after the stamp (default 60s)",
    )
    p.add_argument(
        "--on-expire", choices=("delete", "pause"), default=None,
        help="with --expired: delete or pause every expired pod (default: what each pod's stamp says)",
    )
    p.add_argument(
        "--every", type=_positive_duration, default=None, metavar="S",
        help="run as a reaper: sweep every S (e.g. 60) until SIGINT/SIGTERM, one log line per action",
    )
    p.add_argument("--group", default=None, metavar="LABEL", help="only pods of this group label")
    p.add_argument(
        "--all", action="store_true", dest="sweep_all",
        help="every orphan of any age and group (also pods kept with --then keep, and pods of a "
             "launch running right now in another process); try --dry-run first",
    )
    p.add_argument(
        "--include-ungrouped", action="store_true",
        help="also pods from plain 'pods create' calls (by default only pod-group pods are orphans)",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")
    p.add_argument("--wait", action="store_true", help="wait until the deleted pods are TERMINATED")
    p.set_defaults(command="sweep")

    from ._credentials import add_commands as add_credentials
    from ._gpus import add_commands as add_gpus
    from ._volumes import add_commands as add_volumes

    add_gpus(top, _sub)
    add_credentials(top, _sub)
    add_volumes(top, _sub, duration)

    from ..testing._serve import add_arguments

    text = "serve the Pods API simulator over HTTP (no account needed)"
    p = top.add_parser("simulate", help=text, description=text)
    add_arguments(p)
    p.set_defaults(command="simulate", usage_parser=p)
    return parser
