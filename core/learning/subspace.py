"""Principal angles between two subspaces: how far the linear autoencoder's decoder is from PCA.

A linear autoencoder trained on squared error reaches PCA's top-d principal subspace, but not PCA's
components: any basis of that subspace is as good (Baldi & Hornik, 1989). So the decoder is compared
with PCA by the principal angles between the spans, which ignore the basis: all zero when the spans
agree, 90 degrees along a direction one has and the other lacks entirely.
"""

from __future__ import annotations

import numpy as np


def principal_angles_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Principal angles between the column spaces of ``a`` and ``b``, in degrees, smallest first.

    SciPy's :func:`scipy.linalg.subspace_angles` (orthonormal bases by SVD, then the cosines and the
    sines of the angles: accurate for small angles too, where arccos of a cosine near 1 is not).

    Parameters
    ----------
    a : np.ndarray, shape (P, d)
        Columns spanning one subspace (e.g. the decoder's weight, pixels x latent_dim).
    b : np.ndarray, shape (P, k)
        Columns spanning the other (e.g. PCA's top-k components, transposed).

    Returns
    -------
    np.ndarray of float64, shape (min(d, k),)
        Ascending, each in [0, 90]. A basis that has lost rank spans fewer directions than it has
        columns: the missing ones count as 90 degrees (as far as a direction can be).
    """
    from scipy.linalg import subspace_angles

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"principal angles need two (P, d) bases of the same P; got {a.shape} and {b.shape}")
    angles = np.sort(np.degrees(subspace_angles(a, b)))
    wanted = min(a.shape[1], b.shape[1])
    return np.concatenate([angles, np.full(wanted - len(angles), 90.0)])[:wanted]
