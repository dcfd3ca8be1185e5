"""Fuzz the ONNX and YAML loaders (issue 16): a bounded, derandomized hypothesis pass in ``make test``.

Each property runs a fixed number of generated inputs (the same ones every run) and asserts that none
crashed: the loader returned a sane result or raised an ``EdgekitError`` with a one-line message, and the
CLI exited 0/1/2 without a traceback. ``benchmarks/fuzz_loaders.py`` runs the same properties longer.
The regression tests below pin each crash the fuzzer found, with its one-line message.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgekit.analysis import PREPROCESSING_KEY, analyze_onnx
from edgekit.errors import BadInputError
from edgekit.profiles import load_profile_file
from edgekit.targets import load_target_file
from tests.hostile import _fuzz

# Cases per property: about 25 s in all on the 2-core CI host.
BOUNDED_CASES = {"onnx-bytes": 1000, "onnx-protos": 400, "yaml-profiles": 300, "yaml-targets": 300, "cli": 50}


def _report(tally: _fuzz.Tally) -> str:
    return "\n\n".join(
        f"{c.signature} ({c.hits} cases)\n{c.traceback}\nfirst input: {c.example}" for c in tally.crashes.values()
    )


@pytest.mark.parametrize("name", sorted(BOUNDED_CASES))
def test_loader_property_holds_on_every_generated_input(name: str) -> None:
    # setup
    strategy, check = _fuzz.PROPERTIES[name]
    # execute
    tally = _fuzz.run_property(name, strategy(), check, BOUNDED_CASES[name])
    # assert
    assert tally.crashed_cases == 0, _report(tally)
    assert tally.tracebacks == 0
    assert tally.cases == BOUNDED_CASES[name] == sum(tally.outcomes.values())
    accepted = sum(n for outcome, n in tally.outcomes.items() if outcome.startswith(("ok", "exit 0")))
    refused = sum(n for outcome, n in tally.outcomes.items() if outcome.startswith(("refused", "exit 2")))
    assert accepted > 0, f"no generated input was accepted: {tally.outcomes}"  # the strategies reach deep code
    assert refused > 0, f"no generated input was refused: {tally.outcomes}"


def test_the_runner_counts_crashes_instead_of_stopping() -> None:
    # setup: a check that crashes on odd numbers and refuses in two lines on multiples of 4
    def check(case: int, folder: Path) -> str:
        if case % 2:
            raise KeyError(case)
        if case % 4 == 0:
            return _fuzz._refusal(BadInputError("two\nlines"))
        return "ok"

    # execute
    tally = _fuzz.run_property("toy", st.integers(0, 10**6), check, 60, seed=1)
    # assert
    assert tally.cases == 60
    assert tally.crashed_cases == 60 - tally.outcomes["ok"] > 0
    key_error = next(sig for sig in tally.crashes if sig.startswith("KeyError at test_fuzz_loaders.py:"))
    assert set(tally.crashes) == {key_error, "BadInputError with a message that is not one line"}
    assert tally.tracebacks == tally.crashes[key_error].hits > 0
    assert "raise KeyError(case)" in tally.crashes[key_error].traceback


def test_seed_models_are_valid_and_analysed_exactly(tmp_path: Path) -> None:
    # setup: each seed as a file, with the external seed's weights.bin beside it
    (tmp_path / _fuzz.EXTERNAL_DATA_NAME).write_bytes(_fuzz.external_data())
    for name, data in _fuzz.seed_models().items():
        (tmp_path / f"{name}.onnx").write_bytes(data)
    # execute
    analyses = {name: analyze_onnx(tmp_path / f"{name}.onnx") for name in _fuzz.seed_models()}
    # assert: conv 4x3x3x3 + 4, dense 5x4 + 5; 4x6 matmul; 2x1x3x3 int8 depthwise (scales and zero points excluded)
    assert {name: a.params for name, a in analyses.items()} == {
        "classifier": 137,
        "matmul": 24,
        "qdq": 18,
        "external": 137,
    }
    assert analyses["external"].weight_bytes == analyses["classifier"].weight_bytes == 137 * 4
    assert analyses["external"].file_bytes < analyses["classifier"].file_bytes  # the weights live in weights.bin
    assert analyses["classifier"].macs == 8 * 8 * 4 * 27 + 5 * 4
    assert analyses["classifier"].preprocessing is not None
    assert analyses["classifier"].preprocessing.crop_px == 8
    assert [i.name for i in analyses["qdq"].inputs] == ["x", "x2"]


# ---- regressions: each crash the fuzzer found, now one typed line -------------------------------------


def _one_op_model(output_type: int = TensorProto.FLOAT, metadata: str | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3]),
            helper.make_tensor_value_info("z", output_type, [1]),
        ],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    if metadata is not None:
        model.metadata_props.add(key=PREPROCESSING_KEY, value=metadata)
    return model


def test_unknown_element_type_is_refused() -> None:
    # was: ValueError "Enum DataType has no name defined for value 999"
    with pytest.raises(BadInputError, match=r"^a tensor has element type 999, which is not an ONNX element type$"):
        analyze_onnx(_one_op_model(output_type=999))


@pytest.mark.parametrize(("metadata", "kind"), [("{", "JSONDecodeError"), ('{"resize_px": 256}', "ValidationError")])
def test_bad_preprocessing_metadata_is_refused(metadata: str, kind: str) -> None:
    # was: json.JSONDecodeError / pydantic ValidationError with a multi-line message
    expected = f"the model's {PREPROCESSING_KEY} metadata is not valid preprocessing JSON ({kind})"
    with pytest.raises(BadInputError) as raised:
        analyze_onnx(_one_op_model(metadata=metadata))
    assert str(raised.value) == expected


def _declared_shapes_model(op: str, weight_dims: tuple[int, ...], group: int = 1) -> onnx.ModelProto:
    """x → op(x, w) → y with static declared shapes, so analysis trusts them without running anything."""
    weight = numpy_helper.from_array(np.ones(weight_dims, "float32"), "w")
    node = helper.make_node(op, ["x", "w"], ["y"], name="op", **({"group": group} if op == "Conv" else {}))
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], initializer=[weight],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_unknown_external_data_key_is_refused_without_a_raw_warning(tmp_path: Path) -> None:
    # setup: the external seed with "offset" misspelt (onnx warned on stderr, ignored it and read from byte 0)
    path = tmp_path / "model.onnx"
    path.write_bytes(_fuzz.seed_models()["external"].replace(b"offset", b"offsex", 1))
    (tmp_path / _fuzz.EXTERNAL_DATA_NAME).write_bytes(_fuzz.external_data())
    # execute
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        with pytest.raises(BadInputError) as raised:
            analyze_onnx(path)
    # assert
    assert str(raised.value) == "model.onnx: tensor 'w' has unknown external data keys ['offsex']"


def test_negative_declared_dimension_is_refused() -> None:
    # setup: y declared [1, -3] (was: negative MACs and activation bytes in the analysis)
    model = _one_op_model()
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = -3
    # execute / assert
    with pytest.raises(BadInputError, match=r"^tensor 'y' declares a negative dimension: shape \[1, -3\]$"):
        analyze_onnx(model)


def test_gemm_over_a_rank1_input_is_refused() -> None:
    # was: IndexError in the MAC count (left.shape[1])
    with pytest.raises(BadInputError, match=r"^Gemm node 'op' reads a rank-1 input; Gemm needs rank 2$"):
        analyze_onnx(_declared_shapes_model("Gemm", (1,)))


def test_grouped_conv_with_a_rank1_weight_is_not_depthwise() -> None:
    # was: IndexError in is_depthwise (weight.shape[1])
    analysis = analyze_onnx(_declared_shapes_model("Conv", (2,), group=2))
    assert [(n.op_type, n.depthwise, n.macs) for n in analysis.nodes] == [("Conv", False, 1)]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ('{"resize_px": 9, "crop_px": 8, "mean": [NaN, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}',
         "needs finite mean and positive std; got mean (nan, 0.5, 0.5), std (0.25, 0.25, 0.25)"),
        ('{"resize_px": 9, "crop_px": 8, "mean": [0.5, 0.5, 0.5], "std": [0, 0.25, Infinity]}',
         "needs finite mean and positive std; got mean (0.5, 0.5, 0.5), std (0.0, 0.25, inf)"),
        ('{"resize_px": -1, "crop_px": 0, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}',
         "needs positive sizes; got resize -1 px, crop 0 px"),
    ],
)  # fmt: skip
def test_preprocessing_metadata_that_parses_but_is_absurd_is_refused(metadata: str, expected: str) -> None:
    # was: accepted, and `analyze --json` printed NaN / Infinity (not JSON)
    with pytest.raises(BadInputError) as raised:
        analyze_onnx(_one_op_model(metadata=metadata))
    assert str(raised.value) == f"the model's {PREPROCESSING_KEY} metadata {expected}"


def _contrib_model(shape: list[int]) -> onnx.ModelProto:
    """A contrib op ONNX shape inference does not know, so onnxruntime runs the graph once on zeros."""
    graph = helper.make_graph(
        [helper.make_node("Gelu", ["x"], ["y"], domain="com.microsoft")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )  # fmt: skip
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def test_shape_probe_refuses_an_input_too_large_to_run() -> None:
    # setup: the same graph at a small size is measured by the probe run (8 floats in, 8 out)
    assert analyze_onnx(_contrib_model([1, 8])).peak_activation_bytes == 64
    # execute / assert: was a 4 TiB np.zeros (MemoryError, or a lazily mapped allocation that ORT then fills)
    with pytest.raises(BadInputError) as raised:
        analyze_onnx(_contrib_model([1, 2**20, 2**20]))
    assert str(raised.value) == (
        "cannot resolve tensor shapes: input 'x' of shape [1, 1048576, 1048576] is too large to run once (over 1024 MB)"
    )


def test_onnxruntime_rejection_is_one_line_without_source_location() -> None:
    # setup: a contrib op ONNX shape inference cannot resolve, so the onnxruntime fallback runs and rejects it
    weight = numpy_helper.from_array(np.ones((3,), "float32"), "w")
    graph = helper.make_graph(
        [helper.make_node("NoSuchOp", ["x", "w"], ["y"], domain="com.microsoft")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[weight],
    )  # fmt: skip
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    # execute
    with pytest.raises(BadInputError) as raised:
        analyze_onnx(model)
    # assert: was a multi-line message with ORT's C++ source path and signature
    message = str(raised.value)
    assert message.startswith("cannot resolve tensor shapes: onnxruntime rejects the graph (")
    assert "NoSuchOp" in message
    assert "\n" not in message
    assert "/onnxruntime_src/" not in message


def _bundled_profile(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "raspberry-pi-4.yaml"
    path.write_bytes(data)
    return path


def test_non_utf8_profile_is_refused(tmp_path: Path) -> None:
    # setup: a Latin-1 "é" in an otherwise valid profile
    text = _fuzz.bundled_yaml("profile")["raspberry-pi-4"].encode()
    path = _bundled_profile(tmp_path, text.replace(b"Raspberry Pi 4 Model B (4 GB)", b"Raspberry Pi 4 \xe9dition"))
    # execute / assert: was UnicodeDecodeError
    with pytest.raises(BadInputError) as raised:
        load_profile_file(path)
    offset = path.read_bytes().index(b"\xe9")
    assert str(raised.value) == f"profile file {path} is not UTF-8 text (byte {offset})"


@pytest.mark.parametrize(
    ("loader", "reason"),
    [("SafeLoader", "is nested too deeply to read"), ("CSafeLoader", "is not readable YAML: ScannerError")],
)
def test_deeply_nested_target_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loader: str, reason: str
) -> None:
    # setup: 5000 nested lists, read by the pure-Python loader (recursion) and by libyaml (its depth limit)
    import yaml

    if not hasattr(yaml, loader):
        pytest.skip(f"PyYAML was built without {loader}")
    monkeypatch.setattr("edgekit._datafile._SAFE_LOADER", getattr(yaml, loader))
    path = tmp_path / "ncnn.yaml"
    path.write_text(_fuzz.bundled_yaml("target")["ncnn"] + "\nnotes: " + "[" * 5000 + "]" * 5000 + "\n")
    # execute / assert: was RecursionError
    with pytest.raises(BadInputError) as raised:
        load_target_file(path)
    assert str(raised.value) == f"target file {path} {reason}"


@pytest.mark.parametrize(
    ("tag", "kind"), [("!!timestamp x", "AttributeError"), ("!!bool x", "KeyError"), ("!!int x", "ValueError")]
)
def test_tagged_value_pyyaml_cannot_build_is_refused(tmp_path: Path, tag: str, kind: str) -> None:
    # setup: PyYAML's constructors raise AttributeError/KeyError/ValueError on these (was a traceback)
    text = _fuzz.bundled_yaml("profile")["raspberry-pi-4"].replace("vendor: Raspberry Pi", f"vendor: {tag}")
    path = _bundled_profile(tmp_path, text.encode())
    # execute / assert
    with pytest.raises(BadInputError) as raised:
        load_profile_file(path)
    assert str(raised.value) == f"profile file {path} is not readable YAML: a tagged value cannot be built ({kind})"


def test_onnx_name_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    # setup: protobuf hands a non-UTF-8 string field back as bytes (was a pydantic ValidationError in analyze)
    data = _fuzz.seed_models()["classifier"].replace(b"relu", b"rel\x80")
    path = tmp_path / "bad-name.onnx"
    path.write_bytes(data)
    # execute / assert
    with pytest.raises(BadInputError) as raised:
        analyze_onnx(path)
    assert str(raised.value) == f"{path} is not a readable ONNX model: its graph.node.name is not UTF-8 text"


def test_schema_error_on_a_key_with_a_newline_stays_one_line(tmp_path: Path) -> None:
    # setup: an extra key "a<newline>b" (was named verbatim, splitting the error over two lines)
    text = _fuzz.bundled_yaml("profile")["raspberry-pi-4"] + '"a\\nb": 1\n'
    path = _bundled_profile(tmp_path, text.encode())
    # execute / assert
    with pytest.raises(BadInputError) as raised:
        load_profile_file(path)
    assert str(raised.value) == "invalid profile raspberry-pi-4.yaml: 'a\\nb': Extra inputs are not permitted"


@pytest.mark.parametrize("kind", ["profiles", "targets"])
def test_dangling_link_in_the_user_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # setup: $EDGEKIT_HOME/<kind>/gone.yaml -> a file that does not exist (was FileNotFoundError from stat)
    from edgekit.paths import HOME_ENV
    from edgekit.profiles import load_profiles
    from edgekit.targets import load_targets

    link = tmp_path / kind / "gone.yaml"
    link.parent.mkdir()
    link.symlink_to(tmp_path / "missing.yaml")
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    # execute / assert
    with pytest.raises(BadInputError) as raised:
        (load_profiles if kind == "profiles" else load_targets)()
    assert str(raised.value) == f"{kind[:-1]} file {link} is not readable: FileNotFoundError"


def test_python_tag_in_a_profile_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    # setup
    _fuzz.SENTINEL.unlink(missing_ok=True)
    text = _fuzz.bundled_yaml("profile")["raspberry-pi-4"]
    tag = f'!!python/object/apply:os.system ["touch {_fuzz.SENTINEL}"]'
    path = _bundled_profile(tmp_path, text.replace("vendor: Raspberry Pi", f"vendor: {tag}").encode())
    # execute
    with pytest.raises(BadInputError) as raised:
        load_profile_file(path)
    # assert
    assert str(raised.value) == f"profile file {path} is not readable YAML: ConstructorError"
    assert not _fuzz.SENTINEL.exists()


def test_bundled_files_parse_to_the_same_data_with_the_fast_loader() -> None:
    # the libyaml-backed safe loader must read every bundled file exactly as yaml.safe_load does
    import yaml

    from edgekit._datafile import _SAFE_LOADER

    for kind in _fuzz.YAML_KINDS:
        for item_id, text in _fuzz.bundled_yaml(kind).items():
            assert yaml.load(text, Loader=_SAFE_LOADER) == yaml.safe_load(text), item_id


def test_cli_check_reads_json_strictly() -> None:
    # the CLI property rejects NaN/Infinity in --json output (not JSON)
    with pytest.raises(ValueError, match="Infinity is not JSON"):
        json.loads('{"a": Infinity}', parse_constant=_fuzz._reject_constant)
