"""The default model zoo: what the dashboard shows before a user trains anything.

Small enough to train in well under a minute on 2 CPU cores on digits, broad enough that every page
has something to show: four 2-D models for the latent map and the playground, a plain and a
denoising 8-D conv pair for the denoising and compression pages, and the linear autoencoder at 2 and
8 numbers, which lands on PCA's subspace (the lesson watches it arrive).

:func:`zoo_status` is the one place that decides which default models a dataset already has: the
CLI's ``zoo`` and the dashboard's Home both ask it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from core.config import DataConfig, ModelConfig, NoiseConfig, TrainConfig
from core.models.methods import default_model_config, model_label, size_train_settings
from core.store.records import ModelRecord

DENOISING_NOISE = NoiseConfig("gaussian", 0.3)
EPOCHS_ENV = "LATENT_LAB_EPOCHS"  # overrides the default epochs everywhere (the tests use 1-2)

SMALL_DATASET = 2_000  # up to this many training images, the full default epochs are cheap
IMAGES_PER_TRAINING = 240_000  # beyond it, aim for about this many images seen (a few minutes on 2 cores)

# The linear autoencoder's zoo training. It should end on PCA's top-d subspace, but with the zoo's settings
# (batches of 64, 60 epochs) linear d=2 on digits ended 30.7 degrees away (test MSE 0.0550, PCA's 0.0530) and
# d=8 74.2 degrees: PC2/PC3 (13.6 % / 12.0 % of the variance) and PC8/PC9 (3.7 % / 3.3 %) are close, the
# direction between them is learnt at a rate proportional to that gap, and batch noise drowns it. Whole-split
# batches (no noise; a step is cheap for a linear map) at a higher peak rate for 25x the epochs arrived in
# every run measured on digits (seeds 0-4: largest angle 1.9-6.5 degrees at d=2, 3.1-7.7 at d=8; test MSE
# 0.0528-0.0531 against PCA's 0.0530), each in 6-9 s where the zoo's dense d=2 took 12-18 s on the same busy
# machine (bench/NOTES.md, learning moments). Fewer epochs arrived less surely: 1,000 epochs gave up to 8.3
# degrees, 600 at 5e-2 up to 35; batches of 256 at 2e-2 for 240 epochs up to 50.5. Not measured on MNIST.
LINEAR_BATCH = 2048  # images per step: the whole training split of digits; 27 steps an epoch on MNIST
LINEAR_LR = 3e-2  # peak learning rate of a cosine all the way (LINEAR_DECAY_FROM: the schedule it was measured with)
LINEAR_DECAY_FROM = 0.0
LINEAR_EPOCHS_FACTOR = 25  # epochs: 25x the zoo's (1,500 on digits; $LATENT_LAB_EPOCHS=1 gives 25)


@dataclass(frozen=True)
class ZooModel:
    """One default model and where it stands.

    Attributes
    ----------
    model : ModelConfig
    train : TrainConfig
        The settings it is trained with when it is missing.
    record : ModelRecord or None
        The cached model that stands for it: one trained with exactly ``train`` if there is one,
        else the newest with the same architecture and noise (e.g. trained with a time budget).
    """

    model: ModelConfig
    train: TrainConfig
    record: ModelRecord | None = None

    @property
    def label(self) -> str:
        return model_label(self.model, self.train)

    @property
    def trained(self) -> bool:
        return self.record is not None


def zoo_train_config(model: ModelConfig, train: TrainConfig) -> TrainConfig:
    """How the zoo trains ``model`` when the others are trained with ``train``: the same, except the
    linear family's recipe (:data:`LINEAR_BATCH`, :data:`LINEAR_LR` on a cosine, :data:`LINEAR_EPOCHS_FACTOR` x
    the epochs; a time budget is kept as it is), which brings it onto PCA's subspace."""
    if model.family != "linear":
        return train
    from core.config import MAX_EPOCHS

    return replace(train, batch_size=LINEAR_BATCH, lr=LINEAR_LR, lr_decay_from=LINEAR_DECAY_FROM,
                   epochs=min(MAX_EPOCHS, train.epochs * LINEAR_EPOCHS_FACTOR))


def default_zoo(train: TrainConfig | None = None) -> list[ZooModel]:
    """The default models, trained with ``train`` (default TrainConfig()); the linear ones with their
    own recipe derived from it (:func:`zoo_train_config`)."""
    train = train or TrainConfig()
    denoise = replace(train, noise=DENOISING_NOISE)
    linear = [default_model_config("linear", d) for d in (2, 8)]
    return [
        ZooModel(default_model_config("dense", 2), train),
        ZooModel(default_model_config("conv", 2), train),
        ZooModel(default_model_config("vae", 2), train),
        ZooModel(default_model_config("sparse", 2), train),
        ZooModel(default_model_config("conv", 8), train),
        ZooModel(default_model_config("conv", 8), denoise),
        *(ZooModel(model, zoo_train_config(model, train)) for model in linear),
    ]


def first_choice() -> ModelConfig:
    """The model pages pick when nothing is chosen yet: the 2-D conv model, the friendliest start."""
    return default_zoo()[1].model


def first_choice_record(zoo: list[ZooModel], records: list[ModelRecord]) -> ModelRecord:
    """The model a page opens with: the cached model that stands for :func:`first_choice` in the zoo.

    Not simply the first 2-D conv model of ``records``: a throwaway trained a minute ago (one epoch, a
    time budget) is newer and would win, and every page would open on it.

    Parameters
    ----------
    zoo : list of ZooModel
        :func:`zoo_status` of the dataset (each default model with the record standing for it).
    records : list of ModelRecord
        The models the page offers, in its order (never empty).

    Returns
    -------
    ModelRecord
        That zoo model's record when the page offers it, else ``records[0]``.
    """
    wanted = {z.record.name for z in zoo if z.record is not None and z.model == first_choice() and z.train.noise is None}
    return next((r for r in records if r.name in wanted), records[0])


def zoo_status(data: DataConfig, records: list[ModelRecord], train: TrainConfig | None = None) -> list[ZooModel]:
    """Every default model for ``data``, each with the cached record that stands for it (or None).

    Parameters
    ----------
    data : DataConfig
    records : list of ModelRecord
        The store's listing (``CheckpointStore().list().records``).
    train : TrainConfig, optional
        The settings missing models would be trained with; models trained with other settings
        still count as present (the zoo is about which models exist, not how long they trained).
    """
    same_data = [r for r in records if r.data == data]
    status = []
    for entry in default_zoo(train):
        matches = [r for r in same_data if r.model == entry.model and r.train.noise == entry.train.noise]
        exact = [r for r in matches if replace(r.train, threads=None) == replace(entry.train, threads=None)]
        best = (exact or sorted(matches, key=lambda r: r.created, reverse=True) or [None])[0]
        status.append(replace(entry, record=best))
    return status


def default_train_config(n_train: int, image_shape: tuple[int, int, int] | None = None, method: str | None = None,
                         **overrides) -> TrainConfig:
    """Training settings scaled to the dataset: 60 epochs on digits, a few epochs on MNIST, and the
    settings of the images' size band (a lower peak learning rate above 32 px for every method, and for
    the conv family at 17-32 px: :func:`core.models.methods.size_train_settings`).

    ``$LATENT_LAB_EPOCHS`` sets the default epochs everywhere (CLI and dashboard alike).

    Parameters
    ----------
    n_train : int
        Number of training images.
    image_shape : (C, H, W), optional
        The dataset's image shape.
    method : str, optional
        The model family it trains, for the family's own settings by size. None (the zoo, which trains
        several families with one config): only the settings every method gets.
    **overrides
        TrainConfig fields to set (None values are ignored).
    """
    settings = {**size_train_settings(image_shape, method), **{k: v for k, v in overrides.items() if v is not None}}
    if os.environ.get(EPOCHS_ENV):
        settings.setdefault("epochs", int(os.environ[EPOCHS_ENV]))
    if n_train <= SMALL_DATASET:
        # tiny images, tiny batches: per-step overhead dominates and a second thread only waits.
        # The default zoo on digits trained in 48.6 s on 1 thread vs 98.8 s on 2, same test error
        # (bench/NOTES.md). Threads are not part of the cache key, so cached models still match.
        settings.setdefault("threads", 1)
    if "epochs" not in settings and n_train > SMALL_DATASET:
        settings["epochs"] = max(3, -(-IMAGES_PER_TRAINING // n_train))
    return TrainConfig(**settings)
