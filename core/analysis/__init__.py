"""Comparisons the dashboard pages draw, as plain arrays and pandas DataFrames (no Streamlit).

Each function takes reducers (PCA or autoencoders, see :mod:`core.reducers`) and a
:class:`core.datasets.Dataset`; ``python -m core analyze ...`` runs them from the command line.

* :mod:`~core.analysis.error_curve`: error against latent size, PCA's explained variance.
* :mod:`~core.analysis.embedding`: 2-D maps of the test split and their k-NN / trustworthiness scores.
* :mod:`~core.analysis.latent`: latent ranges and directions, decoding, interpolation, grids, prior samples.
* :mod:`~core.analysis.denoise`: the denoising table and example pictures.
* :mod:`~core.analysis.compression`: rate-distortion of quantised codes against JPEG.
"""

from core.analysis._common import subset_index
from core.analysis.compression import (compressed_examples, jpeg_roundtrip, quantize_codes, rate_distortion_table,
                                       symbol_entropy_bits)
from core.analysis.denoise import denoise_examples, denoising_table
from core.analysis.embedding import (Embedding, embed, embedding_scores, embedding_table, knn_accuracy,
                                     pixel_pca_embedding, silhouette, trustworthiness_score)
from core.analysis.error_curve import error_vs_latent, explained_variance
from core.analysis.latent import (LatentStats, code_along_directions, decode_code, interpolate, interpolate_codes,
                                  latent_grid, latent_stats, latent_stats_from_codes, outside_range, range_excess,
                                  sample_prior)

__all__ = [
    "error_vs_latent", "explained_variance",
    "Embedding", "embed", "pixel_pca_embedding", "embedding_scores", "embedding_table", "knn_accuracy",
    "trustworthiness_score", "silhouette",
    "LatentStats", "latent_stats", "latent_stats_from_codes", "code_along_directions", "decode_code",
    "outside_range", "range_excess", "interpolate", "interpolate_codes", "latent_grid", "sample_prior",
    "denoising_table", "denoise_examples",
    "rate_distortion_table", "quantize_codes", "symbol_entropy_bits", "jpeg_roundtrip", "compressed_examples",
    "subset_index",
]
