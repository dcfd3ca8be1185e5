"""Latency / memory / energy predictor for (model, precision, device profile, runtime), with intervals.

Latency is a per-node cost model (compute-bound dense convolutions, memory-bound depthwise
convolutions and elementwise ops, per-layer overhead) whose coefficients are fitted on published
measurements (``edgekit/data/published/published-latency.csv``); every prediction carries an
interval derived from cross-validation error, wider where the device/runtime pair has no
calibration rows. Peak RAM = weights + liveness activation peak + runtime overhead + I/O.
"""

from edgekit.predict._calibration import DEVICE_SPECS_CSV, LATENCY_CSV, load_calibration
from edgekit.predict._coords import COORDINATE_COLUMNS, Coordinates, read_table
from edgekit.predict._features import ModelFeatures, model_features
from edgekit.predict._latency import LatencyEstimate, estimate_latency
from edgekit.predict._memory import MemoryEstimate, Overhead, estimate_memory, weight_copies
from edgekit.predict._params import PARAMS_FILE, PREDICTOR_NAME, LatencyParams, load_params, save_params
from edgekit.predict._predict import (
    Prediction,
    RowError,
    known_runtimes,
    predict,
    predict_table,
    predictor_id,
    target_for,
)

__all__ = [
    "COORDINATE_COLUMNS",
    "DEVICE_SPECS_CSV",
    "LATENCY_CSV",
    "PARAMS_FILE",
    "PREDICTOR_NAME",
    "Coordinates",
    "LatencyEstimate",
    "LatencyParams",
    "MemoryEstimate",
    "ModelFeatures",
    "Overhead",
    "Prediction",
    "RowError",
    "estimate_latency",
    "estimate_memory",
    "known_runtimes",
    "load_calibration",
    "load_params",
    "model_features",
    "predict",
    "predict_table",
    "predictor_id",
    "read_table",
    "save_params",
    "target_for",
    "weight_copies",
]
