"""The upload path (``core.data.datasets.image_from_upload``): caps, odd but valid files, and a seeded fuzz
subset of bad uploads: nothing but ``UploadError`` ever escapes, and every message says what to do.
The full set (600 uploads, outcome counts, time per upload) is ``python -m bench --part fuzz``."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from core.data.datasets import MAX_UPLOAD_BYTES, image_from_upload
from core.errors import UploadError
from testkit.uploads import (
    ACTION,
    bad_uploads,
    check,
    gif_header,
    jpeg_header,
    png_header,
    tiff_header,
    valid_odd_uploads,
    webp_header,
)

pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning", "ignore::UserWarning:PIL.*")


def _png(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def test_a_seeded_fuzz_subset_raises_only_upload_errors_that_say_what_to_do():
    cases = bad_uploads(600, seed=0)
    subset = cases[:40] + random.Random(1).sample(cases[40:], 80)  # every fixed case, 80 generated ones
    outcomes = [(category, name, *check(data, name)) for category, name, data in subset]
    crashes = [o for o in outcomes if o[2] == "crash"]
    assert not crashes, crashes[:5]
    errors = [o for o in outcomes if o[2] == "UploadError"]
    assert len(errors) > 0.6 * len(subset)
    fixed_refused = {name for category, name, outcome, _ in outcomes[:40] if outcome == "UploadError"}
    assert fixed_refused == {name for _, name, _ in cases[:40]}, "every hand-made bad case is refused"


@pytest.mark.parametrize("header", [png_header, gif_header, jpeg_header, tiff_header])
def test_a_20000x20000_header_is_refused_from_its_size_without_decoding(header):
    with pytest.raises(UploadError) as info:
        image_from_upload(header(20000, 20000), "bomb.png", (1, 28, 28))
    message = str(info.value)
    assert "pixels" in message and "not decoded" in message and "scale it down" in message


def test_a_webp_canvas_over_the_cap_and_a_long_strip_are_refused():
    for data in (webp_header(16000, 16000), png_header(9000, 10)):
        with pytest.raises(UploadError, match="the limit is 16 megapixels and 8000 pixels a side"):
            image_from_upload(data, "big.webp", (1, 28, 28))


def test_tighter_caps_for_classroom_mode():
    data = _png(Image.new("L", (100, 100), 10))
    with pytest.raises(UploadError, match="limit is 0.0"):
        image_from_upload(data, "a.png", (1, 28, 28), max_bytes=10)
    with pytest.raises(UploadError, match="100x100 pixels, over the limit"):
        image_from_upload(data, "a.png", (1, 28, 28), max_pixels=5000)
    with pytest.raises(UploadError, match="the limit is 5.2 MB"):  # a cap can only tighten the default
        image_from_upload(b"\0" * (MAX_UPLOAD_BYTES + 1), "a.png", (1, 28, 28), max_bytes=10**9)


@pytest.mark.parametrize("data, name, fragment", [
    (b"", "e.png", "empty (0 bytes): upload the image file again"),
    (b"GIF89a" + b"\x00" * 3, "cut.gif", "truncated or damaged"),
    (b"plain text", "x.png", "not an image file this app reads: save it again as PNG or JPEG"),
    (b"%!PS-Adobe-3.0 EPSF-3.0\n", "vector.png", "not an image file"),  # never handed to Ghostscript
    (b"\x89PNG\r\n\x1a\n", "x.svg", "this file type is not accepted; upload a PNG"),
])
def test_bad_uploads_have_messages_saying_what_to_do(data, name, fragment):
    with pytest.raises(UploadError) as info:
        image_from_upload(data, name, (1, 28, 28))
    assert fragment in str(info.value) and ACTION.search(str(info.value))


def test_one_pixel_images_get_a_clear_message():
    with pytest.raises(UploadError, match=r"only 1x1 pixels; use an image at least 4 pixels a side"):
        image_from_upload(_png(Image.new("L", (1, 1))), "dot.png", (1, 28, 28))


@pytest.mark.parametrize("label, name, data", valid_odd_uploads(), ids=[c[0] for c in valid_odd_uploads()])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 16, 12)])
def test_valid_odd_files_come_back_as_images_in_the_unit_range(label, name, data, shape):
    image, note = image_from_upload(data, name, shape, "no")
    assert image.shape == (1, *shape) and image.dtype == np.float32
    assert np.isfinite(image).all() and 0.0 <= image.min() and image.max() <= 1.0 and note


def test_16_bit_uploads_are_scaled_and_animations_use_their_first_frame():
    ramp = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    image, note = image_from_upload(_png(Image.fromarray(ramp)), "ramp.png", (1, 32, 32), "no")
    assert abs(image.mean() - 0.5) < 0.01 and "I;16" in note
    frames = [Image.new("L", (16, 16), v) for v in (255, 0, 128)]
    for fmt in ("GIF", "WEBP"):
        data = _png(frames[0], fmt, save_all=True, append_images=frames[1:], duration=40)
        image, note = image_from_upload(data, f"anim.{fmt.lower()}", (1, 8, 8), "no")
        assert image.min() > 0.98 and "first of 3 frames" in note


def test_cmyk_and_palette_uploads_keep_their_colours():
    red = Image.new("RGB", (20, 20), (255, 0, 0))
    for data, name in ((_png(red.convert("P")), "p.png"), (_png(red.convert("CMYK"), "TIFF"), "c.tiff")):
        image, _ = image_from_upload(data, name, (3, 8, 8), "no")
        np.testing.assert_allclose(image[0, :, 4, 4], [1, 0, 0], atol=0.02)


def test_auto_inverts_only_when_the_polarity_is_opposite_to_the_training_images():
    dark_on_light = _png(Image.new("L", (20, 20), 230))
    light_on_dark = _png(Image.new("L", (20, 20), 20))
    shape = (1, 8, 8)
    image, note = image_from_upload(dark_on_light, "a.png", shape, "auto", reference_mean=0.13)  # MNIST-like
    assert image.mean() < 0.2 and "inverted" in note and "light on dark" in note and "0.13" in note
    image, note = image_from_upload(dark_on_light, "a.png", shape, "auto", reference_mean=0.8)  # a light dataset
    assert image.mean() > 0.8 and "inverted" not in note
    image, note = image_from_upload(light_on_dark, "a.png", shape, "auto", reference_mean=0.8)
    assert image.mean() > 0.8 and "dark on light" in note
    image, note = image_from_upload(dark_on_light, "a.png", shape, "auto")  # nothing measured: no guess
    assert image.mean() > 0.8 and "inverted" not in note and "light on dark" not in note
    image, note = image_from_upload(light_on_dark, "a.png", shape, "yes", reference_mean=0.1)
    assert image.mean() > 0.8 and "as asked" in note
    image, _ = image_from_upload(dark_on_light, "a.png", shape, "no", reference_mean=0.1)
    assert image.mean() > 0.8
