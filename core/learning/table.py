"""One row per moment: the numbers behind "watch it learn" (``python -m core analyze learning``)."""

from __future__ import annotations

import numpy as np

from core.learning.moments import Moments

LEARNING_COLUMNS = ["method", "step", "epoch", "seconds", "sample_mse", "knn_accuracy",
                    "max_principal_angle_deg", "pca_sample_mse"]


def split_halves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(fit, score): a seeded split of ``range(n)`` into two sorted halves (the k-NN's two sides)."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


def moment_knn_accuracy(moments: Moments, seed: int = 0) -> np.ndarray:
    """(M,) the k-NN accuracy of each moment's 2-D view: the Latent map's scorer
    (:func:`core.analysis.embedding.knn_accuracy`, 5 neighbours), fitted on a seeded half of the
    sample and scored on the other half (the sample is all held-out images; the same halves at every
    moment, so the curve shows the map changing, not the draw)."""
    from core.analysis.embedding import knn_accuracy

    fit, score = split_halves(len(moments.sample_index), seed)
    labels = moments.sample_labels
    return np.array([knn_accuracy(view[fit], labels[fit], view[score], labels[score]) for view in moments.views_2d])


def learning_rows(moments: Moments, method: str, seed: int = 0) -> list[dict]:
    """The rows of :data:`LEARNING_COLUMNS` for one model's moments, in step order.

    Parameters
    ----------
    moments : Moments
    method : str
        How the model is named in the rows (``Reducer.method``, e.g. 'dense', 'linear').
    seed : int
        Seed of the k-NN's halves of the sample.

    Returns
    -------
    list of dict
        ``max_principal_angle_deg`` and ``pca_sample_mse`` are None for a family without a linear decoder.
    """
    knn = moment_knn_accuracy(moments, seed)
    angles = moments.max_angle_deg
    return [{"method": method, "step": int(moments.steps[i]), "epoch": round(float(moments.epochs[i]), 4),
             "seconds": round(float(moments.seconds[i]), 3), "sample_mse": round(float(moments.sample_mse[i]), 6),
             "knn_accuracy": round(float(knn[i]), 4),
             "max_principal_angle_deg": None if angles is None else round(float(angles[i]), 3),
             "pca_sample_mse": None if moments.pca_sample_mse is None else round(moments.pca_sample_mse, 6)}
            for i in range(len(moments))]
