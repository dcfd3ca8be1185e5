"""Latency terms from profiles, and the least-squares pieces of the fit."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.errors import BadInputError
from edgekit.predict import Coordinates, model_features
from edgekit.predict._fit import nnls
from edgekit.predict._params import Hyper
from edgekit.predict._terms import device_point, terms, used_cores
from edgekit.profiles import get_profile

HYPER = Hyper()


def _coords(**kw: object) -> Coordinates:
    base = {"device_id": "rk3588", "model": "resnet18", "runtime": "ncnn", "precision": "fp16"}
    return Coordinates(**(base | kw))


def test_cpu_threads_take_fastest_cores_and_slowest_sets_the_pace() -> None:
    rk = get_profile("rk3588")
    one = device_point(rk, _coords(threads=1), HYPER, {})
    assert one.peak_gflops == pytest.approx(2.4 * 32)  # one A76 at fp16
    assert one.family == "Cortex-A76"
    eight = device_point(rk, _coords(threads=8), HYPER, {})
    assert eight.peak_gflops == pytest.approx(8**HYPER.thread_exponent * 1.8 * 16)  # paced by an A55
    assert eight.family == "Cortex-A55"
    assert len(used_cores(rk, _coords(cores="big", threads=8))) == 4  # capped at the big cluster


def test_cores_that_share_an_l2_scale_with_the_smaller_exponent() -> None:
    pi4, rk = get_profile("raspberry-pi-4"), get_profile("rk3588")
    assert pi4.cpu.clusters[0].l2.shared  # one L2 per Cortex-A72 cluster
    assert rk.cpu.clusters[0].l2 is None  # Cortex-A76: private L2
    four_a72 = device_point(pi4, _coords(device_id="raspberry-pi-4", precision="fp32", threads=4), HYPER, {})
    assert four_a72.peak_gflops == pytest.approx(4**0.6 * 1.5 * 8)  # HYPER.shared_cache_thread_exponent = 0.6
    four_a76 = device_point(rk, _coords(cores="big", threads=4), HYPER, {})
    assert four_a76.peak_gflops == pytest.approx(4**0.95 * 2.4 * 32)  # HYPER.thread_exponent = 0.95


def test_threads_beyond_one_l3_cluster_scale_with_the_shared_cache_exponent() -> None:
    orin = get_profile("jetson-agx-orin")
    assert orin.cpu.clusters[0].l3.cores == 4  # 12 Cortex-A78AE cores in three clusters of four
    assert get_profile("rk3588").cpu.clusters[0].l3 is None  # one L3 for every core

    def peak(threads: int) -> float:
        return device_point(orin, _coords(device_id="jetson-agx-orin", threads=threads), HYPER, {}).peak_gflops

    a78ae_fp16 = 2.2 * 32
    assert peak(4) == pytest.approx(4**0.95 * a78ae_fp16)  # within one cluster: as any private-L2 core
    assert peak(8) == pytest.approx(4**0.95 * 2**0.6 * a78ae_fp16)  # a second cluster: ×2**0.6, not ×2**0.95
    assert peak(12) == pytest.approx(4**0.95 * 3**0.6 * a78ae_fp16)
    assert peak(12) / peak(4) == pytest.approx(1.933, abs=1e-3)
    six = device_point(get_profile("jetson-orin-nano"), _coords(device_id="jetson-orin-nano", threads=6), HYPER, {})
    assert six.peak_gflops == pytest.approx(4**0.95 * 1.5**0.6 * 1.5 * 32)  # clusters of four and two


def test_accelerators_of_one_architecture_share_a_family_key() -> None:
    keys = {
        device: device_point(get_profile(device), _coords(device_id=device, unit="gpu"), HYPER, {"gpu": 1000.0}).family
        for device in ("snapdragon-8-gen-2", "snapdragon-888", "jetson-orin-nano", "jetson-agx-orin")
    }
    assert keys == {"snapdragon-8-gen-2": "gpu:Adreno", "snapdragon-888": "gpu:Adreno",
                    "jetson-orin-nano": "gpu:NVIDIA Ampere", "jetson-agx-orin": "gpu:NVIDIA Ampere"}  # fmt: skip


def test_memory_terms_scale_with_the_cores_under_unit_rate_and_not_under_dram() -> None:
    rk, features = get_profile("rk3588"), model_features("mobilenet_v2")
    one, four = _coords(cores="big", threads=1), _coords(cores="big", threads=4)
    speedup = 4**HYPER.thread_exponent
    assert HYPER.memory_rate == "unit"
    point = device_point(rk, four, HYPER, {})
    assert point.memory_gflops == pytest.approx(speedup * 2.4 * 16)  # fp32 rate of the used A76 cores
    unit = [terms(features, device_point(rk, c, HYPER, {}), c, HYPER) for c in (one, four)]
    assert unit[0][:4] / unit[1][:4] == pytest.approx([speedup] * 4)  # compute and the three memory terms
    dram_hyper = HYPER.model_copy(update={"memory_rate": "dram"})
    dram = [terms(features, device_point(rk, c, dram_hyper, {}), c, dram_hyper) for c in (one, four)]
    assert dram[0][1:4] == pytest.approx(dram[1][1:4])  # bytes / 34 GB/s whatever the thread count
    assert dram[0][1] == pytest.approx(features.depthwise_bytes / 2 / 34e9 * 1e3)  # fp16 = half the fp32 bytes


def test_gpu_memory_rate_is_its_fp32_peak_and_npu_keeps_dram() -> None:
    nano = get_profile("jetson-nano")
    gpu = device_point(nano, _coords(device_id="jetson-nano", unit="gpu", runtime="tensorrt"), HYPER, {})
    assert (gpu.peak_gflops, gpu.memory_gflops) == (472.0, 236.0)  # fp16 compute peak, fp32 memory rate
    npu = device_point(get_profile("rk3588"), _coords(unit="npu", runtime="rknn", precision="int8"), HYPER, {})
    assert npu.memory_gflops is None


def test_accelerator_without_published_peak_uses_reference() -> None:
    point = device_point(get_profile("qcs6490"), _coords(device_id="qcs6490", unit="npu", runtime="qnn"), HYPER,
                         {"npu": 6000.0})  # fmt: skip
    assert (point.peak_gflops, point.assumed_peak) == (6000.0, True)


def test_missing_unit_is_a_clear_error() -> None:
    with pytest.raises(BadInputError, match=r"device raspberry-pi-4 has no npu \(it has cpu\)"):
        device_point(get_profile("raspberry-pi-4"), _coords(device_id="raspberry-pi-4", unit="npu"), HYPER, {})


def test_nnls_matches_lstsq_when_unconstrained_and_clips_negatives() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((40, 3))
    truth = np.array([2.0, 0.5, 1.0])
    assert nnls(a, a @ truth) == pytest.approx(truth, abs=1e-9)
    negative = nnls(a, a @ np.array([2.0, -1.0, 1.0]))
    assert negative[1] == 0.0
    assert (negative >= 0).all()


def test_batch_other_than_one_is_refused() -> None:
    with pytest.raises(ValueError, match="only batch 1 is predicted"):
        _coords(batch=8)
