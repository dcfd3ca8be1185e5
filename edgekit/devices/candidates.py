"""``recommend --measure``: measure the best candidates on every profile that has a configured board.

For each profile with a board in ``devices.yaml`` (or, with ``--on fleet``, a board in the Ray fleet), the top
candidates of a first ranking (the feasible
ones, else the closest misses) whose target the board can time are built here as verified ONNX
artifacts (the recipe's variant) and measured on the board at batch 1; the rows go to the results
store under the board's fingerprint and profile, where ``recommend`` looks measured figures up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgekit.bench.run import BenchConfig, BenchSpec
from edgekit.bench.runners import ArtifactSource
from edgekit.compare.table import variant_builder
from edgekit.devices.board import Board
from edgekit.devices.config import board_from_config, load_devices
from edgekit.devices.on import FLEET_RUNTIMES, Fleet, Where, measure_on
from edgekit.errors import BoardError, MissingDependencyError
from edgekit.measured import runner_of_target
from edgekit.recommend import Candidate, Recommendation
from edgekit.store import ResultsStore

DEFAULT_TOP = 3  # candidates measured per profile


@dataclass
class MeasuredCandidates:
    """What ``measure_candidates`` did: cells measured per board id (``fleet:<profile>`` on the fleet), one line per
    failure."""

    measured: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def boards_by_profile() -> dict[str, Board]:
    """The first configured board of each profile."""
    boards: dict[str, Board] = {}
    for config in load_devices().boards:
        boards.setdefault(config.profile, board_from_config(config))
    return boards


def _places(where: Where) -> list[tuple[str, str, Board | Fleet, tuple[str, ...]]]:
    """(profile, name, where, runtimes it times) per profile to measure on: devices.yaml's boards by default."""
    if where is None:
        return [(p, b.label.id, b, b.runtimes) for p, b in boards_by_profile().items()]
    if isinstance(where, Fleet):
        return [(p, f"fleet:{p}", Fleet(where.address, (p,)), FLEET_RUNTIMES) for p in where.profiles]
    return [(where.label.profile, where.label.id, where, where.runtimes)]


def _chosen(result: Recommendation, profile: str, runtimes: tuple[str, ...], top: int) -> list[tuple[Candidate, str]]:
    """The profile's best candidates the board can time, with the runner that times each, unique per cell."""
    ranked = [c for c in result.feasible if c.profile == profile] or [
        c for c in result.closest_misses if c.profile == profile
    ]
    chosen, seen = [], set()
    for candidate in ranked:
        runner = runner_of_target(candidate.target)
        key = (candidate.model, candidate.recipe, runner)
        if runner in runtimes and key not in seen:
            seen.add(key)
            chosen.append((candidate, runner))
    return chosen[:top]


def measure_candidates(result: Recommendation, config: BenchConfig | None = None, *, top: int = DEFAULT_TOP,
                       weights: str = "none", store: ResultsStore | None = None,
                       fresh: bool = False, where: Where = None) -> MeasuredCandidates:  # fmt: skip
    """Measure the top candidates of ``result`` on each profile's board (only profiles it ranked).

    ``config`` defaults to the protocol of ``bench`` (warm-up 10, >= 30 runs and >= 5 s per cell). ``where``:
    None for the boards of ``devices.yaml``, else what :func:`~edgekit.devices.on.resolve_on` gave (a board, or
    the fleet's boards of each profile; fleet cells use one thread).

    A board that fails is one line in ``failures``; the others are still measured.
    """
    done, config = MeasuredCandidates(), config or BenchConfig()
    for profile, name, place, runtimes in _places(where):
        if profile not in result.profiles:
            continue
        chosen = _chosen(result, profile, runtimes, top)
        specs = [BenchSpec(source=ArtifactSource(path=Path(variant_builder(c.recipe)(c.model, weights))),
                           runtime=runner, batch=1, threads=1, model=c.model, variant=c.recipe)
                 for c, runner in chosen]  # fmt: skip
        if not specs:
            continue
        try:
            run = measure_on(place, specs, config, store=store, fresh=fresh)  # a board: threads = its cores
        except (BoardError, MissingDependencyError) as exc:  # a board or the cluster gone: the others still run
            done.failures.append(f"board {name} ({profile}): {exc}")
            continue
        done.measured[name] = len(run.results)
        done.failures += run.failures
    return done
