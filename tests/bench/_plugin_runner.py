"""A runner that lives outside edgekit.bench.runners, as a user's plug-in would."""

from __future__ import annotations

from pathlib import Path

from edgekit.bench import PreparedRun, Runner, register_runner


@register_runner
class PluginEchoRunner(Runner):
    """Reverses the bytes of a ``.echo`` file: enough to time something."""

    name = "plugin-echo"
    family = "plugin"
    device = "cpu"
    artifact_suffixes = (".echo",)

    def prepare(self, source, batch, threads):  # noqa: ANN001, ANN201
        data = Path(source.path).read_bytes() * batch
        return PreparedRun(run=lambda: data[::-1], input_shape=(batch, len(data)), settings={"plugin": "yes"})
