"""Measure through the results store: reuse a stored result with the same key unless ``fresh``."""

from __future__ import annotations

from collections.abc import Callable

from edgekit.bench.host import fingerprint
from edgekit.bench.run import BenchConfig, BenchResult, BenchSpec, bench_many, config_hash
from edgekit.compare.plan import plan, resolve_runtimes
from edgekit.store import MeasurementKey, ResultsStore


def key_of(spec: BenchSpec, config: BenchConfig) -> MeasurementKey:
    """The store key a measurement of ``spec`` under ``config`` on this host will have."""
    return MeasurementKey(model=spec.model, variant=spec.variant, runtime=spec.runtime, batch=spec.batch,
                          threads=spec.threads, fingerprint=fingerprint().id,
                          config_hash=config_hash(spec, config))  # fmt: skip


def bench_models(
    models: str | list[str],
    runtimes: list[str] | None = None,
    batches: list[int] | None = None,
    threads: int | None = None,
    *,
    device: str = "cpu",
    weights: str = "none",
    input_size: int | None = None,
    config: BenchConfig | None = None,
    fresh: bool = False,
) -> list[BenchResult]:
    """``edgekit.bench(["mobilenet_v2"], runtimes=["onnxruntime-cpu"])``: what ``edgekit bench`` measures.

    Args:
        models: registry names or model files (.onnx, OpenVINO .xml).
        runtimes: runners or families (default: every one available on ``device``).
        batches: batch sizes (default [1]).
        threads: intra-op threads (default: the usable cores).
        config: the protocol (default: bench's, 10 warm-up / 30 runs / 5 s).
        fresh: re-measure even if the results store holds a row with the same key.

    Returns:
        one result per model × runtime × batch that can run; each knows whether it was measured now
        (its ``timestamp``) and its host.

    Raises:
        BadInputError, UnknownNameError: as the command does.
    """
    names = [models] if isinstance(models, str) else list(models)
    the_plan = plan(names, resolve_runtimes(runtimes or [], device), batches or [1], threads, weights=weights,  # type: ignore[arg-type]
                    input_px=input_size)  # fmt: skip
    return [result for result, _ in bench_cached(the_plan.specs, config or BenchConfig(), fresh=fresh)]


def bench_cached(
    specs: list[BenchSpec],
    config: BenchConfig,
    store: ResultsStore | None = None,
    fresh: bool = False,
    on_done: Callable[[BenchResult, bool], None] | None = None,
) -> list[tuple[BenchResult, bool]]:
    """Return ``(result, was_cached)`` per spec, measuring (and storing) only what is missing.

    Args:
        specs: cells to measure.
        config: measurement protocol settings (part of the key through the config hash).
        store: the results store (default: ``$EDGEKIT_HOME/results.sqlite``).
        fresh: re-measure everything and append the new rows.
        on_done: called per cell as it becomes available, with whether it came from the store.
    """
    store = store or ResultsStore()
    found: dict[int, BenchResult] = {}
    if not fresh:
        for index, spec in enumerate(specs):
            hit = store.latest(key_of(spec, config))
            if hit is not None:
                found[index] = hit
                if on_done:
                    on_done(hit, True)
    missing = [i for i in range(len(specs)) if i not in found]

    def _stored(result: BenchResult) -> None:
        store.put(result)
        if on_done:
            on_done(result, False)

    measured = bench_many([specs[i] for i in missing], config, on_done=_stored)
    fresh_results = dict(zip(missing, measured, strict=True))
    return [(found[i], True) if i in found else (fresh_results[i], False) for i in range(len(specs))]
