"""Progress of long steps on stderr: a spinner naming the step now running, the steps themselves with -v.

The library says what it is doing through :mod:`logging` (INFO records under the ``edgekit`` logger:
"exporting mobilenet_v2 to ONNX at 224 px", "pass static_int8", "timing resnet18 on openvino-cpu");
it never prints. :class:`Steps` turns those records into a transient spinner line on a terminal and, with
``--verbose``, into one dim line each. Nothing is shown when stderr is not a terminal (piped, CI logs) or
with ``--quiet``, so piped output and ``--json`` stay exactly as they are.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

import typer
from rich.text import Text

from edgekit.cli import _common

LOGGER = "edgekit"
Quiet = Annotated[bool, typer.Option("--quiet", help="no progress on stderr (errors and warnings still print)")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="print each step as it starts, with its time")]


class Steps(logging.Handler):
    """A spinner (``what · current step · seconds``) and, when verbose, a line per step; see the module doc.

    Use as a context manager around the long call. :meth:`pause` stops the spinner for a progress bar that
    takes over (bench, compare); verbose lines keep printing.
    """

    def __init__(self, what: str, quiet: bool = False, verbose: bool = False) -> None:
        super().__init__(logging.INFO)
        self.what = what
        self.console = _common.err_console
        self.verbose = verbose and not quiet
        self._status: Any = None
        if self.console.is_terminal and not quiet:
            self._status = self.console.status(Text(what), spinner="dots")
        self._started = time.monotonic()
        self._level = logging.NOTSET
        self._propagate = True

    def emit(self, record: logging.LogRecord) -> None:
        """Show the step ``record`` names: on the spinner, and as a line when verbose."""
        message = record.getMessage()
        elapsed = time.monotonic() - self._started
        if self._status is not None:
            self._status.update(Text(f"{self.what} · {message} · {elapsed:.0f} s"))
        if self.verbose:
            self.console.print(Text(f"{elapsed:6.1f} s  {message}", style="dim"), soft_wrap=True)

    def pause(self) -> None:
        """Stop the spinner for good (a progress bar takes over the line)."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __enter__(self) -> Steps:
        logger = logging.getLogger(LOGGER)
        self._level, self._propagate = logger.level, logger.propagate
        logger.setLevel(logging.INFO)
        logger.propagate = False  # a library's logging.basicConfig() (onnxruntime's quantizer calls it) would echo them
        logger.addHandler(self)
        if self._status is not None:
            self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.pause()
        logger = logging.getLogger(LOGGER)
        logger.removeHandler(self)
        logger.setLevel(self._level)
        logger.propagate = self._propagate
