"""A zip of images uploaded in the browser becomes an ordinary ``folder:`` dataset, safely.

:func:`extract_archive` unpacks a zip (bytes or a file-like object) into
``<data_dir>/uploads/<name>-<content hash>/`` and returns that folder; from then on it is a folder
dataset like any other (``DataConfig(f"folder:{folder}")``), with its class sub-folders or flat.

What a zip cannot do here, because the archive comes from a browser:

- write outside its folder (zip-slip): absolute names, drive letters, ``..`` components, NUL and
  control characters, symlink entries and names too long for the disk are refused, and every target
  is checked to lie inside the extraction folder;
- fill the disk (zip bombs): the compressed size, the number of files, the declared size of each
  file and their declared total are checked before anything is written, and the bytes actually
  decompressed are counted while writing, so a header that lies is caught too;
- leave half an upload behind: files go to a hidden temporary folder next to the final one, which is
  renamed into place only when complete (an atomic rename on one file system).

Only files with an image suffix (:data:`core.data.datasets.IMAGE_SUFFIXES`) are extracted; every other
entry is reported as a :class:`core.data.datasets.SkippedFile` with its reason. Images are not decoded here:
a damaged one is reported by the folder loader (``Dataset.skipped_files``), as for any folder. A single
top folder wrapping everything (what Finder and Explorer make) is unwrapped. The same zip uploaded twice
lands in the same folder: the folder name ends in a hash of the zip's bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.data.datasets import IMAGE_SUFFIXES, SkippedFile, resolve_data_dir
from core.errors import DatasetError

MB = 1024 * 1024
UPLOADS_DIR = "uploads"  # under the data folder
MANIFEST = ".latent-lab-upload.json"  # hidden: the folder loader and its fingerprint ignore it
MIN_IMAGES = 10  # the folder loader needs at least this many readable images
HASH_CHARS = 12
_CHUNK = 1 << 20
_STALE_PARTIAL_S = 3600  # a temporary folder this old was left by a crashed upload
_METADATA_DIRS = ("__MACOSX",)  # resource forks Finder adds: `._name.png` entries that are not images


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps for one uploaded zip (the defaults fit Streamlit's default ``server.maxUploadSize`` of 200 MB).

    Attributes
    ----------
    max_archive_bytes : int
        The zip file itself.
    max_total_bytes : int
        All extracted images together, uncompressed.
    max_files : int
        Entries in the zip (folders not counted).
    max_file_bytes : int
        One image, uncompressed; a larger one is skipped and reported.
    """

    max_archive_bytes: int = 200 * MB
    max_total_bytes: int = 1024 * MB
    max_files: int = 50_000
    max_file_bytes: int = 20 * MB


@dataclass(frozen=True)
class UploadedFolder:
    """A folder made from an uploaded zip.

    Attributes
    ----------
    folder : Path
        ``<data_dir>/uploads/<name>-<hash>``: use it as ``DataConfig(f"folder:{folder}")``.
    name : str
        The zip's file name as uploaded.
    images : int
        Image files extracted (the folder loader may still skip damaged ones).
    classes : tuple of str
        Class sub-folder names; empty for a flat folder (one class).
    skipped : tuple of SkippedFile
        Entries of the zip that were not extracted, each with its reason.
    reused : bool
        The same zip was uploaded before: its folder was reused, nothing was written.
    """

    folder: Path
    name: str
    images: int
    classes: tuple[str, ...]
    skipped: tuple[SkippedFile, ...]
    reused: bool = False

    @property
    def label(self) -> str:
        """A short description for pickers: the zip's name, its images and classes."""
        kinds = f"{len(self.classes)} classes" if self.classes else "flat"
        return f"{self.name} ({self.images:,} images, {kinds})"


def uploads_root(data_dir: str | os.PathLike | None = None) -> Path:
    """``<data_dir>/uploads``: where extracted zips live (see :func:`core.data.datasets.resolve_data_dir`)."""
    return resolve_data_dir(data_dir) / UPLOADS_DIR


def uploaded_folders(data_dir: str | os.PathLike | None = None) -> list[UploadedFolder]:
    """Every zip extracted under this data folder, newest first (folders without a readable manifest,
    i.e. not made by :func:`extract_archive`, are left out)."""
    root = uploads_root(data_dir)
    found = []
    with contextlib.suppress(OSError):
        for folder in root.iterdir():
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            upload = _read_manifest(folder)
            if upload is not None:
                found.append((_mtime(folder / MANIFEST), upload))
    return [upload for _, upload in sorted(found, key=lambda item: item[0], reverse=True)]


def extract_archive(source: bytes | bytearray | memoryview | BinaryIO, data_dir: str | os.PathLike | None = None,
                    name: str = "upload.zip", limits: ArchiveLimits | None = None) -> UploadedFolder:
    """Unpack an uploaded zip of images into a new folder under the data folder.

    Parameters
    ----------
    source : bytes or binary file-like
        The zip's content (Streamlit's ``UploadedFile`` is file-like).
    data_dir : path, optional
        The data folder (see :func:`core.data.datasets.resolve_data_dir`); the folder lands in its ``uploads/``.
    name : str
        The uploaded file's name: it names the folder (made safe) and is shown in pickers.
    limits : ArchiveLimits, optional
        Caps on sizes and counts (default :class:`ArchiveLimits`).

    Returns
    -------
    UploadedFolder
        The folder (images at its top for a flat zip, one sub-folder per class otherwise) and what was skipped.

    Raises
    ------
    core.errors.DatasetError
        The upload is not a zip, is over a limit, holds fewer than 10 images, or the data folder cannot
        be written; the message says what to do. Nothing is left behind in that case.
    """
    limits = limits or ArchiveLimits()
    name = os.path.basename(str(name or "upload.zip").replace("\\", "/")) or "upload.zip"
    stream = _as_stream(source)
    size = stream.seek(0, io.SEEK_END)
    if size > limits.max_archive_bytes:
        raise DatasetError(f"{name} is {size / MB:.1f} MB; the limit for a zip is {limits.max_archive_bytes / MB:.0f} MB: "
                           "zip fewer or smaller images (e.g. resized to 64x64) and upload again")
    if size == 0:
        raise DatasetError(f"{name} is empty (0 bytes): upload the zip file again")
    digest = _hash(stream)
    root = uploads_root(data_dir)
    existing = _find(root, digest)
    if existing is not None:
        return existing
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"{name} is not a readable zip file ({exc}): make a .zip of the image folder "
                           "(right-click > Compress / Send to > Compressed folder) and upload that") from None
    with archive:
        plan, skipped = _plan(archive, name, limits)
        try:
            root.mkdir(parents=True, exist_ok=True)
            _remove_stale_partials(root)
            partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
        except OSError as exc:
            raise DatasetError(f"cannot write uploads under {root} ({exc.strerror or exc}): point the data folder "
                               "at a folder this server may write to") from None
        try:
            written, more_skipped = _write(archive, plan, partial, name, limits)
            skipped += more_skipped
            if written < MIN_IMAGES:
                raise DatasetError(f"{name} holds only {written} usable image files ({len(skipped)} entries skipped); "
                                   f"at least {MIN_IMAGES} are needed: add more images to the zip")
            classes = tuple(sorted({p.split("/")[0] for p in plan.values() if "/" in p}))
            upload = UploadedFolder(root / f"{_safe_name(name)}-{digest}", name, written, classes, tuple(skipped))
            _write_manifest(partial, upload, digest)
            return _publish(partial, upload, root, digest)
        finally:
            shutil.rmtree(partial, ignore_errors=True)  # gone already when it was renamed into place


# --- planning: which entries become which files ----------------------------------------------------
def _plan(archive: zipfile.ZipFile, name: str, limits: ArchiveLimits) -> tuple[dict[zipfile.ZipInfo, str], list[SkippedFile]]:
    """Check the archive from its central directory (nothing decompressed yet) and choose a target path
    for every image entry. Returns ``({entry: relative target}, skipped)``."""
    # zipfile cuts a name at its NUL ("a/\0.png" reads as the folder "a/"): judge the name as stored
    entries = [info for info in archive.infolist() if "\0" in info.orig_filename or not info.is_dir()]
    if len(entries) > limits.max_files:
        raise DatasetError(f"{name} holds {len(entries):,} files; the limit is {limits.max_files:,}: "
                           "upload a zip with fewer images")
    skipped: list[SkippedFile] = []
    metadata = 0
    chosen: list[tuple[zipfile.ZipInfo, list[str]]] = []
    seen: set[str] = set()
    for info in entries:
        parts, problem = _safe_parts(info)
        if problem:
            skipped.append(SkippedFile(_printable(info.orig_filename), problem))
            continue
        if parts[0] in _METADATA_DIRS or any(p.startswith(".") for p in parts):
            metadata += 1  # .DS_Store, __MACOSX/._x.png, Thumbs-like hidden files: not the user's images
            continue
        if os.path.splitext(parts[-1])[1].lower() not in IMAGE_SUFFIXES:
            skipped.append(SkippedFile(info.filename, f"not an image file (suffix not one of {', '.join(IMAGE_SUFFIXES)})"))
            continue
        if info.flag_bits & 0x1:
            skipped.append(SkippedFile(info.filename, "encrypted: zip it again without a password"))
            continue
        if info.file_size > limits.max_file_bytes:
            skipped.append(SkippedFile(info.filename, f"{info.file_size / MB:.1f} MB uncompressed, over the "
                                                      f"{limits.max_file_bytes / MB:.0f} MB limit for one image"))
            continue
        key = "/".join(parts).casefold()  # two names differing only in case would collide on many disks
        if key in seen:
            skipped.append(SkippedFile(info.filename, "a second file of the same name: only the first is kept"))
            continue
        seen.add(key)
        chosen.append((info, parts))
    if metadata:
        skipped.append(SkippedFile("(hidden files, __MACOSX/)", f"{metadata} entries of system metadata, not images"))
    declared = sum(info.file_size for info, _ in chosen)
    if declared > limits.max_total_bytes:
        raise DatasetError(f"{name} would unpack to {declared / MB:,.0f} MB of images; the limit is "
                           f"{limits.max_total_bytes / MB:,.0f} MB: upload fewer or smaller images")
    chosen = _unwrap(chosen)
    top_dirs = {parts[0] for _, parts in chosen if len(parts) > 1}
    plan = {}
    for info, parts in chosen:
        if top_dirs and len(parts) == 1:  # the folder loader would ignore it: say so instead
            skipped.append(SkippedFile(info.filename, "an image beside the class folders: put it into one of them"))
            continue
        plan[info] = "/".join(parts)
    if not plan:
        raise DatasetError(f"{name} holds no image files ({len(skipped)} other entries): zip a folder of "
                           f"{', '.join(s.lstrip('.').upper() for s in IMAGE_SUFFIXES[:3])} images, flat or one "
                           "sub-folder per class")
    return plan, skipped


_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def _safe_parts(info: zipfile.ZipInfo) -> tuple[list[str], str]:
    """The entry's path components, or a reason why it may not be written (zip-slip and friends)."""
    raw = info.orig_filename
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        return [], "unsafe name (NUL or control characters): not extracted"
    name = raw.replace("\\", "/")  # zips made on Windows may use backslashes
    if name.startswith("/") or _WINDOWS_DRIVE.match(name):
        return [], "absolute path: not extracted (a zip may only hold relative names)"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return [], "path with '..': not extracted (it would write outside the upload folder)"
    if not parts:
        return [], "empty name: not extracted"
    if stat.S_ISLNK(info.external_attr >> 16):
        return [], "symbolic link: not extracted"
    if any(len(p.encode("utf-8", "surrogateescape")) > 255 for p in parts):
        return [], "a name longer than 255 bytes: not extracted"
    return parts, ""


def _unwrap(chosen: list[tuple[zipfile.ZipInfo, list[str]]]) -> list[tuple[zipfile.ZipInfo, list[str]]]:
    """Drop top folders that wrap everything (``pets/cats/a.png`` -> ``cats/a.png``), as often as there
    is one: Finder and Explorer zip the folder itself, and the class folders lie inside it."""
    while chosen and all(len(parts) > 1 for _, parts in chosen) and len({parts[0] for _, parts in chosen}) == 1:
        chosen = [(info, parts[1:]) for info, parts in chosen]
    return chosen


# --- writing ----------------------------------------------------------------------------------------
def _write(archive: zipfile.ZipFile, plan: dict[zipfile.ZipInfo, str], partial: Path, name: str,
           limits: ArchiveLimits) -> tuple[int, list[SkippedFile]]:
    """Decompress the planned entries into ``partial``, counting bytes (a header may lie about sizes)."""
    base = str(partial.resolve())
    written, total, skipped, made = 0, 0, [], {base}
    for info, rel in plan.items():
        # belt and braces: _safe_parts already refused such names. A string check is enough (and no
        # syscalls): nothing in the fresh temporary folder is a link, and no link is ever written
        target = os.path.normpath(os.path.join(base, rel))
        if not target.startswith(base + os.sep):
            skipped.append(SkippedFile(info.filename, "path outside the upload folder: not extracted"))
            continue
        cap = min(info.file_size, limits.max_file_bytes)
        count = 0
        try:
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            # O_EXCL | O_NOFOLLOW: never write through a link or over a file that is already there
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
            with os.fdopen(fd, "wb") as out, archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    count += len(chunk)
                    if count > cap or total + count > limits.max_total_bytes:
                        raise _Oversize
                    out.write(chunk)
        except _Oversize:
            os.unlink(target)
            if total + count > limits.max_total_bytes:
                raise DatasetError(f"{name} unpacks to more than {limits.max_total_bytes / MB:,.0f} MB "
                                   "(more than its headers declare): upload fewer or smaller images") from None
            skipped.append(SkippedFile(info.filename, "decompresses to more bytes than its header declares: "
                                                      "a damaged or malicious entry, not extracted"))
            continue
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            reason = ("compressed with a method this server cannot read: zip it again with the usual 'deflate'"
                      if isinstance(exc, NotImplementedError) else f"damaged inside the zip ({exc}): not extracted")
            skipped.append(SkippedFile(info.filename, reason))
            continue
        except (FileExistsError, NotADirectoryError):  # `a.png` and `a.png/b.png`: a file where a folder goes
            skipped.append(SkippedFile(info.filename, "its path collides with another entry of the zip: not extracted"))
            continue
        except OSError as exc:
            raise DatasetError(f"cannot write the upload under {partial.parent} ({exc.strerror or exc}): "
                               "free some disk space or point the data folder elsewhere") from None
        os.utime(target, (time.time(), _zip_mtime(info)))  # the zip's dates: stable, like the content
        total += count
        written += 1
    return written, skipped


class _Oversize(Exception):
    """An entry decompressed to more bytes than allowed."""


def _zip_mtime(info: zipfile.ZipInfo) -> float:
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return 0.0


def _publish(partial: Path, upload: UploadedFolder, root: Path, digest: str) -> UploadedFolder:
    """Rename the complete temporary folder into place (atomic); an upload of the same zip that won a race
    is used instead."""
    try:
        os.rename(partial, upload.folder)
    except OSError:
        existing = _find(root, digest)
        if existing is None:
            raise DatasetError(f"cannot create {upload.folder}: point the data folder at a folder this server may write to") from None
        return existing
    return upload


# --- naming, hashing, manifest -------------------------------------------------------------------------
def _as_stream(source) -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if hasattr(source, "read") and hasattr(source, "seek"):
        return source
    raise DatasetError("the upload arrived without its content: upload the zip file again")


def _hash(stream: BinaryIO) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()[:HASH_CHARS]


def _safe_name(name: str) -> str:
    """``My Pets (2).zip`` -> ``my-pets-2``: ASCII letters, digits and dashes, at most 40 characters."""
    stem = name[:-4] if name.lower().endswith(".zip") else name
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_stem.lower()).strip("-")[:40].strip("-")
    return slug or "upload"


def _printable(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)


def _find(root: Path, digest: str) -> UploadedFolder | None:
    """The folder an earlier upload of the same bytes made, whatever the zip was called then."""
    with contextlib.suppress(OSError):
        for folder in root.glob(f"*-{digest}"):
            upload = _read_manifest(folder)
            if upload is not None:
                return UploadedFolder(upload.folder, upload.name, upload.images, upload.classes, upload.skipped, reused=True)
    return None


def _write_manifest(partial: Path, upload: UploadedFolder, digest: str) -> None:
    record = {"version": 1, "name": upload.name, "sha256_prefix": digest, "images": upload.images,
              "classes": list(upload.classes), "created": time.time(),
              "skipped": [[s.path, s.reason] for s in upload.skipped]}
    (partial / MANIFEST).write_text(json.dumps(record, indent=1))


def _read_manifest(folder: Path) -> UploadedFolder | None:
    try:
        record = json.loads((folder / MANIFEST).read_text())
        return UploadedFolder(folder, str(record["name"]), int(record["images"]),
                              tuple(str(c) for c in record["classes"]),
                              tuple(SkippedFile(str(p), str(r)) for p, r in record["skipped"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _remove_stale_partials(root: Path) -> None:
    """Temporary folders of uploads that crashed an hour or more ago (a running one is younger)."""
    now = time.time()
    for partial in root.glob(".partial-*"):
        if now - _mtime(partial) > _STALE_PARTIAL_S:
            shutil.rmtree(partial, ignore_errors=True)
