"""Standard streams a caller closed (`snitch >&-`) or stopped reading (`snitch | head -c0`):
the output is lost, but the run still ends with the exit status of its verdict, not a crash."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

_STREAMS = ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w"))


class _DropWhenClosed:
    """A text stream that, once its reader has gone (a broken pipe), silently drops what follows."""

    def __init__(self, stream):
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._drop()

    def _drop(self) -> None:
        self._gone = True
        # The interpreter flushes the real stream at exit: let that land in /dev/null, not fail.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, self._stream.fileno())
        os.close(null)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def guard() -> None:
    """Reopen closed standard descriptors on /dev/null (so the first file snitch opens cannot
    become its stdout), and make a vanished reader of stdout or stderr harmless."""
    for descriptor, name, mode in _STREAMS:
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
            setattr(sys, name, open(descriptor, mode, closefd=False))
    for _, name, _ in _STREAMS[1:]:
        stream = getattr(sys, name)
        if not isinstance(stream, _DropWhenClosed):
            setattr(sys, name, _DropWhenClosed(stream))


def exit_at_once(code: int) -> NoReturn:
    """Flush what was written and end the process without the interpreter's teardown: freeing
    every object of a finished run (all the modules, a large syntax tree) takes longer than some
    of the checks, a sixth of a compliant run. Nothing is lost: reports are written and closed by
    then, and a snitch run leaves no work to an exit handler."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or gone: the output is lost either way
            pass
    os._exit(code)
