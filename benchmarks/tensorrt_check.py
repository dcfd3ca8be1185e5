"""Prepared TensorRT check for a GPU host: build engines from `edgekit export --target tensorrt`, run, compare.

For resnet18 and mobilenet_v2 (random-init weights), the script exports the fp32 and int8
(symmetric QDQ) artifacts for the ``tensorrt`` target, builds fp32 / fp16 / int8 engines with
the TensorRT Python API (the flags ``trtexec`` gets from ``handoff.sh``), runs 8 generated images
(seed 1, as ``edgekit export`` does), judges them against the fp32 parent run by onnxruntime on
the CPU under edgekit's named tolerances, and times batch 1 with CUDA events. Needs the
``tensorrt`` and ``torch`` (CUDA) packages; without them it says so and exits 2.

Not run by the author of this script: the host it was written on has no GPU.

Usage: python benchmarks/tensorrt_check.py [--iters 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgekit.images import generated_images
from edgekit.ort import make_session, run_batches
from edgekit.targets.export import PARITY_SEED, export_for_target
from edgekit.verify import tolerance_for

MODELS = ("resnet18", "mobilenet_v2")
SAMPLES = 8
WARMUP = 20


def _engine(onnx_path: Path, precision: str, shape: tuple[int, ...]):  # noqa: ANN202 (tensorrt types)
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise RuntimeError(f"TensorRT cannot parse {onnx_path.name}: {errors}")
    config = builder.create_builder_config()
    if precision in ("fp16", "int8"):
        config.set_flag(trt.BuilderFlag.FP16)
    if precision == "int8":
        config.set_flag(trt.BuilderFlag.INT8)  # explicit quantization: scales come from the QDQ nodes
    profile = builder.create_optimization_profile()
    profile.set_shape("input", (1, *shape[1:]), (1, *shape[1:]), (SAMPLES, *shape[1:]))
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    return trt.Runtime(logger).deserialize_cuda_engine(serialized)


def _run(engine, pixels: np.ndarray, iters: int) -> tuple[np.ndarray, float]:  # noqa: ANN001
    import torch

    context = engine.create_execution_context()
    stream = torch.cuda.current_stream()

    def infer(batch: np.ndarray) -> torch.Tensor:
        inputs = torch.from_numpy(batch).cuda()
        context.set_input_shape("input", tuple(inputs.shape))
        out = torch.empty(tuple(context.get_tensor_shape("logits")), device="cuda")
        context.set_tensor_address("input", inputs.data_ptr())
        context.set_tensor_address("logits", out.data_ptr())
        context.execute_async_v3(stream.cuda_stream)
        return out

    logits = infer(pixels).cpu().numpy()
    one = pixels[:1]
    for _ in range(WARMUP):
        infer(one)
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record(stream)
        infer(one)
        end.record(stream)
        end.synchronize()
        times.append(start.elapsed_time(end))
    return logits, float(np.median(times))


def _check(model: str, work: Path, iters: int) -> list[str]:
    fp32 = export_for_target(model, "tensorrt", "fp32", work / f"{model}-fp32")
    int8 = export_for_target(model, "tensorrt", "int8", work / f"{model}-int8")
    prep = fp32.manifest.preprocessing
    pixels = generated_images(SAMPLES, prep, seed=PARITY_SEED).pixels
    reference = run_batches(make_session(fp32.artifact_path, optimize=False), pixels)
    rows = []
    for precision, export in (("fp32", fp32), ("fp16", fp32), ("int8", int8)):
        engine = _engine(export.artifact_path, precision, (1, 3, prep.crop_px, prep.crop_px))
        logits, p50 = _run(engine, pixels, iters)
        judgement = tolerance_for(precision).judge(reference, logits)
        verdict = "ok" if judgement.within else "FAIL"
        rows.append(f"| {model} | {precision} | {verdict}: {judgement.detail} | {p50:.3f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=200)
    args = parser.parse_args()
    try:
        import tensorrt
        import torch
    except ImportError as exc:
        print(f"cannot run: {exc} (needs tensorrt and a CUDA build of torch)")
        sys.exit(2)
    if not torch.cuda.is_available():
        print("cannot run: no CUDA device")
        sys.exit(2)
    print(f"TensorRT {tensorrt.__version__}, torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    print("| model | engine | parity vs fp32 parent (onnxruntime CPU) | p50 ms (batch 1, CUDA events) |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="edgekit-trt-") as folder:
        for model in MODELS:
            for row in _check(model, Path(folder), args.iters):
                print(row, flush=True)


if __name__ == "__main__":
    main()
