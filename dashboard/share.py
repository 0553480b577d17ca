"""Shareable views: the page, dataset, model, chosen image and code live in the URL.

A link such as ``/playground?dataset=digits&model=<checkpoint>&image=42`` opens exactly that view:

* :func:`open_link` (app.py, before the sidebar) notices query parameters this session did not
  write itself (a link just opened, or an edited URL) and puts the dataset part into the sidebar's
  widget keys;
* :func:`view` (a page, right after ``ui.page(...)`` and before its widgets) puts the page's part
  (``model``, ``image``, ``d``, ``projection``, ``view``, ``code``) into the keys the page names;
* :func:`run` (app.py, around the page) writes the current view back into ``st.query_params``
  after the page has read its widgets, and draws the *Copy link* button in the sidebar;
  :func:`update` adds a value that is no widget (the playground's code) from inside a fragment.

A part of a link that does not fit this server (a model deleted or trained elsewhere, an image number
past the end, an unknown dataset, a folder that classroom mode does not share) is left out with an
``st.info`` that says what was missing, and the nearest valid view opens instead. In classroom mode
a link never types a server path: a folder is matched by name against the shared folders only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from core.data.data_sources import FOLDER
from dashboard import presenter
from dashboard.keys import SIDEBAR
from dashboard.policy import policy
from dashboard.text import md

#: URL parameters in the order a link shows them
ORDER = ("dataset", "folder", "size", "rgb", "model", "d", "image", "projection", "view", "colour", "region", "code", "step",
         "measure", "from", "to", "amount", "a", "b", "c", "noise", "level", "count", "quality", "budget", "present")
MAX_CODE = 64  # a longer code is not put into a URL
#: a link's code values must lie within +-this: every family's codes stay within a few hundred (PCA of
#: [0, 1] pixels is bounded by the image's norm, 28 on MNIST), and float32 (what decoders take) overflows
#: past 3.4e38, which once crashed the playground with a traceback ('origin must be finite')
MAX_CODE_VALUE = 10_000.0
SOURCE = "the shared link"

_LAST, _LINK, _KEYS, _EXTRA = "_share_last", "_share_link", "_share_keys", "_share_extra"
_NOTES, _NOTES_FOR, _PAGE = "_share_notes", "_share_notes_for", "_share_page"

COPY_JS = """
export default function ({ parentElement }) {
  let root = parentElement.querySelector(".ll-share");
  if (root) root.remove();
  root = document.createElement("div");
  root.className = "ll-share";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Copy link to this view";
  button.title = "Copies the address of this page with its dataset, model and image";
  const note = document.createElement("div");
  note.className = "ll-note";
  root.append(button, note);
  parentElement.appendChild(root);
  button.addEventListener("click", async () => {
    const url = window.location.href;
    try {
      await navigator.clipboard.writeText(url);
      note.textContent = "Copied.";
    } catch (error) {  // no clipboard (plain http on the LAN): show it, selected, to copy by hand
      note.textContent = "";
      const box = document.createElement("input");
      box.value = url;
      box.readOnly = true;
      note.appendChild(box);
      box.select();
    }
    root.dataset.copied = url;
  });
}
"""
COPY_CSS = """
.ll-share button { width: 100%; padding: 0.35rem 0.6rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid rgba(49, 51, 63, 0.2); background: transparent; color: inherit; font: inherit; }
.ll-share button:hover { border-color: #ff4b4b; color: #ff4b4b; }
.ll-note { font-size: 0.8rem; opacity: 0.75; margin-top: 0.25rem; }
.ll-note input { width: 100%; font-size: 0.75rem; }
"""


@functools.cache
def _copy_component():
    """Registered once per process (see dashboard.live for the same pattern)."""
    return st.components.v2.component("latent_lab_share", js=COPY_JS, css=COPY_CSS)


def copy_link() -> None:
    """The *Copy link* button: copies the browser's current address (which :func:`run` keeps up to date)."""
    _copy_component()(key="share_copy_link", data={}, height="content")


# --- reading a link ---------------------------------------------------------------------------------

def _params() -> dict[str, str]:
    return {name: st.query_params.get(name) for name in st.query_params}


def _note(scope: str, text: str) -> None:
    st.session_state.setdefault(_NOTES, []).append((scope, text))


def _show(scope: str) -> None:
    for where, text in st.session_state.get(_NOTES, []):
        if where == scope:
            st.info(text, icon=":material/link:")


def open_link() -> None:
    """app.py, before the sidebar: take up a link (query parameters this session did not write) and
    put its dataset part into the sidebar's widget keys."""
    from dashboard.ui import DATASET_CHOICES, UPLOAD

    state = st.session_state
    state[_KEYS], state[_EXTRA] = {}, {}
    params = _params()
    link = params if params and params != state.get(_LAST) else None
    state[_LINK] = link
    if link is None:
        return
    state[_NOTES] = []
    if presenter.KEY in link:  # ?present=1: presenter view (the sidebar's toggle takes over from here)
        state[presenter.KEY] = link[presenter.KEY] == "1"
    choice = link.get("dataset")
    if choice is None:
        return
    if choice not in DATASET_CHOICES:
        _note("sidebar", f"The link asks for the dataset **{md(choice)}**, which this dashboard does not offer: "
                         "showing the dataset chosen in the sidebar instead.")
        return
    if choice == FOLDER and not _restore_folder(link):
        return
    if choice == UPLOAD and not _restore_upload(link):
        return
    state[SIDEBAR.dataset] = choice


def _restore_folder(link: Mapping[str, str]) -> bool:
    """The own-image folder of a link into the sidebar's keys; False (with a note) when it cannot open here."""
    state, rules, folder = st.session_state, policy(), (link.get("folder") or "").strip()
    if rules.can_type_paths:
        if folder:
            state[SIDEBAR.folder_path] = folder
    else:  # classroom: only one of the shared folders, matched by its name, never a typed path
        name = Path(folder).name
        match = [p for p in rules.shared_folders() if name and p.name == name]
        if not match:
            _note("sidebar", f"The link opens an image folder (**{md(name) if name else 'none named'}**) that is not one of the "
                             "folders shared here; in classroom mode a link cannot open other folders on the server, "
                             "so the dataset chosen in the sidebar is shown instead.")
            return False
        state[SIDEBAR.folder_pick] = str(match[0])
    _restore_size(link)
    return True


def _restore_upload(link: Mapping[str, str]) -> bool:
    """An uploaded zip's folder, named by the link (``<zip name>-<content hash>``), among this server's uploads."""
    from core.data.archives import uploaded_folders
    from dashboard import resources

    name = Path((link.get("folder") or "").strip()).name
    data_dir = resources.data_dir_in_use(st.session_state.get(SIDEBAR.data_dir) or None)
    match = [u.folder for u in uploaded_folders(data_dir) if name and u.folder.name == name]
    if not match:
        _note("sidebar", f"The link opens an uploaded dataset (**{md(name) if name else 'none named'}**) that was not uploaded to "
                         "this server: upload the same zip in the sidebar (it lands in the same place), or pick "
                         "another dataset. The dataset chosen in the sidebar is shown instead.")
        return False
    st.session_state[SIDEBAR.upload_pick] = str(match[0])
    _restore_size(link)
    return True


def _restore_size(link: Mapping[str, str]) -> None:
    """An image-folder link's resize and colour settings into the sidebar's keys."""
    state = st.session_state
    size = _int(link.get("size"))
    if size is not None:
        if 8 <= size <= 128:
            state[SIDEBAR.folder_size] = size
        else:
            _note("sidebar", f"The link resizes images to {size} pixels, outside 8..128: using the size in the sidebar.")
    if "rgb" in link:
        state[SIDEBAR.folder_rgb] = link["rgb"] == "1"


def _int(text) -> int | None:
    try:
        return int(str(text))
    except (TypeError, ValueError):
        return None


def _nearest(value: int, options: Sequence[int]) -> int:
    return min(options, key=lambda o: (abs(o - value), o))


def view(page, choices: Mapping[str, Sequence[str]] | None = None, **fields: str) -> None:
    """A page's hook, after ``ui.page(...)`` and before its widgets.

    Parameters
    ----------
    page : dashboard.ui.Page
        Its dataset and models decide what of a link is valid here.
    choices : mapping, optional
        The allowed values of a text parameter (``{'projection': [...]}``).
    **fields : str
        URL parameter -> the session-state key of the widget that shows it: ``model`` (a checkpoint's
        name, among ``page.models``), ``image`` (a test image number), ``d`` (a latent size), ``view``
        ('3d' turns a toggle on), any name in ``choices``, and ``code`` (the key where a
        :class:`CodeRequest` waits for the page, :data:`REQUEST_KEY`; needs ``model``).
    """
    state = st.session_state
    state[_KEYS] = dict(fields)
    link = state.get(_LINK)
    if link is not None:
        _restore_page(link, page, fields, choices or {})
    _show("page")


def _restore_page(link: Mapping[str, str], page, fields: Mapping[str, str], choices: Mapping[str, Sequence[str]]) -> None:
    state, dataset, models = st.session_state, page.dataset, page.models
    record = None
    if "model" in fields and "model" in link:
        record = next((r for r in models if r.name == link["model"]), None)
        if record is None:
            _note("page", f"The link's model **{md(link['model'])}** is not among the models cached here for "
                          f"{md(dataset.name)} (deleted, trained again, or trained on another machine): showing another model.")
        else:
            state[fields["model"]] = record.name
    if "image" in fields and "image" in link:
        n, index = len(dataset.test), _int(link["image"])
        if index is None:
            _note("page", f"The link's image number **{md(link['image'])}** is not a number: showing the first test image.")
        elif not 0 <= index < n:
            nearest = min(max(index, 0), n - 1)
            _note("page", f"The link asks for test image #{index}, but {md(dataset.name)} has {n:,} test images "
                          f"(#0 to #{n - 1}): showing #{nearest}.")
            state[fields["image"]] = nearest
        else:
            state[fields["image"]] = index
    if "d" in fields and "d" in link:
        dims, d = sorted({r.latent_dim for r in models}), _int(link["d"])
        if d in dims:
            state[fields["d"]] = d
        elif dims:
            nearest = _nearest(d if d is not None else dims[0], dims)
            _note("page", f"No model with latent size **{md(link['d'])}** is cached here: showing d = {nearest}.")
            state[fields["d"]] = nearest
    if "view" in fields and "view" in link:
        state[fields["view"]] = link["view"] == "3d"
    for name, allowed in choices.items():
        if name in fields and name in link:
            if link[name] in allowed:
                state[fields[name]] = link[name]
            else:
                _note("page", f"The link's {name} **{md(link[name])}** is not available here "
                              f"(choose from {md(', '.join(allowed))}): showing the default.")
    if "code" in fields and "code" in link:
        _restore_code(link["code"], record, fields["code"])


def _restore_code(text: str, record, key: str) -> None:
    if record is None:
        _note("page", "The link's code belongs to a model that is not here, so it was left out.")
        return
    try:
        code = [float(v) for v in text.split(",")]
    except ValueError:
        code = []
    if len(code) != record.latent_dim:
        _note("page", f"The link's code is not {record.latent_dim} numbers (what **{md(record.label)}** uses), "
                      "so the view starts from a test image instead.")
        return
    if not all(math.isfinite(v) and abs(v) <= MAX_CODE_VALUE for v in code):
        _note("page", f"The link asks for a code with a value that is not a number between {-MAX_CODE_VALUE:,.0f} and "
                      f"{MAX_CODE_VALUE:,.0f} (codes of the models here stay far inside that), so the view starts "
                      "from a test image instead.")
        return
    st.session_state[key] = CodeRequest(record.name, tuple(code), SOURCE)


def take(name: str, key: str, parse: Callable[[str], object] = str, allowed: Collection | None = None,
         bounds: tuple[float, float] | None = None) -> None:
    """Before a widget whose key is known only where it is drawn (it depends on other choices): a link's
    ``name`` into ``key``, parsed and checked; a bad value keeps the default, with a calm note right there.

    Parameters
    ----------
    name : str
        The URL parameter (one of :data:`ORDER`).
    key : str
        The widget's session-state key.
    parse : callable
        Text -> value (``int``, ``float``, ``str``); a ValueError means "not valid here".
    allowed : collection, optional
        The values the widget offers.
    bounds : (low, high), optional
        The range of a numeric widget (inclusive); values must also be finite.
    """
    link = st.session_state.get(_LINK)
    if link is None or name not in link:
        return
    try:
        value = parse(link[name])
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(name)
    except (TypeError, ValueError, OverflowError):
        value = None
    fits = value is not None and (allowed is None or value in allowed) and (
        bounds is None or bounds[0] <= value <= bounds[1])
    if not fits:
        st.info(f"The link's {name} **{md(link[name])}** is not available here: showing the default.",
                icon=":material/link:")
        return
    st.session_state[key] = value


def keep(**values) -> None:
    """After a page read its widgets: values for the link whose keys the page chose as it went (see
    :func:`take`); written into the URL when the page ends. None leaves a value out."""
    st.session_state.setdefault(_EXTRA, {}).update(values)


# --- a code sent to the playground ------------------------------------------------------------------
REQUEST_KEY = "playground_request"  # where a code waits for the playground to take it up


@dataclass(frozen=True)
class CodeRequest:
    """A code sent to the Decoder playground (from a link, the latent map, a pad).

    Attributes
    ----------
    model : str
        The checkpoint's name.
    code : tuple of float
        The code, (d,).
    source : str
        Where it came from, in words ('the shared link', 'the hover pad', 'test image #12').
    """

    model: str
    code: tuple[float, ...]
    source: str


def send_code(model: str, code, source: str) -> None:
    """Leave a code for the playground to start from (the page that sends it then switches to it)."""
    st.session_state[REQUEST_KEY] = CodeRequest(model, tuple(float(v) for v in code), source)


def take_code() -> CodeRequest | None:
    """The playground: the code left for it, once (None when there is none)."""
    request = st.session_state.pop(REQUEST_KEY, None)
    return request if isinstance(request, CodeRequest) else None


# --- writing the view back --------------------------------------------------------------------------

def _format(name: str, value) -> str | None:
    if value is None:
        return None
    if name == "view":
        return "3d" if value else None
    if name == "code":
        values = [float(v) for v in value]
        return None if len(values) > MAX_CODE else ",".join(f"{v:.4g}" for v in values)
    if isinstance(value, (Mapping, list, tuple, CodeRequest)):
        return None  # e.g. the code request the page has already taken up
    return str(int(value)) if name in ("image", "d") else str(value)


def current() -> dict[str, str]:
    """The view shown now, as URL parameters (``ORDER``)."""
    from dashboard.ui import UPLOAD

    state, params = st.session_state, {}
    choice = state.get(SIDEBAR.dataset)
    if choice:
        params["dataset"] = str(choice)
    if choice == FOLDER:
        if policy().can_type_paths:
            folder = str(state.get(SIDEBAR.folder_path) or "").strip()
        else:  # classroom: the name of a shared folder, never a server path
            folder = Path(str(state.get(SIDEBAR.folder_pick) or "")).name
        if folder:
            params["folder"] = folder
    if choice == UPLOAD and state.get(SIDEBAR.upload_pick):  # its folder's name: the zip's name and content hash
        params["folder"] = Path(str(state[SIDEBAR.upload_pick])).name
    if choice in (FOLDER, UPLOAD):
        if state.get(SIDEBAR.folder_size) is not None:
            params["size"] = str(int(state[SIDEBAR.folder_size]))
        if state.get(SIDEBAR.folder_rgb):
            params["rgb"] = "1"
    if presenter.is_on():
        params[presenter.KEY] = "1"
    for name, key in state.get(_KEYS, {}).items():
        text = _format(name, state.get(key))
        if text is not None:
            params[name] = text
    for name, value in state.get(_EXTRA, {}).items():
        text = _format(name, value)
        if text is None:
            params.pop(name, None)
        else:
            params[name] = text
    return {name: params[name] for name in sorted(params, key=lambda n: (ORDER + (n,)).index(n))}


def publish() -> None:
    """Write the current view into ``st.query_params`` (only when it changed)."""
    state, params = st.session_state, current()
    if _params() != params:
        st.query_params.from_dict(params)
    state[_LAST] = params
    seen = (state.get(_PAGE), tuple(params.items()))
    if state.get(_LINK) is not None:
        state[_NOTES_FOR], state[_LINK] = seen, None  # the notes stay until the view changes
    elif state.get(_NOTES) and state.get(_NOTES_FOR) != seen:
        state[_NOTES] = []


def update(**values) -> None:
    """Add values that are no widget (``code=...``, None to drop it) and publish: callable in a fragment."""
    st.session_state.setdefault(_EXTRA, {}).update(values)
    publish()


def run(page) -> None:
    """app.py: run the page chosen by ``st.navigation`` and write its view into the URL afterwards
    (also when the page stops early with ``st.stop``)."""
    st.session_state[_PAGE] = getattr(page, "url_path", "")
    _show("sidebar")
    with st.sidebar:
        copy_link()
    try:
        page.run()
    except StopException:
        publish()
        raise
    publish()
