"""Load a fitted reducer from the model cache, or fit it once and save it: the layer above the store.

:func:`load_or_train` sits above both halves of the store it uses: :mod:`core.store.checkpoints`
(the fitted models' folders) and :mod:`core.store.derived` (what the pages ask of a new model, written
while it is in memory). Neither of those imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import ConfigError, ModelConfig, TrainConfig
from core.errors import CheckpointError
from core.models.methods import canonical_train_config, get_method
from core.store.checkpoints import CheckpointStore, how_to_fix
from core.store.records import ModelRecord

if TYPE_CHECKING:  # torch and the reducers are imported where they are used (a cached model's fast path)
    from core.data.datasets import Dataset
    from core.learning import MomentRecorder
    from core.models.reducers import Reducer
    from core.models.training import ProgressCallback


@dataclass(frozen=True)
class Trained:
    """What :func:`load_or_train` returns: the fitted reducer, its validated record, and whether it
    came from the cache (True) or was fitted just now (False)."""

    reducer: Reducer
    record: ModelRecord
    cached: bool

    @property
    def folder(self) -> str:
        return self.record.name


def _check_image_shape(record: ModelRecord, dataset: Dataset, folder: Path) -> None:
    """A cached model runs only on images of the shape it was trained on."""
    if tuple(record.image_shape) != tuple(dataset.image_shape):
        raise CheckpointError(f"checkpoint {folder} was trained on images of shape {tuple(record.image_shape)}, but "
                              f"{dataset.name} has images of shape {tuple(dataset.image_shape)}; {how_to_fix(folder)}")



def load_or_train(
    dataset: Dataset,
    model: ModelConfig,
    train: TrainConfig | None = None,
    *,
    store: CheckpointStore | None = None,
    callback: ProgressCallback | None = None,
    retrain: bool = False,
    cache_only: bool = False,
    watch: Callable[[MomentRecorder], None] | None = None,
) -> Trained:
    """The fitted reducer for (dataset, model, train): from the cache, or fitted once and saved.

    Works for every method of the registry (PCA is fitted, autoencoders are trained).

    Parameters
    ----------
    dataset : Dataset
        Its ``train`` split is used for fitting, its ``test`` split for the recorded metrics.
    model, train : ModelConfig, TrainConfig
    store : CheckpointStore, optional
    callback : callable, optional
        Per-epoch progress while training.
    retrain : bool
        Train again even if cached (replaces the checkpoint).
    cache_only : bool
        Never train: raise ``FileNotFoundError`` when the model is not cached.
    watch : callable, optional
        Called with the training's :class:`~core.learning.MomentRecorder` before it trains (not for a
        cached model, nor for PCA): its ``moments()`` are the moments kept so far, for a page that shows
        the model forming while it trains.

    Returns
    -------
    Trained
        ``reducer``, its ``record`` and ``cached`` (True when loaded from the store).

    Under torchrun with several processes (``core/models/distributed.py``) every rank calls this and
    trains, but the cache is rank 0's: it alone looks up, takes the lock, evaluates and saves;
    the other ranks get its answers and the same record (their ``reducer`` is None when cached).
    """
    from contextlib import nullcontext

    from core.metrics import mean_image_mse, reconstruction_metrics
    from core.models import distributed
    from core.models.methods import build_reducer

    store = store or CheckpointStore()
    train = canonical_train_config(model, train or TrainConfig())
    folder = store.folder_for(dataset.config, model, train)
    # DDP: from_rank0(f) is f() for one process; under torchrun rank 0 runs f and every rank gets its result
    main = distributed.is_main()
    if not retrain:  # the fast path: a cached model needs no lock
        record = distributed.from_rank0(lambda: store.find(dataset.config, model, train))
        if record is not None:
            _check_image_shape(record, dataset, folder)
            return Trained(store.load(folder) if main else None, record, True)
    if cache_only:
        raise FileNotFoundError(f"{model.family} d={model.latent_dim} is not trained for {dataset.name} yet")
    check_fits(model, dataset.image_shape)
    distributed.from_rank0(store._writable_or_raise)
    # rank 0 keeps the learning moments (a callback the loop shows the model to: core.learning)
    recorder = None
    if main and get_method(model.family).capabilities.learned and len(dataset.test):
        from core.learning import MomentRecorder

        recorder = MomentRecorder.for_dataset(dataset, progress=callback)
        if watch is not None:
            watch(recorder)
    # DDP: only rank 0 locks; the others train alongside it meanwhile, so they must not wait for the lock
    with store.lock(folder.name) if main else nullcontext():
        if not retrain:  # another process may have trained it while this one waited for the lock
            record = distributed.from_rank0(lambda: store.find(dataset.config, model, train))
            if record is not None:
                _check_image_shape(record, dataset, folder)
                return Trained(store.load(folder) if main else None, record, True)
        reducer = build_reducer(model, train, callback if recorder is None else recorder).fit(dataset.train.images)

        def evaluate_and_save() -> ModelRecord:  # DDP: rank 0 alone evaluates on the test split and writes
            from core.store.derived import precompute_model

            reconstructions = reducer.reconstruct(dataset.test.images)
            metrics = reconstruction_metrics(dataset.test.images, reconstructions)
            metrics["mean_image_mse"] = mean_image_mse(dataset.train.images, dataset.test.images)
            # the pages' first questions about the new model, answered while it is in memory
            return store.save(folder, reducer, dataset.config, metrics, dataset.skipped_files,
                              derive=lambda derived: precompute_model(derived, reducer, dataset, reconstructions),
                              moments=recorder.moments() if recorder is not None and len(recorder) else None)

        record = distributed.from_rank0(evaluate_and_save)
    return Trained(reducer, record, False)


def check_fits(model: ModelConfig, image_shape: tuple[int, int, int]) -> None:
    """A code as long as the image has pixels compresses nothing; refuse it before training."""
    pixels = int(image_shape[0] * image_shape[1] * image_shape[2])
    if model.latent_dim > pixels:
        raise ConfigError(f"latent size {model.latent_dim} is more than the {pixels} numbers an image of shape "
                          f"{tuple(image_shape)} has: choose a latent size between 1 and {pixels}")
