"""``main()``: parse, resolve credentials, run one command, map every outcome to an exit status."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ._config import CONFIG_PATH_TEXT, UsageError, resolve
from ._output import Output
from ._parser import DEFAULT_SIM_TIME_SCALE, build_parser

if TYPE_CHECKING:
    from ..testing import Simulator

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_FAILURE = 1  # the API refused, a pod failed, a wait timed out, the network broke
EXIT_USAGE = 2  # bad flags, bad spec, missing credentials: nothing was sent
EXIT_INTERRUPTED = 130  # Ctrl-C, after cleanup

NO_KEY = (
    "no API key: pass --api-key, set YOTTA_API_KEY, or add api_key to the [default] section "
    f"of {CONFIG_PATH_TEXT}; or try any command without an account: yotta-async --simulate ..."
)


class _Redact(logging.Filter):
    """Replaces the API key in any log record that would contain it (belt and braces)."""

    def __init__(self, secret: str | None) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret:
            message = record.getMessage()
            if self.secret in message:
                record.msg = message.replace(self.secret, "<redacted>")
                record.args = None
        return True


class _State:
    """Whether Ctrl-C was pressed, shared between the signal handler and ``main``."""

    interrupted = False


@contextlib.contextmanager
def _logging(debug: bool) -> Iterator[_Redact]:
    """With ``--debug``, the ``yotta_async`` logger at DEBUG on stderr, for this run only."""
    redact = _Redact(None)
    if not debug:
        yield redact
        return
    logger = logging.getLogger("yotta_async")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(redact)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield redact
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``yotta-async`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    0 success, 1 API or pod failure, 2 usage error (nothing was sent), 130 interrupted
    after cleanup. Errors print one line on stderr; ``--debug`` adds request logs (the
    key redacted) and tracebacks.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command == "simulate":
        return _simulate(args)
    out = Output(args.output, quiet=args.quiet)
    state = _State()
    with _logging(args.debug) as redact:
        try:
            return _run(args, out, redact, state)
        except BaseException as exc:
            return _fail(exc, args, out, state)


def _simulate(args: argparse.Namespace) -> int:
    from ..testing._serve import serve

    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C before the handler was installed
        return EXIT_OK
    except OSError as exc:  # the port is taken, the host does not resolve
        print(f"yotta-async: error: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_FAILURE


def _run(args: argparse.Namespace, out: Output, redact: _Redact, state: _State) -> int:
    log = logging.getLogger("yotta_async.cli")
    if args.simulate:
        api_key, base_url = None, None
        if args.time_scale is None:
            args.time_scale = DEFAULT_SIM_TIME_SCALE
    elif args.time_scale is not None:
        raise UsageError("--time-scale only applies with --simulate")
    else:
        creds = resolve(args.api_key, args.base_url, args.profile)
        log.debug("API key from %s; base URL from %s", creds.key_source or "nowhere", creds.url_source)
        if not creds.api_key:
            raise UsageError(NO_KEY)
        api_key, base_url = creds.api_key, creds.base_url
        redact.secret = api_key
    return asyncio.run(_amain(args, out, redact, state, api_key, base_url))


async def _amain(
    args: argparse.Namespace,
    out: Output,
    redact: _Redact,
    state: _State,
    api_key: str | None,
    base_url: str | None,
) -> int:
    from .. import YottaClient
    from ._pods import Context, handler_for

    task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        if state.interrupted:
            # A second Ctrl-C abandons the cleanup: say so, then leave at once.
            out.error("interrupted again: cleanup abandoned; some pods may still exist")
            os._exit(EXIT_INTERRUPTED)
        state.interrupted = True
        if args.command == "launch":
            out.info("interrupted: cleaning up (press Ctrl-C again to abandon cleanup)")
        else:
            out.info("interrupted")
        if task is not None:
            task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    handler = handler_for(args.command)
    try:
        async with contextlib.AsyncExitStack() as stack:
            sim = None
            if args.simulate:
                sim = await _start_simulator(stack, args)
                api_key, base_url = sim.api_key, sim.base_url
                redact.secret = api_key
            client = await stack.enter_async_context(YottaClient(api_key, base_url))
            if sim is not None:
                _poll_faster(client, args.time_scale)
            ctx = Context(args, client, out, simulate=sim is not None,
                          now=sim.now if sim is not None else None)
            return await handler(ctx)
    except asyncio.CancelledError:
        if state.interrupted:
            return EXIT_INTERRUPTED
        raise
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


async def _start_simulator(stack: contextlib.AsyncExitStack, args: argparse.Namespace) -> Simulator:
    from ..testing import Simulator

    sim = await stack.enter_async_context(Simulator(time_scale=args.time_scale))
    logging.getLogger("yotta_async.cli").debug("simulator serving on %s", sim.base_url)
    _seed_demo_pods(sim)
    return sim


def _seed_demo_pods(sim: Simulator) -> None:
    """A small demo account: a few pods to list, pause or resume, and two orphans to sweep."""
    from .._token import GROUP_ENV, TOKEN_ENV
    from ..models import EnvVar

    sim.add_pods(2, name="demo-running")
    sim.add_pods(1, name="demo-paused", status="PAUSED")
    for i in range(2):
        env = [EnvVar(key=TOKEN_ENV, value=f"crashed-run-token-{i}"),
               EnvVar(key=GROUP_ENV, value="crashed-run")]
        sim.add_pods(1, name=f"crashed-run-{'ab'[i]}", environment_vars=env)


def _poll_faster(client: Any, time_scale: float) -> None:
    # Simulated pods live time_scale times faster, so the shared poller should too: the
    # progress display then moves as smoothly as it would against the real API.
    from ..waiting import WatchPolicy

    default = WatchPolicy()
    client.pods.watch_policy = WatchPolicy(
        floor=max(0.02, default.floor * time_scale),
        maximum=max(0.05, default.maximum * time_scale),
    )


def _fail(exc: BaseException, args: argparse.Namespace, out: Output, state: _State) -> int:
    from ..errors import ConfigurationError, ValidationError, YottaError

    if isinstance(exc, KeyboardInterrupt):
        out.error("interrupted")
        return EXIT_INTERRUPTED
    if isinstance(exc, (SystemExit, GeneratorExit)):
        raise exc
    if args.debug:
        traceback.print_exception(exc, file=sys.stderr)
    exc = _unwrap(exc)
    if isinstance(exc, (UsageError, ValidationError, ConfigurationError)):
        out.error(str(exc))
        code = EXIT_USAGE
    elif isinstance(exc, YottaError):
        out.error(str(exc) or type(exc).__name__)
        code = EXIT_FAILURE
    else:
        hint = "" if args.debug else " (rerun with --debug for the traceback)"
        out.error(f"unexpected {type(exc).__name__}: {exc}{hint}")
        code = EXIT_FAILURE
    return EXIT_INTERRUPTED if state.interrupted else code


def _unwrap(exc: BaseException) -> BaseException:
    """A task group may wrap a single SDK error in an exception group: show that error."""
    inner = getattr(exc, "exceptions", None)
    while isinstance(inner, tuple) and len(inner) == 1 and isinstance(inner[0], BaseException):
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc
