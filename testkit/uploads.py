"""Generated uploads for the upload path's fuzz test and bench part ``fuzz``: bad files of every kind
(random bytes, truncated and byte-flipped PNG/JPEG/GIF/TIFF/WebP/BMP, 1x1 images, 20000x20000 headers,
16-bit, CMYK, palette, animated) and valid odd ones, plus ``check`` that runs one through
``core.data.datasets.image_from_upload`` and says whether it ended well."""

from __future__ import annotations

import io
import re
import struct
import zlib

import numpy as np

#: an UploadError message must tell the user what to do: one of these verbs
ACTION = re.compile(r"\b(upload|use|save|scale)\b", re.I)
IMAGE_SHAPES = ((1, 28, 28), (3, 32, 32), (1, 8, 8))


def _save(img, fmt: str, **kw) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int, depth: int = 8, color: int = 0) -> bytes:
    """A PNG that declares ``width x height`` pixels and holds almost no data (a bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _chunk(b"IEND", b""))


def gif_header(width: int, height: int) -> bytes:
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
            + b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00\x3b")


def jpeg_header(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x00" * 32 + b"\xff\xd9"


def bmp_header(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 54) + info + b"\0" * 16


def tiff_header(width: int, height: int) -> bytes:
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8 + 2 + 12 * 7 + 4), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\0" * 16


def webp_header(width: int, height: int) -> bytes:
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def valid_odd_uploads() -> list[tuple[str, str, bytes]]:
    """Unusual but valid files: each must come back as an image. (label, file name, bytes)."""
    from PIL import Image

    rng = np.random.default_rng(7)
    ramp16 = Image.fromarray(np.linspace(0, 65535, 40 * 30).reshape(30, 40).astype(np.uint16))
    rgb = Image.fromarray(rng.integers(0, 256, (24, 20, 3), dtype=np.uint8), "RGB")
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[5:15, 5:15] = (0, 0, 0, 255)
    frames = [Image.new("L", (16, 16), v) for v in (0, 255, 128)]
    palette_t = rgb.convert("P")
    palette_t.info["transparency"] = 0
    cases = [
        ("16-bit PNG", "ramp16.png", _save(ramp16, "PNG")),
        ("16-bit TIFF", "ramp16.tif", _save(ramp16, "TIFF")),
        ("CMYK JPEG", "cmyk.jpg", _save(rgb.convert("CMYK"), "JPEG")),
        ("CMYK TIFF", "cmyk.tiff", _save(rgb.convert("CMYK"), "TIFF")),
        ("palette PNG", "palette.png", _save(rgb.convert("P"), "PNG")),
        ("palette PNG, transparent", "palette_t.png", _save(palette_t, "PNG")),
        ("palette GIF", "palette.gif", _save(rgb.convert("P"), "GIF")),
        ("RGBA PNG", "rgba.png", _save(Image.fromarray(rgba, "RGBA"), "PNG")),
        ("LA PNG", "la.png", _save(Image.fromarray(rgba, "RGBA").convert("LA"), "PNG")),
        ("1-bit PNG", "bits.png", _save(rgb.convert("1"), "PNG")),
        ("animated GIF", "anim.gif", _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)),
        ("animated WebP", "anim.webp", _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=50)),
        ("WebP", "plain.webp", _save(rgb, "WEBP")),
        ("BMP", "plain.bmp", _save(rgb, "BMP")),
        ("4x4 PNG", "tiny.png", _save(Image.new("L", (4, 4), 200), "PNG")),
        ("8000x1 side limit", "strip.png", _save(Image.new("L", (8000, 4), 10), "PNG")),
        ("JPEG as .png", "misnamed.png", _save(rgb, "JPEG")),
    ]
    return cases


def _seeds() -> dict[str, bytes]:
    """Small valid files of every format: the material that is cut and flipped."""
    from PIL import Image

    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8), "RGB")
    frames = [Image.new("L", (16, 16), v) for v in (0, 255, 128)]
    return {
        "png": _save(rgb, "PNG"),
        "jpg": _save(rgb, "JPEG", quality=80),
        "gif": _save(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "tif": _save(rgb, "TIFF", compression="tiff_deflate"),
        "webp": _save(rgb, "WEBP"),
        "bmp": _save(rgb, "BMP"),
        "png16": _save(Image.fromarray(np.arange(24 * 24, dtype=np.uint16).reshape(24, 24) * 100), "PNG"),
        "cmyk.jpg": _save(rgb.convert("CMYK"), "JPEG"),
        "p.png": _save(rgb.convert("P"), "PNG"),
        "anim.webp": _save(frames[0], "WEBP", save_all=True, append_images=frames[1:]),
    }


def bad_uploads(count: int = 600, seed: int = 0) -> list[tuple[str, str, bytes]]:
    """``count`` generated bad uploads, (category, file name, bytes), the same for the same seed."""
    from PIL import Image

    from core.data.datasets import MAX_UPLOAD_BYTES

    rng = np.random.default_rng(seed)
    seeds = _seeds()
    suffix = {"png16": "png", "cmyk.jpg": "jpg", "p.png": "png", "anim.webp": "webp"}
    headers = [png_header, gif_header, jpeg_header, bmp_header, tiff_header, webp_header]
    header_suffix = ["png", "gif", "jpg", "bmp", "tif", "webp"]
    fixed = [
        ("empty", "empty.png", b""),
        ("1x1", "one.png", _save(Image.new("L", (1, 1), 255), "PNG")),
        ("1x1", "one.gif", _save(Image.new("L", (1, 1), 0), "GIF")),
        ("1x1", "one.jpg", _save(Image.new("RGB", (1, 1)), "JPEG")),
        ("1x1", "two_by_three.webp", _save(Image.new("RGB", (2, 3)), "WEBP")),
        ("wrong type", "image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ("wrong type", "no_suffix", seeds["png"]),
        ("wrong type", "photo.PNG.exe", seeds["png"]),
        ("over byte cap", "huge.png", seeds["png"] + b"\0" * MAX_UPLOAD_BYTES),
        ("text as image", "notes.png", b"these are my notes, not a picture\n" * 20),
        ("html as image", "page.jpg", b"<!doctype html><html><body>hello</body></html>"),
        ("eps as image", "vector.png", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"),
    ]
    fixed += [("bomb header", f"bomb_{w}x{h}.{ext}", make(w, h))
              for make, ext in zip(headers, header_suffix) for w, h in ((20000, 20000), (8001, 8), (65535, 65535))
              if not (make is webp_header and w > 16384)]
    fixed += [("bomb header", "bomb_16384x16384.webp", webp_header(16384, 16384)),
              ("bomb header", "bomb16_20000x20000.png", png_header(20000, 20000, 16, 0)),
              ("bad PNG header fields", "depth.png", png_header(20, 20, 7, 0)),
              ("bad PNG header fields", "color.png", png_header(20, 20, 8, 5)),
              ("zero-size header", "zero.png", png_header(0, 0))]
    cases = list(fixed)
    kinds = ["random bytes", "truncated", "flipped bytes", "zeroed span", "header + junk"]
    while len(cases) < count:
        kind = kinds[len(cases) % len(kinds)]
        name = str(rng.choice(list(seeds)))
        data = seeds[name]
        ext = suffix.get(name, name)
        if kind == "random bytes":
            blob = rng.integers(0, 256, int(rng.integers(1, 4000)), dtype=np.uint8).tobytes()
            if rng.random() < 0.5:  # a real signature in front of random bytes
                blob = data[: int(rng.integers(2, 16))] + blob
            cases.append((kind, f"random.{ext}", blob))
        elif kind == "truncated":
            cases.append((kind, f"cut_{name}.{ext}", data[: int(rng.integers(1, len(data)))]))
        elif kind == "flipped bytes":
            array = np.frombuffer(data, np.uint8).copy()
            at = rng.integers(0, len(array), int(rng.integers(1, 12)))
            array[at] = rng.integers(0, 256, len(at), dtype=np.uint8)
            cases.append((kind, f"flipped_{name}.{ext}", array.tobytes()))
        elif kind == "zeroed span":
            start = int(rng.integers(0, len(data)))
            span = int(rng.integers(1, 64))
            cases.append((kind, f"zeroed_{name}.{ext}", data[:start] + b"\0" * span + data[start + span:]))
        else:
            head = int(rng.integers(8, 64))
            junk = rng.integers(0, 256, int(rng.integers(1, 2000)), dtype=np.uint8).tobytes()
            cases.append((kind, f"junk_{name}.{ext}", data[:head] + junk))
    return cases[:count]


def check(data: bytes, name: str, shape=(1, 28, 28), reference_mean: float | None = 0.13) -> tuple[str, str]:
    """Run one upload; returns (outcome, detail): 'image', 'UploadError' or 'crash' (any other exception,
    an UploadError without what to do, or an image of the wrong shape or range)."""
    from core.data.datasets import image_from_upload
    from core.errors import UploadError

    try:
        image, note = image_from_upload(data, name, shape, "auto", reference_mean=reference_mean)
    except UploadError as exc:
        message = str(exc)
        if not message.strip() or not ACTION.search(message):
            return "crash", f"UploadError without what to do: {message!r}"
        return "UploadError", message
    except Exception as exc:  # noqa: BLE001 - what the fuzz is looking for
        return "crash", f"{type(exc).__name__}: {exc}"
    if (image.shape != (1, *shape) or image.dtype != np.float32 or not np.isfinite(image).all()
            or image.min() < 0 or image.max() > 1 or not note):
        return "crash", f"bad image {image.shape} {image.dtype} [{image.min()}, {image.max()}]"
    return "image", note
