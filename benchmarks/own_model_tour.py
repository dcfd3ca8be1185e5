"""Your own model through every command: a 5-class mobilenet_v2 checkpoint (plain and DataParallel-wrapped) and its
ONNX export, each through optimize, export, bench, compare, predict and recommend, as a user runs them.

Usage:
    .venv/bin/python benchmarks/own_model_tour.py      # → results/own_model_tour.md (about 5-10 min on 2 cores)

Each command runs as a subprocess of the real CLI in a scratch folder with its own EDGEKIT_HOME; the script
checks exit 0, outputs of width 5 and the class names in every manifest and written ONNX file, records each
command's exit code and key output lines, and exits 1 when a check fails. The checkpoint is
``torchvision.models.mobilenet_v2(num_classes=5)`` at seed 0 saved as a training script saves it: there are no
trained 5-class weights here, so the measured top-1 figures are a pipeline check, not an accuracy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
LABELS = ["daisy", "dandelion", "rose", "sunflower", "tulip"]
IMAGES_PER_CLASS = 4
QUICK = ["--warmup", "3", "--min-iters", "10", "--min-seconds", "0.5"]


@dataclass
class Step:
    """One command as run: its arguments, exit code, seconds, key lines and the checks made on its output."""

    args: list[str]
    code: int
    seconds: float
    lines: list[str] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)


def _cli(work: Path, env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "import sys; from edgekit.cli.main import main; sys.argv[0] = 'edgekit'; main()"]
    return subprocess.run([*command, *args], cwd=work, env=env, capture_output=True, text=True, check=False)


def _prepare(work: Path) -> None:
    import numpy as np
    import torch
    import torchvision
    from PIL import Image

    torch.manual_seed(0)
    state = torchvision.models.mobilenet_v2(num_classes=len(LABELS)).state_dict()
    torch.save(state, work / "mnv2-5cls.pth")
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, work / "wrapped.pth")
    (work / "labels.txt").write_text("\n".join(LABELS) + "\n")
    rng = np.random.default_rng(0)
    for name in LABELS:  # the user's labelled folder: one class folder per output, in label order
        (work / "flowers" / name).mkdir(parents=True)
        for index in range(IMAGES_PER_CLASS):
            pixels = (rng.random((256, 320, 3)) * 255).astype("uint8")
            Image.fromarray(pixels).save(work / "flowers" / name / f"{index}.png")


def _onnx_checks(path: Path) -> dict[str, bool]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    dim = model.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    stamped = {p.key: p.value for p in model.metadata_props}
    names = json.loads(stamped.get("edgekit.labels", "{}")).get("names")
    return {f"{path.name}: output width 5": dim == len(LABELS), f"{path.name}: labels in metadata": names == LABELS}


def _grep(text: str, *starts: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip().startswith(starts)]


def _optimize(run, work: Path, source: list[str], key: str) -> Step:
    out = f"out/{key}-int8"
    step, proc = run(["optimize", *source, "--recipe", "int8", "--out", out])
    step.lines = _grep(proc.stdout, "labels", "static_int8", "vs float", "verdict")
    manifest = json.loads((work / out / "manifest.json").read_text())
    step.checks = {"manifest output width 5": manifest["output"]["shape"][1:] == [5],
                   "labels in manifest": manifest["labels"]["names"] == LABELS,
                   **_onnx_checks(work / out / manifest["artifact"]["file"])}  # fmt: skip
    return step


def _export(run, work: Path, source: list[str], key: str) -> Step:
    out = f"out/{key}-openvino"
    step, proc = run(["export", *source, "--target", "openvino-cpu", "--recipe", "int8", "--out", out])
    step.lines = _grep(proc.stdout, "output", "parity ok (gated", "target int8 guard", "files")
    manifest = json.loads((work / out / "manifest.json").read_text())
    step.checks = {"manifest output width 5": manifest["output_shape"][1:] == [5],
                   "labels in manifest": manifest["labels"]["names"] == LABELS,
                   "verification passed": manifest["verification"]["status"] == "passed",
                   "OpenVINO IR written": any(f["path"].endswith(".xml") for f in manifest["files"])}  # fmt: skip
    return step


def _bench(run, source: str) -> Step:
    step, proc = run(["bench", source, "-r", "onnxruntime", "--data", "flowers", *QUICK, "--json"])
    result = json.loads(proc.stdout)
    row = result["results"][0]["result"]
    top1 = result["accuracy"][source][0]
    step.lines = [f"onnxruntime-cpu b1: p50 {row['stats']['latency_ms_p50']:.2f} ms, p90 "
                  f"{row['stats']['latency_ms_p90']:.2f} ms",
                  f"top-1 {top1['value']:.2f} % ({top1['provenance']['kind']}, "
                  f"{top1['provenance']['note']})"]  # fmt: skip
    step.checks = {"top-1 measured and stored": top1["provenance"]["kind"] == "measured"}
    return step


def _compare(run, source: list[str], key: str) -> Step:
    step, proc = run(["compare", *source, "--variant", "fp32,int8", "-r", "onnxruntime", "--data", "flowers",
                      *QUICK, "--out", f"out/{key}-report", "--json"])  # fmt: skip
    result = json.loads(proc.stdout)["comparison"]
    rows = {r["variant"]: r["cells"] for r in result["rows"]}
    for variant, cells in rows.items():
        drop = f", drop {cells['top1_drop_pct']['value']:.2f} pt" if "top1_drop_pct" in cells else ""
        fid = f", agreement {cells['top1_agreement_pct']['value']:.1f} %, cosine {cells['cosine_mean']['value']:.4f}" \
            if "cosine_mean" in cells else ""  # fmt: skip
        step.lines.append(f"{variant}: {cells['latency_ms_per_image_b1']['value']:.2f} ms/img b1, "
                          f"{cells['size_mb']['value']:.2f} MB, "
                          f"top-1 {cells['top1_pct']['value']:.2f} %{drop}{fid}")  # fmt: skip
    step.lines += [n for n in result["notes"] if n.startswith(("classes of", "top-1/top-5"))]
    step.checks = {"fp32 and int8 rows": list(rows) == ["fp32", "int8"],
                   "drop = fp32 top-1 - int8 top-1": abs(rows["int8"]["top1_drop_pct"]["value"] - (
                       rows["fp32"]["top1_pct"]["value"] - rows["int8"]["top1_pct"]["value"])) < 1e-9,
                   "class names in the notes": any(n.endswith(", ".join(LABELS)) for n in result["notes"])}  # fmt: skip
    return step


def _predict(run, source: str) -> Step:
    step, proc = run(["predict", source, "--profile", "raspberry-pi-4", "--json"])
    result = json.loads(proc.stdout)
    latency, ram = result["latency_ms"], result["peak_ram_mb"]
    step.lines = [f"latency {latency['value']:.1f} ms [{latency['low']:.1f}–{latency['high']:.1f}], peak RAM "
                  f"{ram['value']:.0f} MB, tier {result['tier']} ({result['interval_note']})"]  # fmt: skip
    step.checks = {"latency predicted": latency["value"] > 0}
    return step


def _recommend(run, source: str) -> Step:
    step, proc = run(["recommend", "--models", source, "--ram", "512MB", "--fps", "30", "--json"])
    result = json.loads(proc.stdout)
    best = result["best_per_device"]
    for c in best[:6]:
        top1 = c["top1_pct"]
        shown = "—" if top1 is None else f"{top1['value']:.2f} % ({top1['kind']})"
        step.lines.append(f"{c['profile']}: {c['recipe']} on {c['target']}, fps {c['fps']['value']:.1f}, top-1 {shown}")
    step.lines.append(f"{len(best)} devices with a feasible candidate, {len(result['rejected'])} rejected")
    step.checks = {"a feasible candidate": bool(best),
                   "measured top-1 shown (from bench/compare --data)": any(
                       c["top1_pct"] and c["top1_pct"]["kind"] == "measured" for c in best)}  # fmt: skip
    return step


def _runner(work: Path, env: dict[str, str], steps: list[Step]):
    def run(args: list[str]) -> tuple[Step, subprocess.CompletedProcess[str]]:
        start = time.perf_counter()
        proc = _cli(work, env, args)
        step = Step(args=args, code=proc.returncode, seconds=time.perf_counter() - start)
        steps.append(step)
        if proc.returncode != 0:
            step.lines = [line for line in proc.stderr.splitlines() if line.strip()][-3:]
            raise RuntimeError(f"edgekit {' '.join(args)} exited {proc.returncode}")
        return step, proc

    return run


def _tour(work: Path, env: dict[str, str], steps: list[Step]) -> None:
    run = _runner(work, env, steps)
    # the ONNX export of the checkpoint, as a user makes it (labels and preprocessing go into its metadata)
    step, proc = run(["optimize", "mobilenet_v2@mnv2-5cls.pth", "--recipe", "fp32", "--labels", "labels.txt",
                      "--out", "out/export-fp32"])  # fmt: skip
    (work / "out/export-fp32/mobilenet_v2-fp32.onnx").rename(work / "mnv2-5cls.onnx")
    step.lines = _grep(proc.stdout, "labels", "verdict")
    sources = {
        "ckpt": ["mobilenet_v2@mnv2-5cls.pth", "--labels", "labels.txt"],
        "wrapped": ["mobilenet_v2@wrapped.pth", "--labels", "labels.txt"],
        "onnx": ["mnv2-5cls.onnx"],  # labels and preprocessing from the file's edgekit metadata
    }
    for key, source in sources.items():
        _optimize(run, work, source, key)
        _export(run, work, source, key)
        _bench(run, source[0])
        _compare(run, source, key)
        _predict(run, source[0])
        _recommend(run, source[0])


HOSTILE_COMMANDS = {
    "optimize": ["optimize", "{m}", "--recipe", "int8", "--out", "out/h-{c}-optimize"],
    "export": ["export", "{m}", "--target", "openvino-cpu", "--recipe", "int8", "--out", "out/h-{c}-export"],
    "compare": ["compare", "{m}", "--variant", "fp32,int8", "-r", "onnxruntime", "--out", "out/h-{c}-compare"],
    "bench": ["bench", "{m}", "-r", "onnxruntime", *QUICK],
    "predict": ["predict", "{m}", "--profile", "raspberry-pi-4"],
}


def _hostile_files(work: Path) -> dict[str, str]:
    """The hostile model files of issue 13, as the model argument each command gets."""
    import torch

    sys.path.insert(0, str(ROOT))
    from tests.hostile import _odd_models as odd

    folder = work / "hostile"
    folder.mkdir()
    cases = {"external-parent": odd.pointing_at(folder / "parent", "../weights.bin"),
             "external-absolute": odd.pointing_at(folder / "absolute", str(folder / "elsewhere" / "w.bin")),
             "external-symlink": odd.symlinked_data(folder / "symlink")}  # fmt: skip
    for name, model in (("absurd-dims", odd.with_input_shape(1, 3, 10**9, 10**9)),
                        ("short-initializer", odd.short_initializer())):  # fmt: skip
        (folder / name).mkdir()
        cases[name] = folder / name / "model.onnx"
        cases[name].write_bytes(model.SerializeToString())
    torch.save({"state_dict": {}, "note": Path("/etc/passwd")}, folder / "evil.pth")  # unpickling builds a Path
    return {
        **{k: str(v.relative_to(work)) for k, v in cases.items()},
        "unpickling-checkpoint": "mobilenet_v2@hostile/evil.pth",
    }


def _files(work: Path) -> set[str]:
    return {str(p.relative_to(work)) for p in work.rglob("*") if p.relative_to(work).parts[0] != "home"}


def _hostile(work: Path, env: dict[str, str]) -> list[tuple[str, str, int, list[str], list[str]]]:
    """(case, command, exit code, stderr lines, paths the run left in the scratch folder) per hostile run."""
    rows = []
    for case, model in _hostile_files(work).items():
        for name, template in HOSTILE_COMMANDS.items():
            args = [a.format(m=model, c=case) for a in template]
            before = _files(work)
            proc = _cli(work, env, args)
            lines = [line for line in proc.stderr.splitlines() if line.strip()]
            rows.append((case, name, proc.returncode, lines, sorted(_files(work) - before)))
    return rows


def _hostile_markdown(rows: list[tuple[str, str, int, list[str], list[str]]]) -> list[str]:
    lines = ["## Hostile model files", "",
             "Each file through five commands; expected: exit 2, one `error:` line, nothing new on disk outside "
             "EDGEKIT_HOME.", "", "| case | command | exit | stderr lines | left on disk | the line |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for case, command, code, err, left in rows:
        shown = err[0] if err else ""
        lines.append(f"| {case} | {command} | {code} | {len(err)} | {', '.join(left) or 'nothing'} | `{shown}` |")
    ok = all(code == 2 and len(err) == 1 and not left for _, _, code, err, left in rows)
    lines += ["", f"Hostile files: {'every run exited 2 with one line and wrote nothing' if ok else 'NOT ALL CLEAN'}.",
              ""]  # fmt: skip
    return lines


def _host() -> str:
    from edgekit.bench import fingerprint

    fp = fingerprint()
    load = os.getloadavg()
    return (f"host id `{fp.id}`: {fp.cpu_model}, {fp.usable_cores} usable cores; 1-min load average "
            f"{load[0]:.2f} at the start")  # fmt: skip


def _markdown(steps: list[Step], host: str, failure: str | None) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Your own model, end to end: a 5-class mobilenet_v2 checkpoint, wrapped, and its ONNX export", "",
             f"Generated by `python benchmarks/own_model_tour.py` on {stamp}; {host}.", "",
             "Scratch folder: `mnv2-5cls.pth` (`torchvision.models.mobilenet_v2(num_classes=5).state_dict()`, seed 0), "
             "`wrapped.pth` (the same as `{\"state_dict\": {\"module.<key>\": ...}}`), `labels.txt` (daisy, dandelion, "
             "rose, sunflower, tulip), `flowers/<class>/` (4 generated images per class). The weights are random "
             "init: the measured top-1 figures check the pipeline, they are not an accuracy.", "",
             "| # | command | exit | s | checks |", "|---|---|---|---|---|"]  # fmt: skip
    for index, step in enumerate(steps, 1):
        checks = ", ".join(f"{'✓' if ok else '✗'} {name}" for name, ok in step.checks.items()) or "—"
        lines.append(f"| {index} | `edgekit {' '.join(step.args)}` | {step.code} | {step.seconds:.0f} | {checks} |")
    lines += ["", "## Key output lines", ""]
    for index, step in enumerate(steps, 1):
        lines += [f"{index}. `edgekit {' '.join(step.args)}` → exit {step.code}", "", "```text", *step.lines, "```",
                  ""]  # fmt: skip
    failed = [name for s in steps for name, ok in s.checks.items() if not ok]
    verdict = failure or (f"{len(failed)} checks FAILED: {', '.join(failed)}" if failed else "every check passed")
    lines += [f"Result: {verdict}.", ""]
    return "\n".join(lines)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="edgekit-own-tour-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EDGEKIT_HOME": str(work / "home"), "COLUMNS": "200"}
    host = _host()
    _prepare(work)
    steps: list[Step] = []
    failure = None
    try:
        _tour(work, env, steps)
    except RuntimeError as exc:
        failure = str(exc)
    hostile = _hostile(work, env)
    text = _markdown(steps, host, failure) + "\n" + "\n".join(_hostile_markdown(hostile))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "own_model_tour.md").write_text(text)
    print(text)
    clean = all(code == 2 and len(err) == 1 and not left for _, _, code, err, left in hostile)
    return 0 if failure is None and clean and all(ok for s in steps for ok in s.checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
