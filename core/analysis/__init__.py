"""Comparisons the dashboard pages draw, as plain arrays and pandas DataFrames (no Streamlit).

Each function takes reducers (PCA or autoencoders, see :mod:`core.models.reducers`) and a
:class:`core.data.datasets.Dataset`; ``python -m core analyze ...`` runs them from the command line.

* :mod:`~core.analysis.error_curve`: error against latent size, PCA's explained variance, each
  model beside PCA at its size.
* :mod:`~core.analysis.embedding`: 2-D maps of the test split, their k-NN / trustworthiness scores,
  the clickable grid and decoding of the pixel-PCA map, the coordinates table.
* :mod:`~core.analysis.embedding3d`: 3-D maps (PCA-3 of codes and of pixels) and UMAP maps (optional
  ``umap-learn``).
* :mod:`~core.analysis.latent`: latent ranges and directions, decoding, interpolation, grids, prior
  samples, and what the playground's sliders mean (the code, PCA's matching move, the range warning).
* :mod:`~core.analysis.denoise`: the denoising table and example pictures.
* :mod:`~core.analysis.compression`: rate-distortion of quantised codes against JPEG.
"""

from core.analysis._common import mean_quality, subset_index
from core.analysis.compression import (
                                       choose_at_budget,
                                       decode_at_settings,
                                       jpeg_roundtrip,
                                       quantize_codes,
                                       rate_distortion_table,
                                       symbol_entropy_bits,
)
from core.analysis.denoise import denoise_examples, denoising_table
from core.analysis.embedding import (
                                       Embedding,
                                       coordinates_table,
                                       decode_pixel_map,
                                       embed,
                                       embedding_scores,
                                       embedding_table,
                                       encode_rows,
                                       knn_accuracy,
                                       map_grid,
                                       pixel_pca_embedding,
                                       silhouette,
                                       trustworthiness_score,
)
from core.analysis.embedding3d import embed3d, embed_nd, pixel_pca_embedding3d, project_nd, umap_available
from core.analysis.error_curve import error_vs_latent, explained_variance, pca_sizes_to_show, versus_pca
from core.analysis.explore import (
                                       Analogy,
                                       Traversal,
                                       UnitMoves,
                                       Walk,
                                       analogy,
                                       attribute_walk,
                                       baseline_for,
                                       centred_on_grey,
                                       class_means,
                                       eigen_images,
                                       nearest_neighbours,
                                       neighbours_of,
                                       traversal_grid,
                                       unit_moves,
)
from core.analysis.latent import (
                                       LatentStats,
                                       code_along_directions,
                                       decode_code,
                                       far_outside_range,
                                       interpolate,
                                       interpolate_codes,
                                       latent_grid,
                                       latent_stats,
                                       latent_stats_from_codes,
                                       matching_move,
                                       outside_range,
                                       plane_through,
                                       range_excess,
                                       sample_prior,
                                       slider_maps,
                                       slider_specs,
                                       slider_values_to_code,
)

__all__ = [
    "error_vs_latent", "explained_variance", "pca_sizes_to_show", "versus_pca",
    "Embedding", "embed", "encode_rows", "pixel_pca_embedding", "embedding_scores", "embedding_table", "knn_accuracy",
    "trustworthiness_score", "silhouette", "map_grid", "decode_pixel_map", "coordinates_table",
    "LatentStats", "latent_stats", "latent_stats_from_codes", "code_along_directions", "decode_code",
    "outside_range", "far_outside_range", "range_excess", "interpolate", "interpolate_codes", "latent_grid",
    "sample_prior", "slider_values_to_code", "matching_move", "slider_maps", "slider_specs", "plane_through",
    "denoising_table", "denoise_examples",
    "rate_distortion_table", "quantize_codes", "symbol_entropy_bits", "jpeg_roundtrip", "choose_at_budget", "decode_at_settings",
    "subset_index", "mean_quality",
    "nearest_neighbours", "neighbours_of", "baseline_for", "class_means", "Walk", "attribute_walk", "Analogy", "analogy",
    "Traversal", "traversal_grid", "eigen_images", "UnitMoves", "unit_moves", "centred_on_grey",
    "embed3d", "embed_nd", "pixel_pca_embedding3d", "project_nd", "umap_available",
]
