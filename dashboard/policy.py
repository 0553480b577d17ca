"""Classroom mode: the one switch that decides what a browser may do, checked here and nowhere else.

By default the dashboard listens on the loopback interface only (``.streamlit/config.toml``) and a
person at the machine may do everything. A teacher who serves it to a room starts it in classroom
mode (``make classroom`` or ``python -m dashboard --classroom``): it listens on the network and is
read-only for every browser: no training, no deleting, no server paths typed in; own image folders
only from under the roots the teacher named; no zips of images uploaded as datasets (those uploaded
beforehand may be picked); uploads capped in bytes and pixels. Every refused
action is explained on the page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLASSROOM_ENV = "LATENT_LAB_CLASSROOM"  # "1": classroom mode
FOLDER_ROOTS_ENV = "LATENT_LAB_FOLDER_ROOTS"  # os.pathsep-separated folders whose sub-folders are datasets
CLASSROOM_UPLOAD_MB = 2  # per file, in classroom mode (Streamlit's server.maxUploadSize is set to match)

REFUSED = {
    "train": "Training is switched off: this dashboard is served to a room in classroom mode. "
             "The teacher trains models beforehand (`make zoo`, or the Train page on their own machine).",
    "delete": "Deleting models is switched off in classroom mode, so nobody removes a model the class is using.",
    "paths": "Folders on the server cannot be typed in classroom mode: pick one of the folders the teacher shared.",
    "upload": "Uploading a zip of images is switched off in classroom mode: a room shares this server and its disk. "
              "Pick a zip the teacher uploaded beforehand, one of the shared folders, or a built-in dataset.",
}


@dataclass(frozen=True)
class Policy:
    """What browsers may do.

    Attributes
    ----------
    classroom : bool
    folder_roots : tuple of Path
        Folders whose sub-folders are offered as own-image datasets in classroom mode.
    """

    classroom: bool = False
    folder_roots: tuple[Path, ...] = ()

    @property
    def can_train(self) -> bool:
        return not self.classroom

    @property
    def can_delete(self) -> bool:
        return not self.classroom

    @property
    def can_type_paths(self) -> bool:
        return not self.classroom

    @property
    def can_upload_datasets(self) -> bool:
        """Whether a browser may upload a zip that becomes a dataset on the server's disk."""
        return not self.classroom

    @property
    def can_download_datasets(self) -> bool:
        """Whether a browser may make the server download a dataset (it writes to the server's disk)."""
        return not self.classroom

    @property
    def shows_server_paths(self) -> bool:
        """Whether pages show the server's folders (data, model cache): not to a room."""
        return not self.classroom

    @property
    def upload_mb(self) -> int | None:
        """Per-file upload cap in MB in classroom mode (None: the page's own limit)."""
        return CLASSROOM_UPLOAD_MB if self.classroom else None

    def shared_folders(self) -> list[Path]:
        """Image folders a classroom may open: each root's sub-folders (and the roots themselves)."""
        folders: list[Path] = []
        for root in self.folder_roots:
            if root.is_dir():
                folders.append(root)
                folders += sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        return folders


def policy() -> Policy:
    """The policy of this server process, read from its environment."""
    roots = tuple(Path(p).expanduser().resolve() for p in os.environ.get(FOLDER_ROOTS_ENV, "").split(os.pathsep) if p)
    return Policy(classroom=os.environ.get(CLASSROOM_ENV, "") not in ("", "0", "false"), folder_roots=roots)
