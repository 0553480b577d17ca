"""Session-state keys of the widgets whose values a link carries or a reset keeps: one list each, read
by the widgets themselves (ui.py, the pages), by :mod:`dashboard.share` (the link round trip) and by
:mod:`dashboard.presenter` (what *Reset everything* keeps). A key spelled in one place cannot drift.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass


@dataclass(frozen=True)
class SidebarKeys:
    """The sidebar's dataset widgets (``dashboard.ui.sidebar``)."""

    dataset: str = "dataset_choice"
    data_dir: str = "data_dir"
    folder_path: str = "folder_path"  # a typed image folder (not in classroom mode)
    folder_pick: str = "folder_pick"  # one of the folders classroom mode shares
    upload_pick: str = "upload_pick"  # an uploaded zip's folder
    folder_size: str = "folder_size"
    folder_rgb: str = "folder_rgb"
    selection: str = "selection"  # the typed Selection the sidebar made of them (ui.selection())

    def all(self) -> tuple[str, ...]:
        return astuple(self)


@dataclass(frozen=True)
class PlaygroundKeys:
    """The Decoder playground's state: its widgets and what it remembers between runs."""

    model: str = "pg_model"
    image: str = "pg_image"
    start: str = "pg_start"  # 'image', 'mean' or 'sent'
    sent: str = "pg_sent"  # the share.CodeRequest the sliders start from
    nonce: str = "pg_nonce"  # bumped by 'Reset the sliders' (new slider keys)
    live_ok: str = "pg_live_ok"  # False once the browser said it cannot run the decoder
    pinned: str = "pg_pinned"  # the last code pinned on the pad
    a: str = "pg_a"
    b: str = "pg_b"
    steps: str = "pg_steps"
    grid: str = "pg_grid"
    seed: str = "pg_seed"


SIDEBAR = SidebarKeys()
PLAYGROUND = PlaygroundKeys()
