"""Rate-distortion: bits per image against quality, for PCA and autoencoder codes quantised to b bits
per coordinate, and for JPEG (Pillow) at a range of quality settings, on the same test images.

What is counted
---------------
* Codes (PCA, autoencoders): ``bits_per_image`` is the raw size ``latent_dim * b``.
  ``entropy_bits_per_image`` is the sum over coordinates of the empirical entropy of that
  coordinate's quantised symbols on the evaluated test images (np.unique counts): what an ideal
  per-coordinate entropy coder would pay, ignoring dependence between coordinates and the cost of
  sending its probability table. The quantiser's range comes from the TRAINING codes (min..max per
  coordinate; test codes beyond it are clipped). The decoder (network weights, PCA basis) is not
  counted, as it is shared, like a JPEG decoder.
* JPEG: ``bits_per_image`` is 8 x the whole file Pillow writes (baseline JPEG, standard tables, no
  optimisation), HEADER INCLUDED: markers, quantisation and Huffman tables, 330 bytes for a grey
  image and 625 for a colour one (two sets of tables), which dominates for tiny images. ``entropy_bits_per_image`` is 8 x the entropy-coded
  scan data alone (header and end marker excluded): the fair analogue of the codes' entropy, since
  a system sending many images would send the tables once. Originals are rounded to 8 bits before
  encoding, as any JPEG file must be; quality is measured against the float originals.

Colour
------
Colour images (C = 3) are written as colour JPEG: Pillow converts RGB to YCbCr and keeps the two chroma
planes at half resolution in both directions (4:2:0, :data:`JPEG_SUBSAMPLING`), what cameras and Pillow
itself do by default, set explicitly here so a Pillow default cannot change the numbers. Quality is PSNR
and SSIM over all 3*H*W values (:mod:`core.metrics`), the same as for the codes; a code's bits do not
depend on the channels (d numbers of b bits), while the raw image costs 8*C*H*W bits.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.analysis._common import mean_quality, subset_index

if TYPE_CHECKING:
    from core.data.datasets import Dataset
    from core.models.reducers import Reducer

RD_COLUMNS = ["method", "setting", "bits_per_image", "entropy_bits_per_image", "psnr", "ssim"]
DEFAULT_BITS = (1, 2, 3, 4, 5, 6, 8)
DEFAULT_JPEG_QUALITIES = (5, 10, 20, 30, 50, 70, 90)
RANGE_IMAGES = 5000  # training images encoded to set the quantiser's range
JPEG_SUBSAMPLING = "4:2:0"  # colour JPEG's chroma at half width and height: Pillow's and cameras' default


def code_setting(bits: int) -> str:
    """A code's setting as the table names it: '4 bit' (bits per number)."""
    return f"{int(bits)} bit"


def jpeg_setting(quality: int) -> str:
    """A JPEG setting as the table names it: 'q50' (Pillow's quality)."""
    return f"q{int(quality)}"


def setting_level(setting: str) -> int:
    """The number in a setting of :func:`code_setting` or :func:`jpeg_setting` (bits or quality)."""
    return int(setting.removesuffix(" bit").removeprefix("q"))


def quantize_codes(codes: np.ndarray, bits: int, low, high) -> tuple[np.ndarray, np.ndarray]:
    """Uniform scalar quantiser with ``2**bits`` cells per coordinate on [low, high].

    Parameters
    ----------
    codes : np.ndarray, shape (n, d)
    bits : int
        Bits per coordinate (1..24).
    low, high : array, shape (d,) (or scalars)
        The range of each coordinate, from the TRAINING codes; values outside are clipped.

    Returns
    -------
    dequantised : np.ndarray, shape (n, d), float32
        Each code replaced by the centre of its cell.
    symbols : np.ndarray, shape (n, d), int64 in [0, 2**bits)
        The cell indices (what would be stored).
    """
    if not 1 <= int(bits) <= 24:
        raise ValueError(f"bits per coordinate must be between 1 and 24; got {bits}")
    codes = np.asarray(codes, np.float64)
    low = np.asarray(low, np.float64)
    high = np.asarray(high, np.float64)
    levels = 2 ** int(bits)
    width = np.maximum(high - low, 1e-12) / levels
    symbols = np.clip(np.floor((codes - low) / width), 0, levels - 1).astype(np.int64)
    return (low + (symbols + 0.5) * width).astype(np.float32), symbols


def symbol_entropy_bits(symbols: np.ndarray) -> float:
    """Sum over columns of the empirical entropy (bits) of each column's symbols. (n, d) -> float."""
    symbols = np.asarray(symbols).reshape(len(symbols), -1)
    total = 0.0
    for column in symbols.T:
        _, counts = np.unique(column, return_counts=True)
        p = counts / counts.sum()
        total += float(-(p * np.log2(p)).sum())
    return total


def _jpeg_scan_bytes(data: bytes) -> int:
    """Bytes of entropy-coded scan data in a baseline JPEG file (after the SOS header, before EOI)."""
    pos = data.find(b"\xff\xda")
    if pos < 0:
        return len(data)
    header_end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return max(0, len(data) - header_end - 2)


def jpeg_roundtrip(images: np.ndarray, quality: int, with_scan_bytes: bool = False, subsampling: str = JPEG_SUBSAMPLING):
    """Encode each image as a JPEG file with Pillow and decode it again.

    Parameters
    ----------
    images : np.ndarray, shape (n, C, H, W), in [0, 1]; C is 1 (a grey JPEG) or 3 (a colour JPEG)
    quality : int
        Pillow's JPEG quality, 1..95.
    with_scan_bytes : bool
        Also return the scan-data bytes per image (file minus header and end marker).
    subsampling : {'4:2:0', '4:2:2', '4:4:4'}
        Chroma subsampling of colour images (ignored for grey ones); see the module docstring.

    Returns
    -------
    decoded : np.ndarray, shape (n, C, H, W), float32 in [0, 1]
    file_bytes : np.ndarray, shape (n,), int64
        Size of each whole file, header included.
    scan_bytes : np.ndarray, shape (n,), int64
        Only with ``with_scan_bytes``.
    """
    from PIL import Image

    if not 1 <= int(quality) <= 95:
        raise ValueError(f"JPEG quality must be between 1 and 95; got {quality}")
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (n, 1 or 3, H, W); got {images.shape}")
    pixels = np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)
    decoded = np.empty_like(images)
    sizes, scans = np.empty(len(images), np.int64), np.empty(len(images), np.int64)
    for i, image in enumerate(pixels):
        picture = Image.fromarray(image[0]) if image.shape[0] == 1 else Image.fromarray(image.transpose(1, 2, 0))
        buffer = io.BytesIO()
        options = {"subsampling": subsampling} if image.shape[0] == 3 else {}  # grey JPEG has no chroma
        picture.save(buffer, format="JPEG", quality=int(quality), **options)
        data = buffer.getvalue()
        sizes[i], scans[i] = len(data), _jpeg_scan_bytes(data)
        with Image.open(io.BytesIO(data)) as back:
            array = np.asarray(back, np.float32) / 255.0
        decoded[i] = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return (decoded, sizes, scans) if with_scan_bytes else (decoded, sizes)


def _code_ranges(reducer: Reducer, train_images: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    codes = reducer.encode(train_images[subset_index(len(train_images), RANGE_IMAGES, seed)])
    return codes.min(axis=0), codes.max(axis=0)


def code_rd_rows(name: str, reducer: Reducer, images: np.ndarray, train_images: np.ndarray, bits, seed: int = 0) -> list[dict]:
    """Rate-distortion rows of one reducer: one per bit depth, plus the unquantised code
    ('float32', 32 bits per number) for reference."""
    low, high = _code_ranges(reducer, train_images, seed)
    codes = reducer.encode(images)
    d = codes.shape[1]
    psnr, ssim = mean_quality(images, reducer.decode(codes))
    rows = [{"method": name, "setting": "float32", "bits_per_image": 32.0 * d,
             "entropy_bits_per_image": float("nan"), "psnr": psnr, "ssim": ssim}]
    for b in bits:
        dequantised, symbols = quantize_codes(codes, b, low, high)
        psnr, ssim = mean_quality(images, reducer.decode(dequantised))
        rows.append({"method": name, "setting": code_setting(b), "bits_per_image": float(b * d),
                     "entropy_bits_per_image": symbol_entropy_bits(symbols), "psnr": psnr, "ssim": ssim})
    return rows


def jpeg_rd_rows(images: np.ndarray, qualities) -> list[dict]:
    """Rate-distortion rows of JPEG, one per quality (see the module docstring for what is counted)."""
    rows = []
    for q in qualities:
        decoded, sizes, scans = jpeg_roundtrip(images, q, with_scan_bytes=True)
        psnr, ssim = mean_quality(images, decoded)
        rows.append({"method": "JPEG", "setting": jpeg_setting(q), "bits_per_image": 8.0 * float(sizes.mean()),
                     "entropy_bits_per_image": 8.0 * float(scans.mean()), "psnr": psnr, "ssim": ssim})
    return rows


def rate_distortion_table(dataset: Dataset, reducers: dict[str, Reducer], bits=DEFAULT_BITS, jpeg_qualities=DEFAULT_JPEG_QUALITIES,
                          n_images: int | None = 300, seed: int = 0) -> pd.DataFrame:
    """Bits per image against PSNR/SSIM for quantised codes and for JPEG, on the same test images.

    Parameters
    ----------
    dataset : core.data.datasets.Dataset
    reducers : dict of str -> fitted Reducer
        E.g. ``{"PCA": pca8, "conv": conv8}``; keys name the rows.
    bits : iterable of int
        Bits per code coordinate.
    jpeg_qualities : iterable of int
        Pillow JPEG qualities (1..95).
    n_images : int or None
        Seeded subsample of the test split (None: all).
    seed : int

    Returns
    -------
    pd.DataFrame
        Columns ``method``, ``setting`` ('4 bit', 'float32', 'q50'), ``bits_per_image`` (codes: raw
        d*b; JPEG: whole file, header included), ``entropy_bits_per_image`` (codes: empirical entropy
        of the symbols; JPEG: scan data only, header excluded), ``psnr`` (mean dB), ``ssim`` (mean).
        See the module docstring for exactly what is counted.
    """
    images = dataset.test.images[subset_index(len(dataset.test), n_images, seed)]
    rows = []
    for name, reducer in reducers.items():
        rows += code_rd_rows(name, reducer, images, dataset.train.images, bits, seed)
    rows += jpeg_rd_rows(images, jpeg_qualities)
    return rd_frame(rows)


def rd_frame(rows: list[dict]) -> pd.DataFrame:
    """The rate-distortion table from rows of :func:`code_rd_rows` and :func:`jpeg_rd_rows`."""
    return pd.DataFrame(rows, columns=RD_COLUMNS)


COUNTS = ("bits_per_image", "entropy_bits_per_image")  # the two ways the page counts bits


def rd_view(table: pd.DataFrame, count: str = "bits_per_image") -> pd.DataFrame:
    """The rows the Compression page draws, with ``bits_per_image`` counted as ``count``.

    Parameters
    ----------
    table : pd.DataFrame
        A :func:`rate_distortion_table` (or :func:`rd_frame`).
    count : {'bits_per_image', 'entropy_bits_per_image'}
        Stored size (codes d*b, the whole JPEG file) or ideal entropy coding (JPEG's scan data).

    Returns
    -------
    pd.DataFrame
        The quantised rows (no 'float32' reference, no row without a count), ``bits_per_image``
        replaced by the ``count`` column; the chart, the pictures and their notes all read this.
    """
    if count not in COUNTS:
        raise ValueError(f"count bits as one of {COUNTS}; got {count!r}")
    view = table[table["setting"] != "float32"].copy()
    view["bits_per_image"] = view[count]
    return view.dropna(subset=["bits_per_image"]).reset_index(drop=True)


def choose_at_budget(view: pd.DataFrame, budget_bits: float) -> pd.DataFrame:
    """Each method's row of :func:`rd_view` at a bit budget: the setting with the most bits within
    the budget, or (none fits) the one with the fewest bits, marked ``over_budget``.

    Returns
    -------
    pd.DataFrame
        One row per method, in the table's order: its columns plus ``over_budget`` (bool).
    """
    chosen = []
    for _, rows in view.groupby("method", sort=False):
        fits = rows[rows["bits_per_image"] <= budget_bits]
        row = fits.loc[fits["bits_per_image"].idxmax()] if len(fits) else rows.loc[rows["bits_per_image"].idxmin()]
        chosen.append({**row.to_dict(), "over_budget": not len(fits)})
    return pd.DataFrame(chosen, columns=[*view.columns, "over_budget"])


def raw_bits(images: np.ndarray) -> dict:
    """What one image costs before compression.

    Parameters
    ----------
    images : np.ndarray, shape (n, C, H, W), in [0, 1]
        Enough images to see every grey level the data use (e.g. a few thousand training images).

    Returns
    -------
    dict
        ``values`` (C*H*W numbers an image), ``stored_bits`` (8 bits a value: how an 8-bit image file
        or array stores it), ``levels`` (distinct 8-bit values the images use: 17 for the 8x8 digits)
        and ``fixed_bits`` (values * log2(levels): the fewest bits any fixed-length code needs, as it
        must tell levels**values images apart).
    """
    images = np.asarray(images, np.float32)
    values = int(np.prod(images.shape[1:]))
    # as 8-bit numbers: what a file stores, and free of float round-off between equal levels
    levels = len(np.unique(np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)))
    return {"values": values, "stored_bits": 8 * values, "levels": levels,
            "fixed_bits": values * math.log2(levels) if levels > 1 else 0.0}


def decode_at_settings(dataset: Dataset, reducers: Mapping[str, Reducer], settings: Mapping[str, str], index,
                       seed: int = 0) -> dict[str, np.ndarray]:
    """Test images as each method delivers them at one setting of the rate-distortion table.

    Parameters
    ----------
    dataset : core.data.datasets.Dataset
    reducers : mapping of str -> fitted Reducer
    settings : mapping of str -> str
        Method name (a key of ``reducers``, or 'JPEG') -> setting ('4 bit', 'q50'), e.g. the
        ``setting`` column of :func:`choose_at_budget`.
    index : array of int
        Rows of ``dataset.test``.
    seed : int
        Seed of the training subsample that sets each code's range, as :func:`code_rd_rows` uses.

    Returns
    -------
    dict of str -> np.ndarray (n, C, H, W)
        ``"original"`` and one entry per method in ``settings``.
    """
    images = dataset.test.images[np.asarray(index)]
    out = {"original": images}
    for name, setting in settings.items():
        level = setting_level(setting)
        if name in reducers:
            reducer = reducers[name]
            low, high = _code_ranges(reducer, dataset.train.images, seed)
            out[name] = reducer.decode(quantize_codes(reducer.encode(images), level, low, high)[0])
        else:
            out[name] = jpeg_roundtrip(images, level)[0]
    return out


__all__ = ["RD_COLUMNS", "JPEG_SUBSAMPLING", "quantize_codes", "symbol_entropy_bits", "jpeg_roundtrip", "rate_distortion_table",
           "code_rd_rows", "jpeg_rd_rows", "rd_frame", "rd_view", "choose_at_budget", "raw_bits",
           "decode_at_settings", "code_setting", "jpeg_setting", "setting_level"]
