"""Live decoding in the browser: sliders, a latent pad and an interpolation scrubber that decode on
every pointer / slider event in the page, with no server round trip per frame.

Each element is one Streamlit Components v2 element (``live.js`` + ``live.css`` beside this file). It
runs the model's decoder, exported to ONNX by :func:`core.runtime.export.decoder_onnx`, with onnxruntime-web
(single-threaded WebAssembly) that the Streamlit server itself serves from
``dashboard/static/vendor/onnxruntime-web`` (``server.enableStaticServing = true``): no CDN, no
request leaves the server's origin. Python hears from the element only on release / click, which
reruns the script once, as a widget would.

Every element maps its parameters ``p`` (k numbers: slider values, the pad's (u, v), the scrubber's t)
to a code the same way, ``code = origin + p @ directions``, for the main decoder and for an optional
second one shown beside it (e.g. PCA's matching move), described by :class:`Side`.

If the runtime cannot load (script blocked, no WebAssembly), the element shows a one-line note and
reports it: the result's ``ok`` is then ``False`` and the page should draw its server-side images.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from dashboard.presenter import LIVE_LIMIT, image_px  # larger on a projector

HERE = Path(__file__).resolve().parent
NAME = "latent_lab_live"
#: where the browser finds the runtime; None: next to Streamlit's own bundle, /app/static/vendor/...
RUNTIME_URL: str | None = None
#: st.session_state key: the ids of the models whose ONNX bytes this session's browser was sent
SENT_KEY = "_latent_lab_live_sent"


@functools.cache
def _component():
    """Register the element once per process (registering again per run would only warn)."""
    return st.components.v2.component(NAME, js=(HERE / "live.js").read_text(), css=(HERE / "live.css").read_text())


@functools.lru_cache(maxsize=32)
def _b64(model_id: str, model_onnx: bytes) -> str:
    return base64.b64encode(model_onnx).decode("ascii")


@dataclass(frozen=True)
class Side:
    """A second decoder drawn beside the main one, moved by the same parameters.

    Parameters
    ----------
    model_onnx : bytes
        Its decoder as ONNX (:func:`core.runtime.export.decoder_onnx`).
    model_id : str
        A stable id of that model (the browser keeps one session per id).
    origin : array_like, shape (d2,)
        Its code at parameters 0.
    directions : array_like, shape (k, d2)
        How each of the k parameters moves its code: ``code = origin + p @ directions``.
    label : str
        Caption under its image, e.g. ``'PCA d=2'``.
    """

    model_onnx: bytes
    model_id: str
    origin: np.ndarray
    directions: np.ndarray
    label: str = "PCA"


@dataclass(frozen=True)
class LiveResult:
    """What the browser reported.

    Attributes
    ----------
    code : np.ndarray of shape (d,) or None
        The main model's code at the last release / click; None before the first one.
    params : tuple of float or None
        The parameters at that moment (slider values, (u, v) on the pad, or (t,)).
    ok : bool
        False once the browser has reported that the runtime could not load (show the server path).
    """

    code: np.ndarray | None
    params: tuple[float, ...] | None
    ok: bool


def _floats(values, shape: tuple[int, ...] | None = None, name: str = "array") -> list:
    array = np.asarray(values, dtype=np.float64)
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array.tolist()


def _decoder_spec(model_id: str, origin, directions, shape: Sequence[int], label: str) -> dict:
    origin = np.asarray(origin, dtype=np.float64).reshape(-1)
    directions = np.atleast_2d(np.asarray(directions, dtype=np.float64))
    if directions.shape[1] != origin.size:
        raise ValueError(f"directions of shape {directions.shape} do not fit a code of size {origin.size}")
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise ValueError(f"image_shape must be (C, H, W) with C = 1 or 3, got {tuple(shape)}")
    return {"model_id": model_id, "origin": _floats(origin, name="origin"),
            "directions": _floats(directions, name="directions"), "shape": [int(s) for s in shape], "label": label}


def _previous(key: str) -> Mapping:
    state = st.session_state.get(key)
    return state if isinstance(state, Mapping) else {}


def _models(model_onnx: bytes, model_id: str, side: Side | None) -> dict[str, bytes]:
    """model id -> ONNX bytes of the main decoder and of the side one, if any."""
    return {model_id: model_onnx, **({side.model_id: side.model_onnx} if side else {})}


def _unsent(key: str, models: dict[str, bytes]) -> dict[str, str]:
    """model id -> base64 ONNX of the models this element (``key``) has not been sent yet.

    ``live.js`` keeps one decoder per model id for the life of the page, so an element's reruns (a
    slider release) send no decoder again (on digits the playground's release sent 445 KB of base64
    each time; bench part "visits"). Each element carries its own models the first time it is drawn:
    when elements waited for bytes another element of the same run carried, a page with several
    elements sharing a model (the live test app) could wait forever. A page reload is a new session: its
    memory starts empty. An element whose browser lacks a model it was not sent reports ``missing``
    ({ids, nonce}): those models are sent again, once per report.
    """
    state = st.session_state
    sent = state.setdefault(SENT_KEY, {}).setdefault(key, set())
    missing = _previous(key).get("missing")
    if isinstance(missing, Mapping) and missing.get("nonce") != state.get(f"{SENT_KEY}:{key}"):
        state[f"{SENT_KEY}:{key}"] = missing.get("nonce")
        sent.difference_update(missing.get("ids") or ())
    unsent = {model_id: _b64(model_id, blob) for model_id, blob in models.items() if model_id not in sent}
    sent.update(models)
    return unsent


def _with_runtime(key: str, data: dict, models: dict[str, bytes]) -> dict:
    """What every live element's data carries besides its own: its key, where the runtime is, whether
    the browser already reported it could not load, and the decoders it was not sent yet."""
    return {**data, "key": key, "runtime_url": RUNTIME_URL, "failure_reported": _previous(key).get("ok") is False,
            "models": _unsent(key, models)}


def _mount(key: str, data: dict, models: dict[str, bytes], height: int | str = "content") -> LiveResult:
    data = _with_runtime(key, data, models)
    result = _component()(key=key, data=data, default={"value": None, "ok": True}, height=height,
                          on_value_change=lambda: None, on_ok_change=lambda: None, on_missing_change=lambda: None)
    value = result.get("value") if hasattr(result, "get") else getattr(result, "value", None)
    ok = result.get("ok") if hasattr(result, "get") else getattr(result, "ok", True)
    if not isinstance(value, Mapping) or value.get("model_id") != data["main"]["model_id"]:
        return LiveResult(None, None, ok is not False)
    return LiveResult(np.asarray(value["code"], dtype=np.float32), tuple(float(p) for p in value["params"]),
                      ok is not False)


def _released_params(key: str, model_id: str, k: int) -> list[float] | None:
    """The parameters the browser last reported for this model (so a rerun keeps the slider where it was)."""
    value = _previous(key).get("value")
    if isinstance(value, Mapping) and value.get("model_id") == model_id and len(value.get("params") or []) == k:
        return [float(p) for p in value["params"]]
    return None


def live_decoder(key: str, model_onnx: bytes, model_id: str, image_shape: Sequence[int],
                 sliders: Sequence[tuple[str, float, float, float]], base_code=None, directions=None,
                 side: Side | None = None, ranges: tuple[Sequence[float], Sequence[float]] | None = None,
                 range_space: str = "code", label: str = "model", display_px: int = 200,
                 step: float | None = None) -> LiveResult:
    """Code sliders that redraw the decoded image on every input event, in the browser.

    Parameters
    ----------
    key : str
        Streamlit key of the element (unique on the page).
    model_onnx : bytes
        The model's decoder as ONNX (:func:`core.runtime.export.decoder_onnx`): codes (N, d) -> (N, C, H, W).
    model_id : str
        Stable id of the model; the browser creates one session per id and reuses it across reruns.
    image_shape : sequence of int
        (C, H, W) of the decoded images, C = 1 (grey) or 3 (colour).
    sliders : sequence of (label, low, high, value)
        One slider per parameter, k in all.
    base_code : array_like of shape (d,), optional
        The code at slider values 0 when ``directions`` is given (default zeros).
    directions : array_like of shape (k, d), optional
        Slider i moves the code along row i: ``code = base_code + values @ directions``. None: the
        sliders are the code's coordinates themselves (k must equal d, ``base_code`` must be None or 0).
    side : Side, optional
        A second decoder (e.g. PCA's matching move) drawn beside, moved by the same slider values.
    ranges : (low, high), optional
        Bounds of the training codes, per code coordinate (``range_space='code'``, length d) or per
        slider (``range_space='params'``, length k): the note under the images says live whether the
        current code lies inside them or in empty space.
    range_space : {'code', 'params'}
    label : str
        Caption under the main image.
    display_px : int
        Size of the longer image side on screen (nearest-neighbour scaling).
    step : float, optional
        Slider step (default: 1/200 of each slider's span).

    Returns
    -------
    LiveResult
        ``code`` (d,) and ``params`` (k,) at the last release, or None before any; ``ok`` False when the
        browser could not run the decoder (then draw the server-side image instead).
    """
    released = _released_params(key, model_id, len(sliders))
    data = decoder_data(model_id, image_shape, sliders, base_code, directions, side, ranges, range_space, label,
                        image_px(int(display_px), LIVE_LIMIT), step, released)
    return _mount(key, data, _models(model_onnx, model_id, side))


def decoder_data(model_id: str, image_shape: Sequence[int], sliders: Sequence[tuple[str, float, float, float]],
                 base_code=None, directions=None, side: Side | None = None,
                 ranges: tuple[Sequence[float], Sequence[float]] | None = None, range_space: str = "code",
                 label: str = "model", display_px: int = 200, step: float | None = None,
                 released: Sequence[float] | None = None) -> dict:
    """The data of :func:`live_decoder`'s element, without Streamlit (the static lesson builds it too).

    Parameters are :func:`live_decoder`'s (``display_px`` as drawn: no presenter scaling here), and
    ``released``: the slider values to start from instead of each slider's value (k numbers), or None.

    Returns
    -------
    dict
        What ``live.js`` reads (kind 'decoder'), less the key, the runtime and the models.
    """
    k = len(sliders)
    if k == 0:
        raise ValueError("give at least one slider")
    if directions is None:
        directions = np.eye(k)
        if base_code is not None and np.any(np.asarray(base_code) != 0):
            raise ValueError("without directions the sliders are the code itself: leave base_code out")
        base_code = np.zeros(k)
    directions = np.atleast_2d(np.asarray(directions, dtype=np.float64))
    base_code = np.zeros(directions.shape[1]) if base_code is None else base_code
    if directions.shape[0] != k:
        raise ValueError(f"{k} sliders need {k} directions, got {directions.shape[0]}")
    specs = []
    for i, (name, low, high, value) in enumerate(sliders):
        low, high = float(low), float(high)
        if not low < high:
            raise ValueError(f"slider {name!r}: low must be below high, got {low} and {high}")
        current = released[i] if released is not None else float(value)
        specs.append({"label": str(name), "low": low, "high": high, "value": min(high, max(low, current)),
                      "step": float(step) if step else (high - low) / 200.0})
    main = _decoder_spec(model_id, base_code, directions, image_shape, label)
    return {"kind": "decoder", "main": main, "sliders": specs, "display_px": int(display_px),
            "side": _side_spec(side, k, image_shape), "ranges": _ranges(ranges, range_space, len(main["origin"]), k)}


def latent_pad(key: str, model_onnx: bytes, model_id: str, image_shape: Sequence[int], points=None, labels=None,
               origin=None, plane=None, extent: Sequence[float] | None = None, side: Side | None = None,
               label: str = "model", pad_px: int = 320, display_px: int = 200,
               pinned: Sequence[float] | None = None) -> LiveResult:
    """A 2-D pad over the latent space: the pointer decodes the code under it live; a click pins it.

    Parameters
    ----------
    key, model_onnx, model_id, image_shape, label, display_px
        As for :func:`live_decoder`.
    points : array_like of shape (n, 2), optional
        Plane coordinates (u, v) of codes to show as faint dots (e.g. the test set's codes).
    labels : array_like of int, shape (n,), optional
        Class of each point (its dot's colour).
    origin : array_like of shape (d,), optional
        The code at (u, v) = (0, 0) (default zeros; for a 2-D model keep zeros: the pad is the code plane).
    plane : array_like of shape (2, d), optional
        The two directions u and v move along: ``code = origin + u * plane[0] + v * plane[1]``.
        Default: the identity (d must be 2).
    extent : (u_min, u_max, v_min, v_max), optional
        The pad's window (default: the points' bounds plus 5 %, or (-3, 3, -3, 3)).
    side : Side, optional
        A second decoder moved by (u, v) too (its ``directions`` has shape (2, d2)).
    pad_px : int
        Side of the square pad on screen.
    pinned : (u, v), optional
        A code pinned before this pad was drawn (e.g. the code the page now starts from, pinned by a click
        on an earlier pad): the pinned marker and the decoded image start there instead of the pad's
        centre. A click on this pad replaces it.

    Returns
    -------
    LiveResult
        ``code`` (d,) and ``params`` (u, v) of the last click (the pinned code), or None before any.
    """
    released = _released_params(key, model_id, 2) or (None if pinned is None else _floats(pinned, (2,), "pinned"))
    data = pad_data(model_id, image_shape, points, labels, origin, plane, extent, side, label,
                    image_px(int(pad_px), LIVE_LIMIT), image_px(int(display_px), LIVE_LIMIT), released)
    return _mount(key, data, _models(model_onnx, model_id, side))


def pad_data(model_id: str, image_shape: Sequence[int], points=None, labels=None, origin=None, plane=None,
             extent: Sequence[float] | None = None, side: Side | None = None, label: str = "model",
             pad_px: int = 320, display_px: int = 200, pinned: Sequence[float] | None = None) -> dict:
    """The data of :func:`latent_pad`'s element, without Streamlit (the static lesson builds it too).

    Parameters are :func:`latent_pad`'s (sizes as drawn: no presenter scaling here); ``pinned`` is the
    (u, v) the marker and the image start at, or None (the pad's centre, nothing pinned).

    Returns
    -------
    dict
        What ``live.js`` reads (kind 'pad'), less the key, the runtime and the models.
    """
    plane = np.eye(2) if plane is None else np.asarray(plane, dtype=np.float64)
    if plane.ndim != 2 or plane.shape[0] != 2:
        raise ValueError(f"plane must have shape (2, d), got {plane.shape}")
    origin = np.zeros(plane.shape[1]) if origin is None else origin
    points = np.zeros((0, 2)) if points is None else np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}")
    if labels is not None and len(labels) != len(points):
        raise ValueError(f"{len(labels)} labels for {len(points)} points")
    if extent is None:
        if len(points):
            low, high = points.min(0), points.max(0)
            pad = 0.05 * np.maximum(high - low, 1e-6)
            extent = (low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1])
        else:
            extent = (-3.0, 3.0, -3.0, 3.0)
    extent = [float(e) for e in extent]
    if not (extent[0] < extent[1] and extent[2] < extent[3]):
        raise ValueError(f"extent must be (u_min, u_max, v_min, v_max) with min < max, got {extent}")
    released = None if pinned is None else _floats(pinned, (2,), "pinned")
    return {"kind": "pad", "main": _decoder_spec(model_id, origin, plane, image_shape, label),
            "side": _side_spec(side, 2, image_shape), "points": np.round(points, 4).tolist(),
            "labels": None if labels is None else [int(v) for v in labels], "extent": extent,
            "pinned": released, "start": released or [(extent[0] + extent[1]) / 2, (extent[2] + extent[3]) / 2],
            "pad_px": int(pad_px), "display_px": int(display_px), "ranges": None}


def interpolation_scrubber(key: str, model_onnx: bytes, model_id: str, image_shape: Sequence[int], code_a, code_b,
                           side: Side | None = None, t: float = 0.5, label: str = "model",
                           display_px: int = 160, step: float = 0.01) -> LiveResult:
    """A t slider decoding ``(1 - t) * code_a + t * code_b`` live, with an optional second model beside.

    Parameters
    ----------
    key, model_onnx, model_id, image_shape, label, display_px
        As for :func:`live_decoder`.
    code_a, code_b : array_like of shape (d,)
        The two ends (e.g. the codes of two test images).
    side : Side, optional
        The other model's interpolation: ``origin`` its code_a, ``directions`` one row, code_b - code_a.
        :meth:`Side.between` builds it.
    t : float
        Where the slider starts, in [0, 1].
    step : float
        Slider step.

    Returns
    -------
    LiveResult
        ``code`` (d,) and ``params`` (t,) at the last release, or None before any.
    """
    released = _released_params(key, model_id, 1)
    data = scrubber_data(model_id, image_shape, code_a, code_b, side, released[0] if released else t, label,
                         image_px(int(display_px), LIVE_LIMIT), step)
    return _mount(key, data, _models(model_onnx, model_id, side))


def scrubber_data(model_id: str, image_shape: Sequence[int], code_a, code_b, side: Side | None = None,
                  t: float = 0.5, label: str = "model", display_px: int = 160, step: float = 0.01) -> dict:
    """The data of :func:`interpolation_scrubber`'s element, without Streamlit (for the static lesson).

    Parameters are :func:`interpolation_scrubber`'s (``display_px`` as drawn: no presenter scaling here).

    Returns
    -------
    dict
        What ``live.js`` reads (kind 'scrubber'), less the key, the runtime and the models.
    """
    code_a = np.asarray(code_a, dtype=np.float64).reshape(-1)
    code_b = np.asarray(code_b, dtype=np.float64).reshape(-1)
    if code_a.shape != code_b.shape:
        raise ValueError(f"code_a and code_b differ in shape: {code_a.shape} and {code_b.shape}")
    return {"kind": "scrubber", "main": _decoder_spec(model_id, code_a, (code_b - code_a)[None], image_shape, label),
            "side": _side_spec(side, 1, image_shape), "t": float(min(1.0, max(0.0, t))),
            "step": float(step), "display_px": int(display_px), "label": "t", "ranges": None}


def side_between(model_onnx: bytes, model_id: str, code_a, code_b, label: str = "PCA") -> Side:
    """The :class:`Side` of an interpolation from ``code_a`` to ``code_b`` (for the scrubber)."""
    code_a = np.asarray(code_a, dtype=np.float64).reshape(-1)
    return Side(model_onnx, model_id, code_a, (np.asarray(code_b, dtype=np.float64).reshape(-1) - code_a)[None], label)


def _side_spec(side: Side | None, k: int, image_shape: Sequence[int]) -> dict | None:
    if side is None:
        return None
    directions = np.atleast_2d(np.asarray(side.directions, dtype=np.float64))
    if directions.shape[0] != k:
        raise ValueError(f"the side decoder needs {k} direction rows (one per parameter), got {directions.shape[0]}")
    return _decoder_spec(side.model_id, side.origin, directions, image_shape, side.label)


def _ranges(ranges, space: str, d: int, k: int) -> dict | None:
    if ranges is None:
        return None
    if space not in ("code", "params"):
        raise ValueError(f"range_space must be 'code' or 'params', got {space!r}")
    n = d if space == "code" else k
    low, high = (_floats(r, (n,), name=f"ranges ({space})") for r in ranges)
    return {"space": space, "low": low, "high": high}


#: images drawn in a map at once when zoomed in (more in view: the map stays dots); each is fetched once
THUMB_MAX = 150


def map_lens(key: str, charts: Sequence[str], images_id: str, images: Mapping[int, np.ndarray],
             decoder: tuple[bytes, str] | None = None, decode_chart: str | None = None, label: str = "model",
             thumb_px: int = 36, tip_px: int = 96, display_px: int = 120, thumb_max: int = THUMB_MAX) -> LiveResult:
    """Decoding and images inside maps drawn by ``st.plotly_chart`` (:func:`dashboard.figures.latent_map`
    with ``lens=`` set), instead of a separate pad.

    Zoomed in until at most ``thumb_max`` image dots are in view, each dot of every map in ``charts`` is
    drawn as its image (the browser asks for the images it lacks; each travels once per page). Over
    ``decode_chart``, a 2-D code plane, the pointer decodes the code under it in the browser, drawn beside
    the pointer and in this element.

    Parameters
    ----------
    key : str
        Streamlit key of the element.
    charts : sequence of str
        The maps' lens names (their figures' ``layout.meta.lens``).
    images_id : str
        An id of the images (the dataset): the page keeps images under it.
    images : mapping of int to array of shape (N, C, H, W)
        The images of each split (0: test, 1: training), values in [0, 1], as the maps' ``customdata``
        ``[row, split]`` names them.
    decoder : (ONNX bytes, model id), optional
        The decoder of the 2-D code drawn by ``decode_chart`` (codes (N, 2) -> images (N, C, H, W)).
    decode_chart : str, optional
        The lens name of that map.
    label : str
        Caption of the decoded image in this element.
    thumb_px, tip_px, display_px : int
        On-screen size of an image in the map, beside the pointer and in this element (larger in presenter view).
    thumb_max : int
        The most images drawn in one map.

    Returns
    -------
    LiveResult
        ``ok`` False once the browser reported it cannot run the decoder; ``code`` is always None (a click on
        the map picks a code).
    """
    shape = next(iter(images.values())).shape[1:]
    data = {"kind": "lens", "charts": [str(c) for c in charts], "images_id": str(images_id),
            "image_shape": [int(s) for s in shape], "thumb_px": image_px(int(thumb_px)),
            "tip_px": image_px(int(tip_px), LIVE_LIMIT), "display_px": image_px(int(display_px), LIVE_LIMIT),
            "thumb_max": int(thumb_max), "decode_chart": decode_chart, "main": None, "side": None, "ranges": None,
            "zoom_text": f"Zoom in on a map (scroll, or the zoom tool) until at most {thumb_max} dots are in view: "
                         "each dot becomes its image.",
            "thumbs": _wanted_images(key, images, 2 * int(thumb_max))}
    models: dict[str, bytes] = {}
    if decoder is not None:
        onnx, model_id = decoder
        data.update(main=_decoder_spec(model_id, np.zeros(2), np.eye(2), shape, label), start=[0.0, 0.0])
        models = {model_id: onnx}
    result = _component()(key=key, data=_with_runtime(key, data, models), default={"ok": True}, height="content",
                          on_ok_change=lambda: None, on_missing_change=lambda: None, on_want_change=lambda: None)
    ok = result.get("ok") if hasattr(result, "get") else getattr(result, "ok", True)
    return LiveResult(None, None, ok is not False)


def _wanted_images(key: str, images: Mapping[int, np.ndarray], most: int) -> dict[str, str]:
    """The images the lens asked for in the run it triggered (its ``want``), by :func:`images_for`."""
    state = st.session_state.get(key)
    return images_for(state.get("want") if isinstance(state, Mapping) else None, images, most)


def images_for(want, images: Mapping[int, np.ndarray], most: int) -> dict[str, str]:
    """``'split:row'`` -> base64 of the image's bytes (uint8, C*H*W, rounded as the live decoder paints).

    Parameters
    ----------
    want : object
        The lens's request, ``{"rows": [[split, row], ...]}``: outside input, so anything else, unknown
        splits and rows out of range are skipped, and at most ``most`` images are answered.
    images : mapping of int to array of shape (N, C, H, W)
        Each split's images, values in [0, 1].
    most : int
    """
    rows = want.get("rows") if isinstance(want, Mapping) else None
    out: dict[str, str] = {}
    for item in rows if isinstance(rows, list) else []:
        if len(out) >= most:
            break
        if not isinstance(item, list) or len(item) != 2:
            continue
        try:
            split, row = (int(v) for v in item)
        except (TypeError, ValueError, OverflowError):
            continue
        if split in images and 0 <= row < len(images[split]):
            pixels = np.clip(np.asarray(images[split][row], np.float32) * 255 + 0.5, 0, 255).astype(np.uint8)
            out[f"{split}:{row}"] = base64.b64encode(pixels.tobytes()).decode("ascii")
    return out

__all__ = ["live_decoder", "latent_pad", "map_lens", "images_for", "THUMB_MAX", "interpolation_scrubber", "Side", "side_between", "LiveResult",
           "decoder_data", "pad_data", "scrubber_data"]
