"""Running ``watchfloor`` for a test: in this process (:func:`watchfloor`), as fast as a
function call, or as a real process (:func:`watchfloor_process`) where the process itself is
the subject (the entry point starts, the exit code reaches the shell, a signal, a terminal).

Both give what a shell sees: the exit code (argparse's usage errors included), stdout and
stderr. In this process stdin is what the test pipes (nothing by default), the environment
variables given are set for the call only, and what the command logs is written to its
stderr as the real process writes it (at its ``--log-level``, INFO by default), so an
assertion that no traceback was logged holds in both. What native libraries write straight
to file descriptor 2 (FFmpeg, OpenCV) is not in it: a test about that runs a real process.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from console.cli import main
from engine.clock import REAL_CLOCK, Clock


@dataclass(frozen=True)
class Ran:
    """A finished ``watchfloor`` run, as :class:`subprocess.CompletedProcess` names it."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def watchfloor(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str = "",
    beside: Callable[[Callable[[], str]], object] | None = None,
    clock: Clock = REAL_CLOCK,
) -> Ran:
    """``watchfloor ARGS`` run by :func:`console.cli.main` in this process. ``beside``, if
    given, runs in a thread while the command runs (a client of a server the command runs),
    given a function that returns what the command has written to stderr so far; what it
    raises is raised here once the command has returned. ``clock`` is what the command waits
    on (its ``--duration``): a :class:`~engine.clock.SimulatedClock` the test moves on."""
    out, err = io.StringIO(), io.StringIO()
    failures: list[BaseException] = []

    def run_beside() -> None:
        assert beside is not None
        try:
            beside(err.getvalue)
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)

    client = threading.Thread(target=run_beside, name="beside-watchfloor", daemon=True)
    level = args[args.index("--log-level") + 1] if "--log-level" in args[:-1] else "INFO"
    with _environment(env or {}), _logged_to(err, level), contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        saved_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            if beside is not None:
                client.start()
            code = main(list(args), clock=clock)
        except SystemExit as exc:  # argparse: a usage error (2) or --help (0)
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        finally:
            sys.stdin = saved_stdin
            if beside is not None:
                client.join(60)  # a fail-safe: the client has its own time limits
    if client.is_alive():
        raise AssertionError("the client beside the command did not finish within 60 s")
    if failures:
        raise failures[0]
    return Ran(args, code, out.getvalue(), err.getvalue())


def watchfloor_process(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """``watchfloor ARGS`` as a real process (``python -m console``); ``env`` is added to
    this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _logged_to(err: io.StringIO, level: str) -> Iterator[None]:
    """Records at ``level`` (the command's ``--log-level``) and above written to ``err`` with
    the CLI's format, as the real process logs them to its stderr (pytest's own log capture
    goes on as well)."""
    root = logging.getLogger()
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def wait_for_line(
    stderr: Callable[[], str], wanted: str, *, after: str | None = None, timeout_s: float = 30
) -> str:
    """The first whole line of ``stderr()`` that holds ``wanted``, or with ``after`` the
    whole line right after the line ``after`` (failing if that one does not hold
    ``wanted``); polled for up to ``timeout_s`` (a fail-safe: it ends at the line)."""
    deadline = time.monotonic() + timeout_s
    while True:
        lines = [line[:-1] for line in stderr().splitlines(keepends=True) if line.endswith("\n")]
        if after is not None:
            following = lines[lines.index(after) + 1 :][:1] if after in lines else []
            if following:
                assert wanted in following[0], f"after {after!r} came {following[0]!r}"
                return following[0]
        else:
            found = [line for line in lines if wanted in line]
            if found:
                return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no line with {wanted!r} within {timeout_s:g} s: {lines}")
        time.sleep(0.05)
