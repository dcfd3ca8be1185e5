"""Fuzzing the ONNX and YAML loaders: hypothesis strategies, the properties, and a tallying runner.

Parts: ``_onnx`` (seed models, mutated bytes, hostile protos), ``_yaml`` (mutated profiles and targets),
``_properties`` (what every input must satisfy), ``_runner`` (the tallying runner and the property table).

Shared by ``tests/hostile/test_fuzz_loaders.py`` (a bounded, derandomized pass in ``make test``) and
``benchmarks/fuzz_loaders.py`` (a longer seeded pass that writes ``benchmarks/results/fuzz_loaders.md``).

The property, for every input: the loader either returns a valid result or raises an
:class:`edgekit.errors.EdgekitError` whose message is one line. Anything else — another exception
type, a multi-line message, an invalid result (a negative count, a NaN or Infinity that ``--json`` would
print), a YAML tag that ran code, or, through the CLI, an exit code outside 0/1/2, a traceback in the output,
more than one ``error:`` line on exit 2 or non-strict JSON — is a *crash*. The runner does not stop
at the first crash: it counts every case and keeps one traceback per distinct crash site.
"""

from tests.hostile._fuzz._common import CLI_EXIT_CODES, SENTINEL, TRACEBACK_MARK
from tests.hostile._fuzz._onnx import EXTERNAL_DATA_NAME, external_data, seed_models
from tests.hostile._fuzz._properties import _refusal, _reject_constant
from tests.hostile._fuzz._runner import PROPERTIES, Tally, run_property
from tests.hostile._fuzz._yaml import YAML_KINDS, bundled_yaml

__all__ = [
    "CLI_EXIT_CODES",
    "EXTERNAL_DATA_NAME",
    "PROPERTIES",
    "SENTINEL",
    "TRACEBACK_MARK",
    "YAML_KINDS",
    "Tally",
    "_refusal",
    "_reject_constant",
    "bundled_yaml",
    "external_data",
    "run_property",
    "seed_models",
]
