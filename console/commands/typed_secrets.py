"""Passwords and secrets a person types for a ``watchfloor`` command: at the terminal without
echo, or, for scripts and tests, as lines on stdin."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator


class SecretReader:
    """Passwords from the terminal (no echo) or, for scripts and tests, stdin lines in the
    order they are asked for."""

    def __init__(self) -> None:
        self._lines: Iterator[str] | None = None
        self._stdin: object = None

    def read(self, prompt: str, *, confirm: bool = False) -> str:
        if sys.stdin is not None and sys.stdin.isatty():
            secret = getpass.getpass(prompt)
            if confirm and getpass.getpass("again: ") != secret:
                raise ValueError("the two passwords differ")
            return secret
        if self._lines is None or self._stdin is not sys.stdin:
            self._stdin = sys.stdin
            self._lines = iter(sys.stdin.readline, "")
        line = next(self._lines, "")
        if not line:
            raise ValueError(f"{prompt.rstrip(': ')}: nothing on stdin")
        return line.rstrip("\r\n")


SECRETS = SecretReader()
