"""Which cached model a lesson step shows, and what trains it when none is cached.

The Lesson page and the static lesson (:mod:`dashboard.lesson.export`) both ask here, so a step shows
the same model, or names the same command, in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.data.datasets import Dataset
from core.store.records import ModelRecord
from core.words import a_or_an
from dashboard import resources
from dashboard.lesson.steps import ModelNeed


def _fits(need: ModelNeed, family: str, latent_dim: int, noise) -> bool:
    return family == need.family and latent_dim == need.latent_dim and (noise is not None) == need.denoising


def model_for(need: ModelNeed, dataset: Dataset) -> ModelRecord | None:
    """The cached model a step shows: the default zoo's model when it is there, else the newest cached
    model of the same family, size and noise (e.g. one trained on the Train page)."""
    zoo = [z.record for z in resources.zoo(dataset) if z.record is not None]
    for records in (zoo, resources.cached_models(dataset.config)):
        match = [r for r in records if _fits(need, r.family, r.latent_dim, r.train.noise)]
        if match:
            return match[0]
    return None


@dataclass(frozen=True)
class TrainHint:
    """What to say when a step's model is not cached.

    Attributes
    ----------
    text : str
        Plain text (no markdown): which model, and where to train it.
    command : str
        The command that trains it.
    in_zoo : bool
        Whether the default zoo holds it (then the zoo command trains it, with the other defaults).
    """

    text: str
    command: str
    in_zoo: bool


def train_hint(need: ModelNeed, dataset: Dataset) -> TrainHint:
    """The words and the command for a missing model (the dataset's name is outside text: escape it
    where it is drawn)."""
    name = dataset.config.name
    in_zoo = any(_fits(need, z.model.family, z.model.latent_dim, z.train.noise) for z in resources.zoo(dataset))
    text = (f"This step shows a {need.family} autoencoder with {a_or_an(need.latent_dim)} {need.latent_dim}-number code"
            + (" trained on noisy images" if need.denoising else "") + f", and none is cached for {name} yet. "
            + ("Train the default models with the button on Home, or on the command line:" if in_zoo else
               "Train it on the Train page, or on the command line:"))
    return TrainHint(text, f"python -m core zoo --dataset {name}" if in_zoo else need.train_command(name), in_zoo)
