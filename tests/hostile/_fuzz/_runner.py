"""Fuzzing the loaders: runner part (see the package docstring)."""

from __future__ import annotations

import tempfile
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tests.hostile._fuzz._onnx import hostile_onnx_protos, mutated_onnx_bytes
from tests.hostile._fuzz._properties import PropertyError, check_cli, check_onnx, check_yaml, cli_cases
from tests.hostile._fuzz._yaml import mutated_yaml

# --------------------------------------------------------------------------------------------------------
# The runner
# --------------------------------------------------------------------------------------------------------


@dataclass
class CrashRecord:
    """One distinct crash site: the first failing input, its traceback, and how many cases hit it."""

    signature: str
    message: str
    traceback: str
    example: str
    hits: int = 1


@dataclass
class Tally:
    """What one property run did: cases, outcomes, crashes by site, tracebacks."""

    name: str
    cases: int = 0
    outcomes: Counter = field(default_factory=Counter)
    crashes: dict[str, CrashRecord] = field(default_factory=dict)
    crashed_cases: int = 0
    tracebacks: int = 0  # cases whose failure would have reached the user as a Python traceback

    def record(self, case: Any, check: Callable[[Any, Path], str]) -> None:
        self.cases += 1
        with tempfile.TemporaryDirectory(prefix="edgekit-fuzz-") as folder:
            try:
                self.outcomes[check(case, Path(folder))] += 1
                return
            except PropertyError as exc:
                cause = exc.__cause__ or exc
                escaped = exc.__cause__ is not None  # an exception reached the CLI's caller unhandled
                message = str(exc)
            except Exception as exc:  # the property itself: anything but a typed refusal is a crash
                cause, escaped, message = exc, True, f"{type(exc).__name__}: {exc}"
        self.crashed_cases += 1
        self.tracebacks += escaped
        frames = traceback.extract_tb(cause.__traceback__)
        site = next((f for f in reversed(frames) if "/edgekit/" in f.filename), frames[-1] if frames else None)
        where = f"{Path(site.filename).name}:{site.lineno}" if site else "?"
        signature = f"{type(cause).__name__} at {where}" if escaped else message.split(":")[0][:120]
        if signature in self.crashes:
            self.crashes[signature].hits += 1
            return
        text = "".join(traceback.format_exception(cause)) if escaped else message
        self.crashes[signature] = CrashRecord(signature, message[:500], text[-4000:], repr(case)[:600])

    def summary(self) -> str:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return (
            f"{self.name}: {self.cases} cases ({outcomes}); crashes {self.crashed_cases}; tracebacks {self.tracebacks}"
        )


def run_property(
    name: str,
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any, Path], str],
    cases: int,
    seed: int | None = None,
) -> Tally:
    """Run ``check`` over ``cases`` inputs drawn from ``strategy`` and tally them (it never stops at a crash).

    ``seed=None`` derandomizes (the same inputs every run, for the test suite); an integer seeds hypothesis.
    """
    tally = Tally(name)

    @settings(
        max_examples=cases, deadline=None, database=None, derandomize=seed is None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck), print_blob=False,
    )  # fmt: skip
    @given(strategy)
    def body(case: Any) -> None:
        tally.record(case, check)

    if seed is not None:
        body = hypothesis_seed(seed)(body)
    body()
    return tally


PROPERTIES: dict[str, tuple[Callable[[], st.SearchStrategy[Any]], Callable[[Any, Path], str]]] = {
    "onnx-bytes": (mutated_onnx_bytes, check_onnx),
    "onnx-protos": (hostile_onnx_protos, check_onnx),
    "yaml-profiles": (lambda: mutated_yaml("profile"), check_yaml),
    "yaml-targets": (lambda: mutated_yaml("target"), check_yaml),
    "cli": (cli_cases, check_cli),
}
