"""Uploaded zips of images (``core.data.archives.extract_archive``): the layouts people make, the archives an
attacker makes (zip-slip names, symlinks, bombs), and the folder dataset that comes out of them."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.config import DataConfig
from core.data.archives import ArchiveLimits, extract_archive, uploaded_folders, uploads_root
from core.data.datasets import load_dataset
from core.errors import DatasetError
from testkit.links import shown


def png(value: int = 128, size: int = 12) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size), value, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    """A zip of ``{name: content}`` (names written as given, unsafe ones included) and symlink entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            # a NUL cannot be given to zipfile (it cuts the name there): written as \x01, patched below
            archive.writestr(zipfile.ZipInfo(name.replace("\0", "\1"), (2024, 1, 2, 3, 4, 5)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name, (2024, 1, 2, 3, 4, 5))
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    data = buffer.getvalue()
    for name in entries:
        if "\0" in name:
            data = data.replace(name.replace("\0", "\1").encode(), name.encode())
    return data


def classes_zip(prefix: str = "", n: int = 6) -> bytes:
    return make_zip({f"{prefix}{cls}/{i}.png": png(40 * k + i) for k, cls in enumerate(["cats", "dogs"]) for i in range(n)})


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")}


def everything_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_a_flat_zip_becomes_a_flat_folder_dataset(tmp_path):
    upload = extract_archive(make_zip({f"img{i}.png": png(i * 20) for i in range(12)}), tmp_path, "digits.zip")
    assert upload.folder.parent == tmp_path / "uploads" and upload.folder.name.startswith("digits-")
    assert upload.images == 12 and upload.classes == () and not upload.skipped and not upload.reused
    assert files_under(upload.folder) == {f"img{i}.png" for i in range(12)}
    dataset = load_dataset(DataConfig(f"folder:{upload.folder}", image_size=16))
    assert len(dataset.train) + len(dataset.test) == 12 and dataset.image_shape == (1, 16, 16)


def test_class_folders_become_classes(tmp_path):
    upload = extract_archive(classes_zip(), tmp_path, "pets.zip")
    assert upload.classes == ("cats", "dogs") and upload.images == 12
    dataset = load_dataset(DataConfig(f"folder:{upload.folder}"))
    assert dataset.class_names == ("cats", "dogs")


def test_a_single_wrapping_top_folder_is_unwrapped(tmp_path):
    """Finder and Explorer zip the folder itself: pets/cats/..., even twice nested."""
    upload = extract_archive(classes_zip("Users/me/pets/"), tmp_path, "pets.zip")
    assert upload.classes == ("cats", "dogs")
    assert files_under(upload.folder) == {f"{c}/{i}.png" for c in ("cats", "dogs") for i in range(6)}
    flat = extract_archive(make_zip({f"pets/{i}.png": png(i) for i in range(10)}), tmp_path, "flat.zip")
    assert flat.classes == () and files_under(flat.folder) == {f"{i}.png" for i in range(10)}


@pytest.mark.parametrize("evil", ["../x.png", "a/../../x.png", "/abs.png", "C:/win.png", "..\\win.png",
                                  "ok/\x00.png"])
def test_zip_slip_names_are_skipped_and_nothing_lands_outside(tmp_path, evil):
    data = tmp_path / "data"
    upload = extract_archive(make_zip({evil: png(), **{f"{i}.png": png(i) for i in range(10)}}), data, "evil.zip")
    assert any("not extracted" in s.reason for s in upload.skipped), upload.skipped
    assert everything_under(tmp_path) - {"data"} == {f"data/{p}" for p in everything_under(data)}, "nothing outside data/"
    assert not (tmp_path / "x.png").exists() and not Path("/abs.png").exists()
    assert files_under(upload.folder) == {f"{i}.png" for i in range(10)}


def test_symlink_entries_are_not_extracted(tmp_path):
    upload = extract_archive(make_zip({f"{i}.png": png(i) for i in range(10)}, {"link.png": "/etc/passwd"}),
                             tmp_path, "links.zip")
    assert [s.path for s in upload.skipped if "symbolic link" in s.reason] == ["link.png"]
    assert not any(p.is_symlink() for p in upload.folder.rglob("*"))


def test_a_file_where_a_folder_goes_is_skipped_not_a_crash(tmp_path):
    entries = {f"cats/{i}.png": png(i) for i in range(10)} | {"dogs/a.png": png(1), "dogs/a.png/b.png": png(2)}
    upload = extract_archive(make_zip(entries), tmp_path, "clash.zip")
    assert [s.path for s in upload.skipped if "collides" in s.reason] == ["dogs/a.png/b.png"]
    assert upload.images == 11 and (upload.folder / "dogs" / "a.png").is_file()


def test_too_many_files_is_refused_before_writing(tmp_path):
    data = make_zip({f"{i}.png": png(i) for i in range(30)})
    with pytest.raises(DatasetError, match="holds 30 files; the limit is 20: upload a zip with fewer images"):
        extract_archive(data, tmp_path, "many.zip", ArchiveLimits(max_files=20))
    assert not uploads_root(tmp_path).exists() or not any(uploads_root(tmp_path).iterdir())


def test_declared_sizes_over_the_limits_are_caught_before_decompressing(tmp_path):
    zeros = b"\0" * (3 * 1024 * 1024)  # 3 MB of zeros deflate to about 3 KB: a small zip bomb
    bomb = make_zip({"bomb.png": zeros, **{f"{i}.png": png(i) for i in range(10)}})
    assert len(bomb) < 50_000
    upload = extract_archive(bomb, tmp_path, "bomb.zip", ArchiveLimits(max_file_bytes=1024 * 1024))
    assert [s.path for s in upload.skipped if "over the 1 MB limit for one image" in s.reason] == ["bomb.png"]
    assert not (upload.folder / "bomb.png").exists()
    total = make_zip({f"{i}.png": zeros for i in range(12)})
    with pytest.raises(DatasetError, match="would unpack to 36 MB of images; the limit is 10 MB"):
        extract_archive(total, tmp_path, "total.zip", ArchiveLimits(max_total_bytes=10 * 1024 * 1024))


def _lie_about_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size of ``name`` in its local header and the central directory."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    while local != -1:
        name_len = struct.unpack_from("<H", out, local + 26)[0]
        if bytes(out[local + 30:local + 30 + name_len]) == name:
            struct.pack_into("<I", out, local + 22, size)
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", out, central + 28)[0]
        if bytes(out[central + 46:central + 46 + name_len]) == name:
            struct.pack_into("<I", out, central + 24, size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_an_entry_that_decompresses_to_more_than_its_header_says_is_skipped(tmp_path):
    liar = _lie_about_size(make_zip({"liar.png": b"\0" * 500_000, **{f"{i}.png": png(i) for i in range(10)}}),
                           b"liar.png", 1000)
    upload = extract_archive(liar, tmp_path, "liar.zip")
    reasons = [s.reason for s in upload.skipped if s.path == "liar.png"]
    assert reasons and "not extracted" in reasons[0]
    assert not (upload.folder / "liar.png").exists() and upload.images == 10


def test_non_image_files_are_skipped_and_reported_metadata_summarised(tmp_path):
    entries = {f"cats/{i}.png": png(i) for i in range(10)} | {
        "cats/notes.txt": b"hello", "cats/run.sh": b"rm -rf /", "__MACOSX/cats/._0.png": b"\0\5\26\7",
        "cats/.DS_Store": b"\0"}
    upload = extract_archive(make_zip(entries), tmp_path, "mixed.zip")
    skipped = {s.path: s.reason for s in upload.skipped}
    assert "not an image file" in skipped["cats/notes.txt"]
    assert "not an image file" in skipped["cats/run.sh"]
    assert "2 entries of system metadata" in skipped["(hidden files, __MACOSX/)"]
    assert files_under(upload.folder) == {f"{i}.png" for i in range(10)}, "the wrapping cats/ is unwrapped"


def test_a_corrupt_image_is_extracted_and_reported_by_the_folder_loader(tmp_path):
    entries = {f"{i}.png": png(i * 10) for i in range(10)} | {"broken.png": png()[:40]}
    upload = extract_archive(make_zip(entries), tmp_path, "broken.zip")
    assert upload.images == 11
    dataset = load_dataset(DataConfig(f"folder:{upload.folder}"))
    assert [Path(s.path).name for s in dataset.skipped_files] == ["broken.png"]
    assert "truncated or damaged" in dataset.skipped_files[0].reason


def test_the_same_zip_twice_lands_in_the_same_folder(tmp_path):
    data = classes_zip()
    first = extract_archive(data, tmp_path, "pets.zip")
    second = extract_archive(io.BytesIO(data), tmp_path, "renamed copy.zip")
    assert second.folder == first.folder and second.reused and not first.reused
    assert [u.folder for u in uploaded_folders(tmp_path)] == [first.folder]
    other = extract_archive(classes_zip(n=7), tmp_path, "pets.zip")
    assert other.folder != first.folder
    assert [u.folder for u in uploaded_folders(tmp_path)] == [other.folder, first.folder], "newest first"
    assert not [p for p in uploads_root(tmp_path).iterdir() if p.name.startswith(".partial")], "no half uploads left"


@pytest.mark.parametrize("data, message", [
    (b"", "is empty"),
    (b"this is not a zip at all", "not a readable zip file"),
    (None, "holds no image files"),
    ("few", "holds only 3 usable image files"),
])
def test_bad_uploads_are_refused_with_what_to_do_and_leave_nothing(tmp_path, data, message):
    if data is None:
        data = make_zip({"readme.txt": b"hi"})
    elif data == "few":
        data = make_zip({f"{i}.png": png(i) for i in range(3)})
    with pytest.raises(DatasetError, match=message):
        extract_archive(data, tmp_path, "bad.zip")
    assert uploaded_folders(tmp_path) == []
    root = uploads_root(tmp_path)
    assert not root.exists() or not any(root.iterdir()), "no folder, no temporary folder"


def test_an_archive_over_the_compressed_limit_is_refused_before_reading(tmp_path):
    with pytest.raises(DatasetError, match=r"the limit for a zip is 1 MB: zip fewer or smaller images"):
        extract_archive(b"PK" + b"\0" * (2 * 1024 * 1024), tmp_path, "huge.zip", ArchiveLimits(max_archive_bytes=1024 * 1024))


def test_a_data_folder_that_cannot_be_written_says_so(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DatasetError, match="point the data folder at a folder this server may write to"):
        extract_archive(classes_zip(), blocker, "pets.zip")


# --- the sidebar (Streamlit's AppTest) ---------------------------------------------------------------
def _app(monkeypatch, data_dir: Path):
    from streamlit.testing.v1 import AppTest

    from testkit.app import REPO

    monkeypatch.setenv("LATENT_LAB_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180).run()
    at.selectbox(key="dataset_choice").set_value("upload").run()
    return at


def test_the_sidebar_unpacks_an_uploaded_zip_and_every_page_uses_it(env, monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path)
    assert not at.exception
    assert any("Upload a zip of images" in i.value for i in at.info), "the page says what to do"
    zipped = make_zip({f"pets/{c}/{i}.png": png(40 * k + i) for k, c in enumerate(["cats", "dogs"]) for i in range(8)}
                      | {"pets/readme.txt": b"hi"})
    at.file_uploader(key="upload_zip").set_value(("My Pets.zip", zipped, "application/zip")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [shown(s.value) for s in at.success] == ["Unpacked My Pets.zip (16 images, 2 classes)."]
    folder = Path(at.selectbox(key="upload_pick").value)
    assert folder.parent == tmp_path / "uploads" and folder.name.startswith("my-pets-")
    assert any("readme.txt" in shown(m.value) for m in at.markdown), "skipped entries are listed"
    assert any(f"Source: {folder}" in shown(c.value) for c in at.caption), "Home shows the uploaded dataset"
    at.switch_page("views/latent_map.py").run()
    assert not at.exception
    assert any(f"folder:{folder}" in shown(i.value) and "none is cached yet" in i.value for i in at.info)
    at.file_uploader(key="upload_zip").set_value(("bad.zip", b"not a zip", "application/zip")).run()
    assert any("not a readable zip file" in shown(e.value) for e in at.error)
    assert at.selectbox(key="upload_pick").value == str(folder), "a failed upload keeps the dataset in use"


def test_classroom_mode_offers_no_upload_only_earlier_ones_and_says_why(env, monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_LAB_CLASSROOM", "1")
    at = _app(monkeypatch, tmp_path)
    assert not at.exception
    assert not at.get("file_uploader"), "no upload in classroom mode"
    assert any("switched off in classroom mode" in c.value for c in at.caption)
    assert any("No zip of images was uploaded to this server beforehand" in i.value for i in at.info)
    earlier = extract_archive(classes_zip(), tmp_path, "lesson.zip")  # the teacher's, made before class
    at.run()
    assert at.selectbox(key="upload_pick").value == str(earlier.folder)
    assert any(f"Source: {earlier.folder}" in shown(c.value) for c in at.caption)


def test_a_link_to_an_uploaded_dataset_opens_it_and_a_missing_one_is_explained(env, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from testkit.app import REPO

    monkeypatch.setenv("LATENT_LAB_DATA_DIR", str(tmp_path))
    older = extract_archive(classes_zip(), tmp_path, "lesson.zip")
    newer = extract_archive(make_zip({f"flat/{i}.png": png(10 * i) for i in range(12)}), tmp_path, "other.zip")
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180)
    at.query_params.update({"dataset": "upload", "folder": older.folder.name})
    at.run()
    assert not at.exception
    assert at.selectbox(key="upload_pick").value == str(older.folder), "the linked upload, not the newest"
    assert at.query_params["folder"] in (older.folder.name, [older.folder.name]), "the URL names the folder"
    assert str(tmp_path) not in str(at.query_params)
    stale = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180)
    stale.query_params.update({"dataset": "upload", "folder": "gone-0123456789ab"})
    stale.run()
    assert not stale.exception
    assert any("was not uploaded to this server" in i.value for i in stale.info)
    assert newer.folder.exists()
