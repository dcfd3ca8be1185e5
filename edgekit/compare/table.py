"""``compare``: the seed's table done right — rows of (model, variant, runtime), every cell a Metric.

Columns: latency ms/image at batch 1 (p50) and at a larger batch, p90 at batch 1, throughput,
peak RSS, top-1 (published without data, measured with ``data``), ONNX size, GMACs, params,
and for non-fp32 variants label-free fidelity against fp32. Variants are the registered ones
(:func:`register_variant`; ``fp32`` is built in) plus every optimization recipe that yields ONNX.
``targets`` adds rows that time the files a vendor toolchain converted (OpenVINO IR, ncnn).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from edgekit.bench.host import HostFingerprint, fingerprint
from edgekit.bench.run import BenchResult, BenchSpec
from edgekit.bench.runners import ArtifactSource, ModelSource, available_runners, get_runner
from edgekit.compare import _columns, _targets
from edgekit.compare._config import COMPARE_BENCH, LARGE_BATCH, CompareConfig, CompareRow, Comparison
from edgekit.compare._sources import CompareModel, resolve_models
from edgekit.compare._variants import VariantBuilder, list_variants, register_variant, variant_builder
from edgekit.compare.cached import bench_cached
from edgekit.devices.on import Fleet, Where, describe, measure_on
from edgekit.errors import BadInputError, BoardError
from edgekit.metrics import Metric
from edgekit.store import ResultsStore

__all__ = ["COMPARE_BENCH", "LARGE_BATCH", "CompareConfig", "CompareRow", "Comparison", "Progress", "VariantBuilder",
           "compare", "list_variants", "register_variant", "variant_builder"]  # fmt: skip


Progress = Callable[[int, int, str], None]  # (done, total, label)


def _loads_models_or_onnx(runtime: str) -> bool:
    runner = get_runner(runtime)
    return runner.builds_models or ".onnx" in runner.artifact_suffixes


def _rows_to_run(
    config: CompareConfig, models: dict[str, CompareModel]
) -> tuple[list[tuple[str, str, str]], list[str]]:
    # By default every available runner that can load a registry model or its ONNX export.
    runtimes = config.runtimes or [r for r in available_runners(config.device) if _loads_models_or_onnx(r)]
    rows, skipped = [], []
    for model in config.models:
        for variant in config.variants:
            for runtime in runtimes:
                if get_runner(runtime).builds_models and variant != "fp32":
                    skipped.append(f"{model}/{variant}/{runtime}: torch eager runs the fp32 registry model only")
                elif get_runner(runtime).builds_models and models[model].torch_source() is None:
                    skipped.append(f"{model}/{variant}/{runtime}: torch eager builds registry architectures only; "
                                   "the ONNX runtimes time its export")  # fmt: skip
                elif not _loads_models_or_onnx(runtime):
                    skipped.append(f"{model}/{variant}/{runtime}: {runtime} does not load ONNX files")
                else:
                    rows.append((model, variant, runtime))
            rows.extend((model, variant, _targets.row_label(t)) for t in config.targets)
    return rows, skipped


def _timed_source(row: tuple[str, str, str], artifacts: dict[tuple[str, str], Path],
                  target_files: dict[tuple[str, str, str], Path], config: CompareConfig,
                  models: dict[str, CompareModel]) -> tuple[str, ModelSource | ArtifactSource]:  # fmt: skip
    """The runner and what it loads for one row: a registry model, a variant ONNX, or a target's files."""
    model, variant, runtime = row
    for target in config.targets:
        if runtime == _targets.row_label(target):
            return _targets.runner_for(target), ArtifactSource(path=target_files[row])
    built = models[model].torch_source()
    if get_runner(runtime).builds_models and built is not None:
        return runtime, built
    return runtime, ArtifactSource(path=artifacts[model, variant])


def _specs(rows: list[tuple[str, str, str]], artifacts: dict[tuple[str, str], Path],
           target_files: dict[tuple[str, str, str], Path], config: CompareConfig,
           models: dict[str, CompareModel]) -> list[BenchSpec]:  # fmt: skip
    specs = []
    for row in rows:
        runner, source = _timed_source(row, artifacts, target_files, config, models)
        for batch in (1, config.large_batch):
            specs.append(BenchSpec(source=source, runtime=runner, batch=batch, threads=config.threads,
                                   model=row[0], variant=row[1]))  # fmt: skip
    return specs


def _latency_cells(small: BenchResult, large: BenchResult, n: int) -> dict[str, Metric]:
    def renamed(result: BenchResult, metric: str, column: str) -> Metric:
        return result.metric(metric).model_copy(update={"name": column})

    cells = {
        "latency_ms_per_image_b1": renamed(small, "latency_ms_per_image_p50", "latency_ms_per_image_b1"),
        "latency_ms_p90_b1": renamed(small, "latency_ms_p90", "latency_ms_p90_b1"),
        f"latency_ms_per_image_b{n}": renamed(large, "latency_ms_per_image_p50", f"latency_ms_per_image_b{n}"),
        f"throughput_ips_b{n}": renamed(large, "throughput_ips", f"throughput_ips_b{n}"),
    }
    if small.memory is not None:
        cells["peak_rss_mb_b1"] = renamed(small, "peak_rss_mb", "peak_rss_mb_b1")
    return cells


def compare(
    config: CompareConfig, store: ResultsStore | None = None, on_progress: Progress | None = None,
    board: Where = None, board_threads: int | None = None,
) -> Comparison:  # fmt: skip
    """Build the comparison table (measuring what the store does not already hold), here or on ``board``.

    Args:
        board: measure the latency cells on this board or on the fleet's boards of one profile (``compare --on``,
            see :func:`~edgekit.devices.on.resolve_on`); None measures here.
        board_threads: threads on one board (None: the board's usable cores); the fleet uses ``config.threads``.

    Raises:
        BoardError: the board failed (cells measured before the failure are kept in the store).
        UnknownNameError: an unknown model or runtime.
        BadInputError: bad data folder, class-count mismatch, a runtime that is not available.
        MissingDependencyError, WeightsUnavailableError: from the runtimes and the registry.
    """
    _check_runtimes(config)
    _targets.check_targets(config.targets)
    if isinstance(board, Fleet) and len(board.profiles) != 1:  # before anything is built
        raise BadInputError(f"a comparison is of one device: pass --profile with one of {', '.join(board.profiles)} "
                            "(the fleet's boards)")  # fmt: skip
    models = resolve_models(config)  # every source parsed once; variants that cannot apply are refused here
    rows, skipped = _rows_to_run(config, models)
    if not rows:
        raise BadInputError("nothing to compare: " + "; ".join(skipped))
    data = _columns.load_data(config, models)  # before measuring: bad data fails fast
    artifacts = {(m, v): models[m].variant_onnx(v) for m, v, _ in rows}
    target_files, untimeable = _targets.resolve_target_rows(rows, config.targets, models)
    skipped += untimeable
    rows = [r for r in rows if r in target_files or r[2] not in {_targets.row_label(t) for t in config.targets}]
    specs = _specs(rows, artifacts, target_files, config, models)
    done = [0]

    def _tick(result: BenchResult, cached: bool) -> None:
        done[0] += 1
        if on_progress:
            on_progress(done[0], len(specs), f"{result.spec.model} {result.spec.runtime} b{result.spec.batch}")

    if board is None:
        measured = bench_cached(specs, config.bench, store, config.fresh, on_done=_tick)
        where = fingerprint()
    else:
        measured, where = _measure_on_board(board, specs, config, store, board_threads, _tick)
    static = _columns.static_cells(config, models, artifacts, data)
    unstored = _columns.store_accuracy(models, static, data, store)
    table = []
    for index, (model, variant, runtime) in enumerate(rows):
        (small, small_cached), (large, _) = measured[2 * index], measured[2 * index + 1]
        cells = _latency_cells(small, large, config.large_batch) | static[model, variant]
        table.append(CompareRow(model=model, variant=variant, runtime=runtime, cells=cells, cached=small_cached))
    notes = _columns.notes(config, models, data) + _contention_note([r for r, _ in measured])
    notes += [unstored] if unstored else _columns.kept_note(models, data)
    return Comparison(config=config, rows=table, fingerprint=where, skipped=skipped, notes=notes,
                      created_at=datetime.now(timezone.utc))  # fmt: skip


def _measure_on_board(board: Where, specs: list[BenchSpec], config: CompareConfig, store: ResultsStore | None,
                      threads: int | None, tick: Callable[[BenchResult, bool], None],
                      ) -> tuple[list[tuple[BenchResult, bool]], HostFingerprint]:  # fmt: skip
    run = measure_on(board, specs, config.bench, store=store, fresh=config.fresh, threads=threads, on_done=tick)
    if run.failures:  # a table needs every cell; the ones measured are stored, a re-run measures only the rest
        raise BoardError(f"{len(run.failures)} of {len(specs)} cells failed on {describe(board)}; the measured "
                         f"ones are kept (re-run to finish). First: {run.failures[0]}")  # fmt: skip
    return run.results, run.fingerprint or run.results[0][0].fingerprint


def _contention_note(results: list[BenchResult]) -> list[str]:
    busy = [r.load_average_1m for r in results if r.contended and r.load_average_1m is not None]
    if not busy:
        return []
    return [
        f"the host was busy while measuring {len(busy)} of {len(results)} cells (1-minute load average up to "
        f"{max(busy):.1f} on {results[0].fingerprint.usable_cores} cores): those latencies include contention"
    ]


def _check_runtimes(config: CompareConfig) -> None:
    for runtime in config.runtimes or []:
        runner = get_runner(runtime)
        if runner.device != config.device:
            raise BadInputError(f"runtime {runtime} runs on {runner.device}, but the device is {config.device}")
    if config.runtimes is None and not available_runners(config.device):
        raise BadInputError(f"no runtime is available for device {config.device} here")
