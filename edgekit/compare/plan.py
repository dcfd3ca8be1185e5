"""Turn ``bench`` arguments (targets, runtimes, device, batches) into benchmark specs."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from edgekit.bench._export import source_fp32_onnx
from edgekit.bench.host import usable_cores
from edgekit.bench.run import BenchSpec, model_spec
from edgekit.bench.runners import (
    ArtifactSource,
    Device,
    Runner,
    available_runners,
    get_runner,
    list_runners,
    resolve_runtime,
)
from edgekit.errors import BadInputError
from edgekit.models import get_model_info
from edgekit.models._source import is_registry_name, parse_source


class BenchPlan(BaseModel):
    """The cells to measure and the (target, runtime) pairs left out, with why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specs: list[BenchSpec]
    skipped: list[str] = Field(default_factory=list)


def parse_batches(text: str) -> list[int]:
    """Parse ``1,8`` into ``[1, 8]`` (sorted, unique).

    Raises:
        BadInputError: empty, not integers, or below 1.
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise BadInputError(f"--batch takes positive integers separated by commas (e.g. 1,8), got {text!r}")
    return sorted(set(values))


def cuda_missing_reason() -> str | None:
    """Why no CUDA runner is usable here (each runner's reason), or ``None`` if one is."""
    if available_runners("cuda"):
        return None
    reasons = [f"{n}: {get_runner(n).unavailable_reason()}" for n in list_runners() if get_runner(n).device == "cuda"]
    return "; ".join(reasons)


def resolve_runtimes(requested: list[str], device: Device) -> list[str]:
    """Runner names for ``--runtime`` values (default: every available runner of the device).

    Raises:
        BadInputError: ``--device cuda`` without a usable GPU, or a runtime of another device.
        UnknownNameError: an unknown runtime.
    """
    if device == "cuda":
        reason = cuda_missing_reason()
        if reason:
            raise BadInputError(f"--device cuda: no GPU runtime is usable here ({reason})")
    if not requested:
        return available_runners(device)  # plan() skips those that cannot load a given target
    return list(dict.fromkeys(resolve_runtime(r, device) for r in requested))


def _is_file_target(target: str) -> bool:
    suffixes = {s for n in list_runners() for s in get_runner(n).artifact_suffixes}
    return Path(target).suffix.lower() in suffixes or Path(target).exists()


def _can_load(runner: Runner, source: ArtifactSource | None) -> bool:
    """A file the runner loads, or a registry model it builds or takes as its ONNX export."""
    if source is not None:
        return runner.accepts(source)
    return runner.builds_models or ".onnx" in runner.artifact_suffixes


def _loads(runner: Runner) -> str:
    return f"{', '.join(runner.artifact_suffixes)} files" if runner.artifact_suffixes else "registry models"


def plan(targets: list[str], runtimes: list[str], batches: list[int], threads: int | None = None, *,
         weights: str = "none", input_px: int | None = None) -> BenchPlan:  # fmt: skip
    """One spec per (target, runtime, batch) that the runtime can load; the rest are skipped.

    Raises:
        BadInputError: a file target that does not exist, or nothing runnable at all.
        UnknownNameError: a target that is neither a file nor a registry model.
    """
    if threads is not None and threads < 1:
        raise BadInputError(f"--threads must be at least 1, got {threads}")
    threads = threads or usable_cores()
    specs, skipped = [], []
    for target in targets:
        is_file = _is_file_target(target)
        if is_file and not Path(target).is_file():
            raise BadInputError(f"no such model file: {target}")
        own = None if is_file or is_registry_name(target) else parse_source(target, input_size=input_px)
        if own is not None:  # arch@checkpoint, module:function, timm:<name>: timed as their fp32 ONNX export
            own_path = source_fp32_onnx(own)
        elif not is_file:
            get_model_info(target)  # unknown names fail here, with close matches
        for runtime in runtimes:
            runner = get_runner(runtime)
            source = ArtifactSource(path=Path(target).resolve(), input_px=input_px) if is_file else None
            source = ArtifactSource(path=own_path, input_px=None) if own is not None else source
            if not _can_load(runner, source):
                skipped.append(f"{target} on {runtime}: {runtime} loads {_loads(runner)} only")
                continue
            for batch in batches:
                if source is None:
                    specs.append(model_spec(target, runtime, batch, threads, weights=weights, input_px=input_px))
                elif own is not None:
                    specs.append(BenchSpec(source=source, runtime=runtime, batch=batch, threads=threads,
                                           model=own.text, variant="file"))  # fmt: skip
                else:
                    specs.append(BenchSpec(source=source, runtime=runtime, batch=batch, threads=threads,
                                           model=Path(target).name, variant="file"))  # fmt: skip
    if not specs:
        raise BadInputError("nothing to run: " + "; ".join(skipped))
    return BenchPlan(specs=specs, skipped=skipped)
