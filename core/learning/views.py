"""One 2-D view per moment that does not jump between moments.

A code of at most 2 numbers is its own map (a 1-D code on the x axis). A longer code is projected
by **one** PCA, fitted on the final moment's codes of the sample and applied to every moment. Why
one fixed frame rather than a PCA per moment aligned by Procrustes: with a fixed frame every motion
on screen is the model's, none is the projection's; per-moment fits would rotate and reflect with
each refit (PCA's axes are defined only up to sign and order, and swap when two variances cross),
and Procrustes would hide part of the model's own rotation while aligning them. The final frame is
the one the finished model's map is drawn in, so the last moment looks like the Latent map (which
fits its PCA on the training codes: close, not identical). Early moments may look small or
squashed in it: that is what they are, seen from where the model ends.
"""

from __future__ import annotations

import numpy as np

CODE_VIEW, FINAL_PCA_VIEW = "code", "pca of the final codes"


def stable_views(codes: np.ndarray) -> tuple[np.ndarray, str]:
    """The 2-D view of every moment's codes in one frame.

    Parameters
    ----------
    codes : np.ndarray, shape (M, S, d)
        Codes of the same S images at M moments, the last moment last.

    Returns
    -------
    views : np.ndarray of float32, shape (M, S, 2)
    how : str
        :data:`CODE_VIEW` (d <= 2) or :data:`FINAL_PCA_VIEW` (d > 2).
    """
    codes = np.asarray(codes, np.float32)
    moments, points, dim = codes.shape
    if dim <= 2:
        views = codes if dim == 2 else np.concatenate([codes, np.zeros((moments, points, 1), np.float32)], axis=2)
        return np.ascontiguousarray(views), CODE_VIEW
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=0).fit(codes[-1])
    flat = pca.transform(codes.reshape(moments * points, dim))
    return flat.astype(np.float32).reshape(moments, points, 2), FINAL_PCA_VIEW
