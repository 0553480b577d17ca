"""The registry of reducers as data: method name -> the class that implements it, its one-line
description, default settings and :class:`Capabilities`. PCA is a method.

It imports nothing of the project: configs validate a model's family against it
(:class:`core.config.ModelConfig`), and :mod:`core.models.methods` builds on it (default configs, reducers,
labels). The registry names classes by import path and imports them on first use, so config validation
and the CLI's cache listing never pay for importing torch or scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.models.reducers import Reducer


@dataclass(frozen=True)
class Capabilities:
    """What a method can do, so pages and analyses branch on abilities instead of names."""

    learned: bool = True  # trained by gradient descent: training settings change the result
    prior: bool = False  # codes follow a known prior N(0, I): random samples and slerp make sense
    spatial_code: bool = False  # the code is a small feature map (C x h x w), not a vector
    bounded_output: bool = True  # decoded pixels are in [0, 1] by construction (a sigmoid), not clipped


@dataclass(frozen=True)
class Method:
    """One entry of the registry.

    Attributes
    ----------
    name : str
        The key (``ModelConfig.family``), e.g. ``'pca'``, ``'conv'``.
    title : str
        How tables and legends name it, e.g. ``'PCA'``, ``'conv'``.
    description : str
        One line for ``--help`` and the dashboard.
    reducer : str
        ``module:Class`` of the :class:`core.models.reducers.Reducer` that implements it.
    network : str or None
        ``module:Class`` of the torch module (autoencoders only).
    defaults : dict
        ModelConfig fields that differ from ModelConfig's own defaults for this method.
    size_defaults : dict
        Image-size band (:data:`SIZE_BANDS`) -> ModelConfig fields that replace ``defaults`` there.
    size_train_defaults : dict
        Image-size band -> TrainConfig fields for this method there (over :data:`BAND_TRAIN_DEFAULTS`); a key
        ``'<band> colour'`` adds fields for three-channel images of that band (:func:`train_bands`).
    capabilities : Capabilities
    penalty : str
        What the training objective adds to the reconstruction loss ('' for none), e.g. 'KL'.
    """

    name: str
    title: str
    description: str
    reducer: str
    network: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    size_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    size_train_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    capabilities: Capabilities = Capabilities()
    penalty: str = ""

    def reducer_class(self) -> type[Reducer]:
        return _load(self.reducer)

    def network_class(self):
        if self.network is None:
            raise TypeError(f"{self.title} has no neural network")
        return _load(self.network)


def _load(path: str):
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


_AE = "core.models.autoencoder_reducer:AutoencoderReducer"

#: every method, in the order tables and pickers list them
METHODS: dict[str, Method] = {m.name: m for m in [
    Method("pca", "PCA", "principal component analysis: the best linear code (scikit-learn's PCA)",
           "core.models.reducers:PCAReducer", capabilities=Capabilities(learned=False, bounded_output=False)),
    Method("dense", "dense", "flatten -> hidden ReLU layers -> code -> mirrored decoder -> sigmoid",
           _AE, "core.models.dense:DenseAutoencoder"),
    # GELU rather than ReLU: in the same epochs a conv d=30 MNIST model reaches a 8% lower test error;
    # one more 3x3 convolution each side at the smallest feature map: 9% lower again after 6 epochs, for
    # 1.3x the time per epoch (bench/NOTES.md part 2). The VAE keeps ReLU and no grid convolution (not measured).
    # By image size (bench/NOTES.md part 2): at 17-32 px (MNIST) two such convolutions at a peak rate of 2e-3
    # reach 1.95 SSE per test image in 600 s where one at 5e-3 reaches 2.36 (two at 5e-3: 2.31; the lower
    # rate is what lets the deeper model learn). Above 32 px the smallest map is 8x8 with 128 channels, where
    # that layer costs 5x what it does on MNIST: without it a conv d=30 on 64x64 colour folders learns more in
    # the same time (part 2c), and trained on mirror images and images shifted by up to 4 px too it
    # generalises better from a folder of 16,000 (part 2c). Colour images of 17-32 px (CIFAR-10's size) are
    # photographs, whose mirror images are photographs too, where grey ones of that size are MNIST's glyphs:
    # mirror images and shifts of up to 2 px took a 32 px photo-like folder from 0.90x PCA-30 to 0.75x in
    # 600 s (part 2c). Up to 16 px (digits, the zoo's home) the defaults are the ones measured there.
    Method("conv", "conv", "strided convolutions, extra 3x3 convolutions on the smallest map (images up to 32 px) "
           "-> Linear code -> the mirror image (transposed convs / upsampling) -> sigmoid",
           _AE, "core.models.conv:ConvAutoencoder", defaults={"activation": "gelu", "grid_convs": 1},
           size_defaults={"medium": {"grid_convs": 2}, "large": {"grid_convs": 0}},
           size_train_defaults={"medium": {"lr": 2e-3}, "medium colour": {"mirror": True, "shift": 2},
                                "large": {"mirror": True, "shift": 4}}),
    Method("conv_pool", "conv_pool", "Conv-ReLU-MaxPool pyramid with a spatial code (e.g. 4x4x8) -> upsampling decoder",
           _AE, "core.models.conv_pool:ConvPoolAutoencoder", capabilities=Capabilities(spatial_code=True)),
    Method("vae", "vae", "convolutional beta-VAE: mean/log-variance code, KL term; encode gives the mean",
           _AE, "core.models.vae:VariationalAutoencoder", capabilities=Capabilities(prior=True), penalty="beta x KL"),
    Method("sparse", "sparse", "dense autoencoder with an L1 or KL sparsity penalty on the code",
           _AE, "core.models.sparse:SparseAutoencoder", penalty="sparsity penalty"),
    # The linear autoencoder has no sigmoid, so it minimises MSE (every sigmoid family defaults to
    # BCE on the logits: with MSE behind a sigmoid a conv model on MNIST can push every pixel to
    # black in its first steps, where the sigmoid's gradient vanishes, and stay there).
    Method("linear", "linear", "one linear layer each way, no activation: PCA's own autoencoder (a sanity check)",
           _AE, "core.models.dense:LinearAutoencoder", defaults={"loss": "mse"},
           capabilities=Capabilities(bounded_output=False)),
]}

#: image-size bands, by the longer side in px: (name, largest side), smallest first. Each band's defaults were
#: measured on its own sizes (bench/NOTES.md part 2): 8 px digits, 28 px MNIST (and a 32 px colour folder), 64 px
#: colour folders. A method's ``size_defaults`` / ``size_train_defaults`` are keyed by these names;
#: ``size_train_defaults`` may add a band's name followed by " colour": settings for images of three channels
#: there, over the band's own (see :func:`train_bands`).
SIZE_BANDS: tuple[tuple[str, float], ...] = (("small", 16), ("medium", 32), ("large", float("inf")))

#: training settings of every method in a band: above 32 px the peak rate of 5e-3 collapsed conv models of
#: 64x64 colour images to a flat output, 2e-3 learns (bench/NOTES.md part 2)
BAND_TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {"large": {"lr": 2e-3}}


def size_band(image_shape: tuple[int, int, int] | None) -> str | None:
    """The band (:data:`SIZE_BANDS`) of images of ``image_shape`` (C, H, W), by the longer side; None when unknown."""
    if image_shape is None:
        return None
    side = max(image_shape[1:])
    return next(name for name, largest in SIZE_BANDS if side <= largest)


def train_bands(image_shape: tuple[int, int, int] | None) -> tuple[str, ...]:
    """The keys of ``size_train_defaults`` that apply to images of ``image_shape`` (C, H, W), in the order they are
    applied: the size band, then ``'<band> colour'`` for three-channel images; empty when the shape is unknown."""
    band = size_band(image_shape)
    if band is None:
        return ()
    return (band, f"{band} colour") if image_shape[0] == 3 else (band,)


#: the method every page and table compares the others with
BASELINE = "pca"

#: the methods that are neural networks (trained with a TrainConfig)
AUTOENCODERS: tuple[str, ...] = tuple(name for name, m in METHODS.items() if m.network is not None)


def get_method(name: str) -> Method:
    """The registry entry for ``name``; a clear error listing the choices otherwise."""
    try:
        return METHODS[name]
    except KeyError:
        raise KeyError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}") from None
