"""Measure the memory each pip-installable runtime adds on this host (targets' runtime_overhead_mb).

For each runtime, a fresh child process imports numpy, records its resident set, imports the
runtime, builds and runs a session on a negligible one-convolution model (a few KB of weights
and activations), then records its peak resident set. The overhead is the peak minus the
numpy baseline; the median of ``--runs`` children is reported. The figures are pasted into
``targets/<id>.yaml`` (``runtime_overhead_mb``, basis ``measured``) with the host id printed here.

Usage: .venv/bin/python benchmarks/target_runtime_overhead.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgekit.bench import fingerprint

_CHILD = r"""
import json, resource, sys
import numpy as np
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
base = rss_mb()
runtime, path = sys.argv[1], sys.argv[2]
x = np.zeros((1, 3, 16, 16), np.float32)
if runtime == "onnxruntime":
    import onnxruntime as ort
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for _ in range(10): s.run(None, {"input": x})
elif runtime == "openvino":
    import openvino as ov
    c = ov.Core().compile_model(path, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    r = c.create_infer_request()
    for _ in range(10): r.infer({0: x})
elif runtime == "ncnn":
    import ncnn
    net = ncnn.Net(); net.opt.num_threads = 2
    net.load_param(path + ".param"); net.load_model(path + ".bin")
    for _ in range(10):
        ex = net.create_extractor(); ex.input("in0", ncnn.Mat(x[0]).clone()); ex.extract("out0")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"base_mb": base, "peak_mb": peak}))
"""

_NCNN_PARAM = """7767517
2 2
Input            in0      0 1 in0
Convolution      conv_0   1 1 in0 out0 0=8 1=3 4=1 5=1 6=216
"""


def _tiny_onnx(folder: Path) -> Path:
    weight = numpy_helper.from_array(np.full((8, 3, 3, 3), 0.01, np.float32), "w")
    node = helper.make_node("Conv", ["input", "w"], ["logits"], pads=[1, 1, 1, 1])
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 8, 16, 16])]
    graph = helper.make_graph([node], "tiny", inputs, outputs, [weight])
    path = folder / "tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    (folder / "tiny.ncnn.param").write_text(_NCNN_PARAM)
    # ncnn .bin: a 4-byte zero tag (fp32 raw weights) then 216 weights and 8 biases
    (folder / "tiny.ncnn.bin").write_bytes(
        np.zeros(1, np.uint32).tobytes() + np.full(216, 0.01, np.float32).tobytes() + np.zeros(8, np.float32).tobytes()
    )
    return path


def _measure(runtime: str, path: str, runs: int) -> dict[str, float]:
    deltas = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _CHILD, runtime, path], capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        deltas.append(row["peak_mb"] - row["base_mb"])
    return {
        "median_mb": round(statistics.median(deltas), 1),
        "min_mb": round(min(deltas), 1),
        "max_mb": round(max(deltas), 1),
        "n": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    host = fingerprint()
    with tempfile.TemporaryDirectory() as folder:
        onnx_path = _tiny_onnx(Path(folder))
        paths = {"onnxruntime": str(onnx_path), "openvino": str(onnx_path), "ncnn": str(Path(folder) / "tiny.ncnn")}
        results = {name: _measure(name, path, args.runs) for name, path in paths.items()}
    print(f"host: {host.id} ({host.cpu_model}, {host.usable_cores} usable cores)")
    versions = {k: v for k, v in host.tool_versions.items() if k in ("onnxruntime", "openvino", "numpy")}
    print(f"tool versions: {json.dumps(versions)}")
    for name, row in results.items():
        spread = f"min {row['min_mb']}, max {row['max_mb']}, n={row['n']}"
        print(f"{name:12s} overhead median {row['median_mb']} MB ({spread})")


if __name__ == "__main__":
    main()
