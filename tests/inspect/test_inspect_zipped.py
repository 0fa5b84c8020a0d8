"""course_utils.inspect.zipped: .zip / .ozx files and zarr's ZipStore."""

from __future__ import annotations

import os
import zipfile

import pytest
import zarr
from inspect_helpers import (
    comparable,
    counts,
    expected_from_keys,
    one_line,
    write,
    zip_directory,
)

from course_utils.inspect import StoreError, inspect_store


@pytest.mark.parametrize("suffix", [".zip", ".ozx"])
def test_zip_of_a_directory(stores, tmp_path, suffix):
    archive = zip_directory(stores["0.5"], tmp_path / f"image{suffix}")
    summary = inspect_store(archive)
    with zipfile.ZipFile(archive) as zf:
        sizes = {info.filename: info.file_size for info in zf.infolist()}
    assert counts(summary) == expected_from_keys(sizes)
    assert summary.kind == "zip"
    assert summary.duplicate_entries == 0
    assert comparable(summary) == comparable(inspect_store(stores["0.5"]))


def test_zip_with_the_store_in_a_folder(stores, tmp_path):
    archive = zip_directory(
        stores["0.4"], tmp_path / "folder.zip", folder="image.zarr/"
    )
    summary = inspect_store(archive)
    assert comparable(summary) == comparable(inspect_store(stores["0.4"]))
    assert any("image.zarr/" in note for note in summary.notes)


def test_zip_written_through_zipstore_has_duplicates(small_ms, tmp_path):
    archive = tmp_path / "direct.zip"
    store = zarr.storage.ZipStore(archive, mode="a")
    write(store, small_ms, "0.5")
    store.close()
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
    names = [info.filename for info in infos]
    duplicates = len(names) - len(set(names))
    assert duplicates > 0  # what the course warns about
    last = {info.filename: info.file_size for info in infos}
    summary = inspect_store(archive)
    assert summary.duplicate_entries == duplicates
    assert counts(summary) == expected_from_keys(last)
    assert summary.ome_version == "0.5" and summary.n_scales == 3
    assert any("duplicate" in note for note in summary.notes)

    reopened = zarr.storage.ZipStore(archive, mode="r")
    assert comparable(inspect_store(reopened)) == comparable(summary)


def test_zipstore_still_open_for_writing(tmp_path):
    archive = tmp_path / "open.zip"
    store = zarr.storage.ZipStore(archive, mode="w")
    group = zarr.open_group(store, mode="w")
    group.create_array("a", shape=(10, 10), chunks=(5, 5), dtype="int16")[:] = 3
    # No central directory on disk yet: the open ZipFile is read instead.
    summary = inspect_store(store)
    names = [info.filename for info in store._zf.infolist()]
    assert summary.n_objects == len(names) == 6  # 2 zarr.json + 4 chunks
    assert summary.arrays["a"].shape == (10, 10)
    store.close()
    assert comparable(inspect_store(archive)) == comparable(summary)


def test_corrupt_zips(tmp_path, stores):
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(StoreError, match="not a valid zip") as info:
        inspect_store(garbage)
    one_line(info.value)

    good = zip_directory(stores["0.5"], tmp_path / "good.zip")
    truncated = tmp_path / "truncated.ozx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(StoreError, match="not a valid zip") as info:
        inspect_store(truncated)
    one_line(info.value)

    # Central directory intact, the root zarr.json's local header destroyed.
    damaged = tmp_path / "damaged.zip"
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        offset = zf.getinfo("zarr.json").header_offset
    data[offset : offset + 4] = b"XXXX"
    damaged.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="corrupt zip") as info:
        inspect_store(damaged)
    one_line(info.value)


def test_zip_that_is_not_zarr(tmp_path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "hello")
    with pytest.raises(StoreError, match="not a Zarr store"):
        inspect_store(archive)


def test_ozx_shows_its_archive_comment(stores, tmp_path):
    import io

    from rich.console import Console

    from course_utils import archive

    target = archive.write_ozx(stores["0.5-sharded"], tmp_path / "image.ozx")
    summary = inspect_store(target)
    assert summary.archive_comment == archive.ozx_comment("0.5").decode()
    assert not [note for note in summary.notes if "RFC-9" in note]
    assert comparable(summary) == comparable(inspect_store(stores["0.5-sharded"]))
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(summary)
    text = console.export_text()
    assert 'Archive comment' in text and '"jsonFirst":true' in text


def test_ozx_that_departs_from_rfc9_says_how(stores, tmp_path):
    archive_path = zip_directory(stores["0.5"], tmp_path / "generic.ozx")  # sorted names, no comment
    with zipfile.ZipFile(archive_path, "a") as zf:
        zf.comment = b'{"ome":{"version":"0.5"}}\0'  # an earlier draft's NUL-terminated comment
    summary = inspect_store(archive_path)
    assert summary.archive_comment == '{"ome":{"version":"0.5"}}\\0'
    rfc9 = " | ".join(note for note in summary.notes if note.startswith("RFC-9"))
    assert "NUL byte" in rfc9
    assert "do not all come first" in rfc9
    assert "no ZIP64 end records" in rfc9
    plain = inspect_store(zip_directory(stores["0.5"], tmp_path / "plain.zip"))
    assert plain.archive_comment == ""
    assert not [note for note in plain.notes if "RFC-9" in note]  # a .zip is not held to RFC-9
