"""course_utils.archive: pack directory stores into sound zips and .ozx files, check zips."""

from __future__ import annotations

import json
import struct
import warnings
import zipfile

import ngff_zarr as nz
import numpy as np
import pytest
import zarr

from course_utils import archive


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(2).integers(1, 60000, (300, 200), dtype=np.uint16)


@pytest.fixture(scope="module")
def multiscales(image):
    return nz.to_multiscales(
        nz.to_ngff_image(image, dims=("y", "x")), scale_factors=[2], method=nz.Methods.ITKWASM_BIN_SHRINK, chunks=64
    )


@pytest.fixture(scope="module")
def ome_stores(tmp_path_factory, multiscales):
    """OME-Zarr 0.5, sharded 0.5 and 0.4 directory stores of one small image."""
    root = tmp_path_factory.mktemp("ome")
    stores = {
        "0.5": root / "v05.ome.zarr",
        "0.5-sharded": root / "v05s.ome.zarr",
        "0.4": root / "v04.ome.zarr",
    }
    # 0.4 first: after a sharded write, ngff-zarr 0.18's 0.4 writer makes dask warn (harmlessly)
    nz.to_ngff_zarr(stores["0.4"], multiscales, version="0.4")
    nz.to_ngff_zarr(stores["0.5"], multiscales, version="0.5", chunks=(64, 64))
    nz.to_ngff_zarr(stores["0.5-sharded"], multiscales, version="0.5", chunks_per_shard=2)
    return stores


@pytest.fixture
def volume_store(tmp_path):
    data = np.arange(4 * 20 * 30, dtype="uint16").reshape(4, 20, 30)
    path = tmp_path / "volume.zarr"
    zarr.create_array(zarr.storage.LocalStore(path), shape=data.shape, chunks=(1, 10, 10), dtype=data.dtype)[:] = data
    return data, path


def _names(path):
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def _store_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- order ------------------------------------------------------------------


def test_archive_order_puts_metadata_first_breadth_first_then_chunks():
    keys = [
        "s1/image/c/0/10", "s1/image/c/0/2", "s0/image/zarr.json", "s1/zarr.json", "zarr.json",
        "s0/zarr.json", "s0/image/c/0/0", "s1/image/zarr.json", "s0/.zattrs",
    ]
    assert archive.archive_order(keys) == [
        "zarr.json",
        "s0/zarr.json", "s0/.zattrs", "s1/zarr.json",
        "s0/image/zarr.json", "s1/image/zarr.json",
        "s0/image/c/0/0", "s1/image/c/0/2", "s1/image/c/0/10",
    ]


def test_archive_order_for_zarr_v2_starts_with_zgroup():
    keys = ["0/.zarray", ".zattrs", "0/0/0", ".zgroup", ".zmetadata", "0/.zattrs"]
    assert archive.archive_order(keys) == [".zgroup", ".zattrs", ".zmetadata", "0/.zarray", "0/.zattrs", "0/0/0"]


# -- write_zip --------------------------------------------------------------


def test_write_zip_stores_every_file_once_uncompressed_and_reads_back(volume_store, tmp_path):
    data, path = volume_store
    target = archive.write_zip(path, tmp_path / "out" / "volume.zip")
    assert target == tmp_path / "out" / "volume.zip"
    names = _names(target)
    assert sorted(names) == _store_files(path)
    assert len(names) == len(set(names))
    assert names[0] == "zarr.json"
    with zipfile.ZipFile(target) as zf:
        assert zf.testzip() is None
        assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_STORED}
        assert all(zf.read(name) == (path / name).read_bytes() for name in names)
        assert zf.comment == b""
    with zarr.storage.ZipStore(target, mode="r") as store:
        assert np.array_equal(zarr.open_array(store, mode="r")[:], data)


def test_write_zip_is_deterministic_and_replaces_the_target(volume_store, tmp_path):
    _, path = volume_store
    target = tmp_path / "volume.zip"
    target.write_bytes(b"old contents")
    archive.write_zip(path, target)
    first = target.read_bytes()
    archive.write_zip(path, target)
    assert target.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_write_zip_packs_zarr_v2_too(ome_stores, tmp_path):
    target = archive.write_zip(ome_stores["0.4"], tmp_path / "v04.zip")
    names = _names(target)
    assert names[0] == ".zgroup"
    assert sorted(names) == _store_files(ome_stores["0.4"])
    group = zarr.open_group(zarr.storage.ZipStore(target, mode="r"), mode="r")
    assert group.attrs["multiscales"][0]["version"] == "0.4"


def test_write_zip_writes_zip64_records_when_needed(volume_store, tmp_path, monkeypatch):
    data, path = volume_store
    small = archive.write_zip(path, tmp_path / "small.zip")
    assert archive.verify_zip(small).zip64 is False
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 10)  # pretend 10 entries is "too many"
    big = archive.write_zip(path, tmp_path / "big.zip")
    monkeypatch.undo()
    report = archive.verify_zip(big)
    assert report.zip64 is True and report.ok
    with zarr.storage.ZipStore(big, mode="r") as store:
        assert np.array_equal(zarr.open_array(store, mode="r")[:], data)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: tmp / "missing", "is not a directory"),
        (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "is not a Zarr store"),
    ],
)
def test_write_zip_refuses_what_is_not_a_store(tmp_path, make, message):
    with pytest.raises(archive.ArchiveError, match=message):
        archive.write_zip(make(tmp_path), tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def test_write_zip_refuses_a_target_inside_the_store(volume_store):
    _, path = volume_store
    with pytest.raises(archive.ArchiveError, match="must not be inside"):
        archive.write_zip(path, path / "self.zip")


# -- write_ozx --------------------------------------------------------------


def _local_header_has_zip64_extra(path, info) -> bool:
    """Read the entry's local file header and look for the ZIP64 extra field (header id 1)."""
    with open(path, "rb") as file:
        file.seek(info.header_offset)
        header = file.read(30)
        assert header[:4] == b"PK\x03\x04"
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        file.seek(name_length, 1)
        extra = file.read(extra_length)
    while len(extra) >= 4:
        header_id, size = struct.unpack("<HH", extra[:4])
        if header_id == 1:
            return True
        extra = extra[4 + size :]
    return False


def _zip64_end_record(path):
    """The ZIP64 end of central directory record's entry count, size and offset (parsed by hand)."""
    data = path.read_bytes()
    end = data.rindex(b"PK\x05\x06")
    locator = data[end - 20 : end]
    assert locator[:4] == b"PK\x06\x07"
    _, disk, offset, disks = struct.unpack("<4sLQL", locator)
    assert (disk, disks) == (0, 1)
    record = data[offset : offset + 56]
    signature, size, _, needed, _, _, n_here, n_total, cd_size, cd_offset = struct.unpack("<4sQ2H2L4Q", record)
    assert signature == b"PK\x06\x06" and size == 44 and needed == 45 and n_here == n_total
    return n_total, cd_size, cd_offset, offset


@pytest.mark.parametrize("kind", ["0.5", "0.5-sharded"])
def test_write_ozx_follows_rfc9(ome_stores, tmp_path, image, kind):
    target = archive.write_ozx(ome_stores[kind], tmp_path / "image.ozx")
    names = _names(target)
    metadata = [n for n in names if n.endswith("zarr.json")]
    assert names[0] == "zarr.json"
    assert names[: len(metadata)] == metadata  # every zarr.json before any other entry
    depths = [n.count("/") for n in metadata]
    assert depths == sorted(depths)  # breadth-first
    assert sorted(names) == _store_files(ome_stores[kind])

    # The comment, sharded or not: JSON, the version, the jsonFirst promise, no NUL.
    with zipfile.ZipFile(target) as zf:
        comment = zf.comment
        infos = zf.infolist()
        assert {info.compress_type for info in infos} == {zipfile.ZIP_STORED}
        assert all(_local_header_has_zip64_extra(target, info) for info in infos)
        first_chunk = min(info.header_offset for info in infos if not info.filename.endswith("zarr.json"))
        assert all(info.header_offset < first_chunk for info in infos if info.filename.endswith("zarr.json"))
    assert b"\0" not in comment
    assert json.loads(comment) == {"ome": {"version": "0.5", "zipFile": {"centralDirectory": {"jsonFirst": True}}}}
    assert comment == archive.ozx_comment("0.5")

    # ZIP64 end records although the archive is tiny, consistent with the central directory.
    n_total, cd_size, cd_offset, record_at = _zip64_end_record(target)
    assert n_total == len(names)
    assert cd_offset + cd_size == record_at
    report = archive.verify_zip(target)
    assert report.ok and report.zip64 and report.json_first and report.metadata_first
    assert report.ozx_problems() == []
    assert "zarr.json first:   yes" in str(report) and "ZIP64 records:     yes" in str(report)

    with zarr.storage.ZipStore(target, mode="r") as store:
        group = zarr.open_group(store, mode="r")
        path = group.attrs["ome"]["multiscales"][0]["datasets"][0]["path"]
        assert np.array_equal(group[path][:], image)


def test_write_ozx_is_deterministic_and_shards_mean_fewer_entries(ome_stores, tmp_path):
    first = archive.write_ozx(ome_stores["0.5"], tmp_path / "a.ozx").read_bytes()
    assert archive.write_ozx(ome_stores["0.5"], tmp_path / "a.ozx").read_bytes() == first
    assert archive.verify_zip(archive.write_ozx(ome_stores["0.5-sharded"], tmp_path / "s.ozx")).n_entries < (
        archive.verify_zip(tmp_path / "a.ozx").n_entries
    )


def test_write_ozx_keeps_its_zip64_records_when_zipfile_writes_them_too(ome_stores, tmp_path, monkeypatch):
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 3)  # zipfile now writes ZIP64 end records itself
    target = archive.write_ozx(ome_stores["0.5"], tmp_path / "big.ozx")
    monkeypatch.undo()
    assert target.read_bytes().count(b"PK\x06\x06") == 1  # not added twice
    assert archive.verify_zip(target).ozx_problems() == []


def test_write_ozx_refuses_other_names_and_stores(ome_stores, volume_store, tmp_path):
    with pytest.raises(archive.ArchiveError, match=r"named \*\.ozx"):
        archive.write_ozx(ome_stores["0.5"], tmp_path / "image.zip")
    with pytest.raises(archive.ArchiveError, match="no root zarr.json"):
        archive.write_ozx(ome_stores["0.4"], tmp_path / "v04.ozx")
    with pytest.raises(archive.ArchiveError, match="not OME-Zarr 0.5"):
        archive.write_ozx(volume_store[1], tmp_path / "plain.ozx")
    assert list(tmp_path.glob("*.ozx")) == []


# -- verify_zip / check_zip -------------------------------------------------


def _zip_with(path, entries, compression=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", compression=compression) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return path


def test_verify_zip_finds_duplicate_names(tmp_path):
    path = _zip_with(tmp_path / "dup.zip", [("zarr.json", b"{}"), ("c/0", b"1"), ("zarr.json", b"{ }"), ("zarr.json", b"{}")])
    report = archive.verify_zip(path)
    assert report.duplicate_names == ("zarr.json",)
    assert report.n_duplicate_entries == 2 and report.n_entries == 4
    assert not report.ok
    assert "names are stored more than once" in " ".join(report.ozx_problems())
    assert "duplicate names:   1 (2 extra copies, e.g. 'zarr.json')" in str(report)
    with pytest.raises(archive.ArchiveError, match="stores 1 names more than once"):
        archive.check_zip(path)


def test_verify_zip_finds_a_corrupt_entry(tmp_path):
    path = _zip_with(tmp_path / "bad.zip", [("zarr.json", b"{}"), ("c/0", b"chunk bytes here")])
    raw = bytearray(path.read_bytes())
    at = raw.index(b"chunk bytes here")
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    report = archive.verify_zip(path)
    assert report.bad_entry == "c/0" and not report.ok
    with pytest.raises(archive.ArchiveError, match="fails its CRC check"):
        archive.check_zip(path)


def test_verify_zip_reports_compression_and_order(tmp_path):
    path = _zip_with(tmp_path / "z.zip", [("c/0", b"0" * 100), ("zarr.json", b"{}")], zipfile.ZIP_DEFLATED)
    report = archive.verify_zip(path)
    assert report.ok
    assert report.compressed == ("c/0", "zarr.json")
    assert report.first_entry == "c/0" and not report.metadata_first
    problems = " ".join(report.ozx_problems())
    assert "first entry is 'c/0'" in problems and "compressed" in problems and "breadth-first" in problems
    assert archive.check_zip(path) == report  # sound, just not an .ozx


def test_verify_zip_refuses_what_is_not_a_zip(tmp_path):
    with pytest.raises(archive.ArchiveError, match="does not exist"):
        archive.verify_zip(tmp_path / "missing.zip")
    (tmp_path / "text.zip").write_text("not a zip")
    with pytest.raises(archive.ArchiveError, match="not a readable zip file"):
        archive.verify_zip(tmp_path / "text.zip")


def test_a_pyramid_written_straight_into_a_zipstore_leaves_duplicates(multiscales, tmp_path):
    """The failure the lesson demonstrates, and which write_ozx avoids."""
    path = tmp_path / "direct.zip"
    store = zarr.storage.ZipStore(path, mode="a")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nz.to_ngff_zarr(store, multiscales, version="0.5", chunks=(64, 64))
        store.close()
    report = archive.verify_zip(path)
    assert "zarr.json" in report.duplicate_names
    with pytest.raises(archive.ArchiveError):
        archive.check_zip(path)


# -- RFC-9 order and comment ------------------------------------------------


def test_ozx_order_puts_every_zarr_json_first_breadth_first():
    keys = [
        "b/y/zarr.json", "a/x/c/0", "zarr.json", "a/zarr.json", "b/zarr.json", "a/x/zarr.json",
        "OME/METADATA.ome.xml", "OME/zarr.json", "a10/zarr.json", "a2/zarr.json",
    ]
    ordered = archive.ozx_order(keys)
    assert ordered == [
        "zarr.json",
        "OME/zarr.json", "a/zarr.json", "a2/zarr.json", "a10/zarr.json", "b/zarr.json",
        "a/x/zarr.json", "b/y/zarr.json",
        "OME/METADATA.ome.xml", "a/x/c/0",
    ]
    assert archive.is_json_first(ordered)


@pytest.mark.parametrize("names, expected", [
    (["zarr.json", "a/zarr.json", "b/zarr.json", "a/x/zarr.json", "b/y/zarr.json", "a/x/c/0"], True),
    # Another writer's sibling order is still breadth-first, as long as children follow their parents.
    (["zarr.json", "b/zarr.json", "a/zarr.json", "b/y/zarr.json", "a/x/zarr.json"], True),
    (["zarr.json", "b/zarr.json", "a/zarr.json", "a/x/zarr.json", "b/y/zarr.json"], False),
    (["zarr.json", "a/x/zarr.json", "a/zarr.json"], False),  # depth first
    (["a/zarr.json", "zarr.json"], False),  # root not first
    (["zarr.json", "a/c/0", "a/zarr.json"], False),  # a chunk before a zarr.json
    (["c/0", "zarr.json"], False),
    ([".zgroup", "0/.zarray"], False),  # no zarr.json at all
])
def test_is_json_first(names, expected):
    assert archive.is_json_first(names) is expected


def test_ozx_comment():
    assert archive.ozx_comment("0.5") == b'{"ome":{"version":"0.5","zipFile":{"centralDirectory":{"jsonFirst":true}}}}'
    assert archive.ozx_comment("0.5", json_first=False) == b'{"ome":{"version":"0.5"}}'


@pytest.mark.parametrize("comment, problem", [
    (b"", "no archive comment"),
    (b'{"ome":{"version":"0.5"}}\0', "NUL byte"),
    (b"not json", "not UTF-8 JSON"),
    (b'\xff{"ome": {}}', "not UTF-8 JSON"),
    (b'{"version": "0.5"}', 'no "ome" object'),
    (b'{"ome": {"version": 0.5}}', 'no "version" string'),
    (b'{"ome": {"version": "0.5", "zipFile": []}}', '"zipFile" in the comment is not an object'),
    (b'{"ome": {"version": "0.5", "zipFile": {"centralDirectory": 1}}}', '"centralDirectory" in the comment is not an object'),
    (b'{"ome": {"version": "0.5", "zipFile": {"centralDirectory": {"jsonFirst": "yes"}}}}', "not true or false"),
])
def test_read_ozx_comment_problems(comment, problem):
    _, problems = archive.read_ozx_comment(comment)
    assert any(problem in p for p in problems), problems


def test_read_ozx_comment_accepts_the_minimum_and_the_full_form():
    for comment in (b'{"ome": {"version": "0.5"}}', archive.ozx_comment("0.5"),
                    b'{"ome": {"version": "0.5", "zipFile": {}}}'):
        doc, problems = archive.read_ozx_comment(comment)
        assert problems == [] and doc["ome"]["version"] == "0.5"


def test_ozx_layout_problems_of_a_plain_zip(ome_stores, tmp_path):
    """An .ozx made with a generic zip tool: sorted names, deflate, no comment, no ZIP64."""
    path = tmp_path / "generic.ozx"
    root = ome_stores["0.5"]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in _store_files(root):
            zf.write(root / key, arcname=key)
    problems = " | ".join(archive.verify_zip(path).ozx_problems())
    for expected in ("the first entry is", "do not all come first", "no archive comment",
                     "compressed by the zip", "no ZIP64 end records"):
        assert expected in problems


def test_a_false_json_first_promise_is_reported(tmp_path):
    path = _zip_with(tmp_path / "liar.ozx", [("zarr.json", b"{}"), ("a/c/0", b"1"), ("a/zarr.json", b"{}")])
    with zipfile.ZipFile(path, "a") as zf:
        zf.comment = archive.ozx_comment("0.5")
    problems = archive.verify_zip(path).ozx_problems()
    assert any('says "jsonFirst": true' in p for p in problems)


def test_write_ozx_refuses_a_zip_inside_the_store(ome_stores, tmp_path):
    import shutil

    store = shutil.copytree(ome_stores["0.5"], tmp_path / "nested.ome.zarr")
    (store / "old.ozx").write_bytes(b"PK")
    with pytest.raises(archive.ArchiveError, match="RFC-9 forbids"):
        archive.write_ozx(store, tmp_path / "out.ozx")
