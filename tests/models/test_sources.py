"""Model sources: one parse for every way of naming a model, and what each kind loads to."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import torchvision
from onnx import TensorProto, helper

from edgekit.chain import SourceModel
from edgekit.errors import BadInputError, MissingDependencyError, UnknownNameError
from edgekit.models._labels import read_labels
from edgekit.models._source import ModelSource, parse_source
from edgekit.models._source_spec import IMAGENET_MEAN
from edgekit.ort import make_session
from edgekit.recipes import get_recipe
from tests.models._factory_models import FACTORY_CLASSES, tiny5

FACTORY = "tests.models._factory_models:tiny5"
LABELS = ["daisy", "dandelion", "rose", "sunflower", "tulip"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 5-class mobilenet_v2 (random init) saved plain and wrapped as DataParallel would in a training script."""
    folder = tmp_path_factory.mktemp("checkpoints")
    torch.manual_seed(3)
    state = torchvision.models.mobilenet_v2(num_classes=5).state_dict()
    torch.save(state, folder / "mnv2-5cls.pth")
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 7}, folder / "wrapped.pth")
    torch.save({"model": state}, folder / "model-key.pth")
    return {"plain": folder / "mnv2-5cls.pth", "wrapped": folder / "wrapped.pth", "model": folder / "model-key.pth"}


def _tiny_onnx(path: Path, nhwc: bool = False, name: str = "pixel_values", batch: int | str = "n") -> Path:
    torch.manual_seed(0)
    net = tiny5().eval()

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x.permute(0, 3, 1, 2) if nhwc else x)

    example = torch.zeros((1, 32, 32, 3) if nhwc else (1, 3, 32, 32))
    axes = {name: {0: batch}, "scores": {0: batch}} if isinstance(batch, str) else None
    torch.onnx.export(Wrapped(), example, str(path), input_names=[name], output_names=["scores"],
                      dynamic_axes=axes, opset_version=17, dynamo=False)  # fmt: skip
    return path


def test_parse_names_every_kind(tmp_path: Path, checkpoints: dict[str, Path]) -> None:
    onnx_file = _tiny_onnx(tmp_path / "my.onnx")
    script = tmp_path / "my_models.py"
    script.write_text("from torch import nn\ndef build():\n    return nn.Linear(3, 2)\n")
    cases = {
        "resnet18": ("torchvision", "resnet18", "none"),
        f"mobilenet_v2@{checkpoints['plain']}": ("checkpoint", "mobilenet_v2", str(checkpoints["plain"])),
        FACTORY: ("factory", "tiny5", "none"),
        f"{script}:build": ("factory", "build", "none"),
        "timm:mobilenetv3_small_100": ("timm", "mobilenetv3_small_100", "none"),
        str(onnx_file): ("onnx", "my", "none"),
    }
    for text, (kind, name, weights) in cases.items():
        source = parse_source(text)
        assert (source.kind, source.name, source.weights) == (kind, name, weights), text
    assert parse_source("mobilenet_v2", weights=str(checkpoints["plain"])).kind == "checkpoint"
    assert parse_source("resnet18").published
    assert not parse_source(str(onnx_file)).published


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("resnet19", {}, "unknown model 'resnet19'; did you mean resnet18"),
        ("resnet18", {"layout": "NHWC"}, "--layout applies to ONNX files; torch sources take NCHW"),
        ("resnet18", {"layout": "CHW"}, "--layout must be NCHW or NHWC, got 'CHW'"),
        ("resnet18", {"std": (0.2, 0.0, 0.2)}, "--std needs three positive finite numbers (R,G,B), got 0.2,0.0,0.2"),
        ("resnet18", {"input_size": 2}, "--input-size must be between 8 and 4096 px, got 2"),
        ("missing.onnx", {}, "no such ONNX file: missing.onnx"),
        ("timm:../evil", {}, "timm model name '../evil' is not a timm name (letters, digits, _ . -)"),
    ],
)
def test_bad_sources_are_one_typed_error(text: str, kwargs: dict, message: str) -> None:
    with pytest.raises(BadInputError) as caught:
        parse_source(text, **kwargs)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, UnknownNameError) == (text == "resnet19")


@pytest.mark.parametrize("which", ["plain", "wrapped", "model"])
def test_checkpoint_with_a_5_class_head_reads_its_class_count(checkpoints: dict[str, Path], which: str) -> None:
    source = parse_source(f"mobilenet_v2@{checkpoints[which]}", input_size=64, labels=None)
    loaded = source.load()
    assert (loaded.kind, loaded.num_classes, loaded.labels, loaded.labels_source) == ("torch", 5, None, "class indices")
    assert (loaded.preprocessing.crop_px, loaded.preprocessing.resize_px) == (64, round(64 * 232 / 224))
    reference = torchvision.models.mobilenet_v2(num_classes=5).eval()
    reference.load_state_dict(torch.load(checkpoints["plain"], weights_only=True))
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(loaded.model(x), reference(x))
    assert (source.published, source.accuracy_meaningful) == (False, True)


def test_a_bare_checkpoint_asks_for_its_architecture(checkpoints: dict[str, Path]) -> None:
    with pytest.raises(BadInputError) as caught:
        parse_source(str(checkpoints["plain"]))
    assert str(caught.value).startswith(f"{checkpoints['plain']} is a checkpoint: name its architecture, e.g. "
                                        f"mobilenet_v2@{checkpoints['plain']} or mobilenet_v2 --weights ")  # fmt: skip


def test_checkpoint_that_needs_unpickling_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "config": Path("/etc/passwd")}, evil)  # a pickled class
    with pytest.raises(BadInputError, match=r"^checkpoint evil.pth needs arbitrary unpickling, refused"):
        parse_source(f"mobilenet_v2@{evil}").load()


def test_checkpoint_of_another_architecture_names_the_first_misfit_key(tmp_path: Path) -> None:
    other = tmp_path / "resnet.pth"
    torch.save(torchvision.models.resnet18(num_classes=5).state_dict(), other)
    with pytest.raises(BadInputError) as caught:
        parse_source(f"mobilenet_v2@{other}").load()
    assert str(caught.value) == (
        "checkpoint resnet.pth does not fit mobilenet_v2: missing features.0.0.weight "
        "(314 missing, 122 unexpected keys)"
    )
    squeezed = tmp_path / "squeezed.pth"
    state = torchvision.models.mobilenet_v2().state_dict()
    state["features.1.conv.1.weight"] = torch.zeros(16, 8, 1, 1)
    torch.save(state, squeezed)
    with pytest.raises(BadInputError) as caught:
        parse_source(f"mobilenet_v2@{squeezed}").load()
    assert str(caught.value) == (
        "checkpoint squeezed.pth does not fit mobilenet_v2: features.1.conv.1.weight is [16, 8, 1, 1] in the "
        "checkpoint, [16, 32, 1, 1] in the model"
    )


def test_factory_with_flags_and_weights(tmp_path: Path) -> None:
    torch.manual_seed(1)
    trained = tiny5()
    weights = tmp_path / "tiny.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in trained.state_dict().items()}}, weights)
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(LABELS) + "\n\n")
    source = parse_source(FACTORY, weights=str(weights), input_size=40, mean=(0.5, 0.5, 0.5), labels=labels)
    loaded = source.load()
    assert loaded.num_classes == FACTORY_CLASSES
    assert (loaded.labels, loaded.labels_source) == (LABELS, "labels file labels.txt")
    prep = loaded.preprocessing
    assert (prep.crop_px, prep.resize_px, prep.mean, prep.std) == (40, 46, (0.5, 0.5, 0.5), (0.229, 0.224, 0.225))
    assert loaded.notes == ("assumed ImageNet std at 40 px (give --mean/--std if the model was trained otherwise)",)
    x = torch.randn(1, 3, 40, 40)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), trained.eval()(x))
    default = parse_source(FACTORY).load()
    assert (default.preprocessing.crop_px, default.preprocessing.mean) == (224, IMAGENET_MEAN)
    # No --weights: the factory's own weights are the model, so its accuracy is measured, not "random init".
    assert (default.weights, default.accuracy_meaningful) == ("as the factory returns them", True)


def test_factory_errors_are_one_line() -> None:
    with pytest.raises(BadInputError, match="returned dict, not a torch.nn.Module"):
        parse_source("tests.models._factory_models:not_a_module").load()
    with pytest.raises(BadInputError, match="has no function nothing"):
        parse_source("tests.models._factory_models:nothing").load()
    with pytest.raises(BadInputError, match="cannot import factory module no_such_pkg.models"):
        parse_source("no_such_pkg.models:build").load()


def test_labels_must_match_the_output_width(tmp_path: Path) -> None:
    labels = tmp_path / "three.txt"
    labels.write_text("a\nb\nc\n")
    with pytest.raises(BadInputError) as caught:
        parse_source(FACTORY, input_size=32, labels=labels).load()
    assert str(caught.value) == "labels file three.txt names 3 classes, but tiny5 gives 5 outputs per image"
    for name in LABELS:
        (tmp_path / "data" / name).mkdir(parents=True)
    assert read_labels(tmp_path / "data") == (LABELS, f"the class folders of {tmp_path / 'data'}")
    (tmp_path / "dup.txt").write_text("a\nb\na\n")
    with pytest.raises(BadInputError, match="class name 'a' appears more than once"):
        read_labels(tmp_path / "dup.txt")


@pytest.mark.parametrize(("nhwc", "batch"), [(False, "n"), (True, "n"), (False, 1), (True, 1)])
def test_onnx_file_any_name_layout_and_batch(tmp_path: Path, nhwc: bool, batch: int | str) -> None:
    path = _tiny_onnx(tmp_path / "m.onnx", nhwc=nhwc, batch=batch)
    loaded = parse_source(str(path)).load()
    assert (loaded.kind, loaded.num_classes, loaded.preprocessing.crop_px) == ("onnx", 5, 32)
    (value,) = loaded.model.graph.input
    dims = [d.dim_value or d.dim_param for d in value.type.tensor_type.shape.dim]
    assert (value.name, dims[1:]) == ("pixel_values", [3, 32, 32])
    pixels = np.random.default_rng(0).standard_normal((1, 3, 32, 32), dtype=np.float32)
    original = make_session(path.read_bytes(), optimize=False)
    feed = pixels.transpose(0, 2, 3, 1) if nhwc else pixels
    expected = original.run(None, {"pixel_values": feed})[0]
    got = make_session(loaded.model.SerializeToString(), optimize=False).run(None, {"pixel_values": pixels})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert any("NHWC input 'pixel_values' is transposed" in n for n in loaded.notes) == nhwc


def _graph(inputs: list[onnx.ValueInfoProto], path: Path) -> Path:
    nodes = [helper.make_node("Identity", [inputs[0].name], ["y"])]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", inputs, [out])), path)
    return path


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 3, 8, 8]),
          helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 4])],
         "x.onnx cannot be an image classifier: it has 2 inputs (a [1, 3, 8, 8], b [1, 4]); edgekit takes one image "
         "input"),
        ([helper.make_tensor_value_info("tokens", TensorProto.FLOAT, [1, 128])],
         "x.onnx cannot be an image classifier: input 'tokens' has rank 2 ([1, 128]); an image input is rank 4 "
         "(NCHW or NHWC)"),
        ([helper.make_tensor_value_info("img", TensorProto.UINT8, [1, 3, 8, 8])],
         "x.onnx cannot be an image classifier: input 'img' is uint8, not float32"),
    ],
)  # fmt: skip
def test_onnx_that_cannot_be_a_classifier_names_what_it_found(tmp_path: Path, inputs: list, message: str) -> None:
    path = _graph(inputs, tmp_path / "x.onnx")
    with pytest.raises(BadInputError) as caught:
        parse_source(str(path)).load()
    assert str(caught.value) == message


def test_onnx_symbolic_size_needs_input_size_and_reads_edgekit_metadata(tmp_path: Path) -> None:
    path = _tiny_onnx(tmp_path / "m.onnx")
    proto = onnx.load(path)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "h", "w"
    prep = {"resize_px": 40, "crop_px": 32, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    labels = {"count": 5, "sha256": "x", "source": "labels file flowers.txt", "names": LABELS}
    for key, value in (("edgekit.preprocessing", prep), ("edgekit.labels", labels)):
        proto.metadata_props.add(key=key, value=json.dumps(value))
    onnx.save(proto, tmp_path / "sym.onnx")
    with pytest.raises(BadInputError, match=r"has symbolic height/width \['n', 3, 'h', 'w'\]: give --input-size"):
        parse_source(str(tmp_path / "sym.onnx")).load()
    loaded = parse_source(str(tmp_path / "sym.onnx"), input_size=32).load()
    assert (loaded.preprocessing.resize_px, loaded.preprocessing.mean) == (40, (0.5, 0.5, 0.5))
    assert (loaded.labels, loaded.labels_source) == (LABELS, "labels file flowers.txt")


def test_onnx_source_runs_onnx_recipes_and_refuses_torch_only_ones(tmp_path: Path) -> None:
    source = SourceModel.from_source(parse_source(str(_tiny_onnx(tmp_path / "m.onnx"))))
    assert source.applicable(get_recipe("int8")).pass_names == ["simplify", "static_int8"]
    with pytest.raises(BadInputError) as caught:
        source.applicable(get_recipe("pruned30"))
    assert str(caught.value) == (
        "recipe pruned30 needs the torch module (prune_channels); m is an ONNX file: use fp32, fp16 or int8"
    )


def test_timm_without_timm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "timm", None)  # import timm now raises ImportError
    with pytest.raises(MissingDependencyError) as caught:
        parse_source("timm:mobilenetv3_small_100").load()
    assert str(caught.value) == "timm: sources need timm: pip install 'edgekit[timm]'  (or pip install timm)"


def test_timm_source_takes_its_pretrained_config() -> None:
    pytest.importorskip("timm")
    loaded = parse_source("timm:mobilenetv3_small_050", input_size=64).load()
    assert (loaded.kind, loaded.num_classes, loaded.preprocessing.crop_px) == ("torch", 1000, 64)
    assert loaded.preprocessing.mean == pytest.approx(IMAGENET_MEAN)
    assert loaded.preprocessing.interpolation == "bicubic"
    assert loaded.notes == ("preprocessing from timm's pretrained config of mobilenetv3_small_050",)
    assert isinstance(parse_source("timm:mobilenetv3_small_050"), ModelSource)
