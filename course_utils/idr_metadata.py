"""The metadata documents of IDR image 6001240, as published, for the offline stand-ins.

The image (study idr0062, two channels of a confocal stack) is public twice on
EMBL-EBI's object store: as OME-Zarr 0.4 (Zarr v2) at
``idr/zarr/v0.4/idr0062A/6001240.zarr``, and as a sharded OME-Zarr 0.5
(Zarr v3) that the 2024 OME-NGFF challenge converted from it, at
``idr/share/ome2024-ngff-challenge/0.0.5/6001240.zarr``. The stand-ins of
:mod:`course_utils.standins` write the documents below byte for byte, so a
reader offline makes the same requests and downloads the same metadata bytes
as it would online; only the pixels are synthetic.

Where each document comes from (nothing here was fetched from the IDR by the
course: CI has no internet; ``tests/test_online.py`` compares them with the
live documents when online tests are run):

OME-Zarr 0.4
    ``.zgroup``, ``.zattrs`` and ``0/.zarray`` are verbatim: HTTP response
    bodies (with their ``Content-Length``: 24, 3,343 and 417 bytes) recorded
    from ``uk1s3.embassy.ebi.ac.uk`` on 2024-05-20/22 in the test cassette
    ``tests/fixtures/http_base.yml`` of keller-mark/pizzarr (commit
    6920e83b4bc554f62a91eee58c5d61645340f9f2, the last to touch it). Their
    writer (omero-zarr 0.4.0, named in ``_creator``) serialises with
    ``json.dumps(indent=4, sort_keys=True)``, ``.zattrs`` with a final newline:
    that rule gives the three recorded bodies exactly.
    ``1/.zarray`` and ``2/.zarray`` are **reconstructed** by the same rule
    from the level shapes: (2, 236, 137, 135) is the seed course's
    ``ome_zarr info`` printout of this image; (2, 236, 68, 67) is
    **assumed** (the same floor-halving of y and x; the 0.5 listing below
    confirms two-digit sizes). One plane per chunk at every level is also
    assumed for levels 1 and 2 (the 0.5 sizes confirm two-digit inner chunks
    at level 2). Whether the arrays have a ``.zattrs`` of their own is not
    recorded anywhere: the stand-in has none.

OME-Zarr 0.5 (the challenge copy)
    The object listing (names and sizes: 24 MiB, 6.0 MiB and 1.6 MiB shards,
    598, 598 and 592 byte ``zarr.json`` per array, 2.7 KiB root ``zarr.json``,
    1.2 KiB ``ro-crate-metadata.json``) is in the README of
    ome/ome2024-ngff-challenge, added on 2024-08-01 by commit 71c61a3
    (released as v0.0.5, 90225b6744183022f45e221760e422b8fed4db92).
    ``samples/other_samples.csv`` there gives shape 2,236,275,271, shards
    2,236,275,271, chunks 1,1,275,271, dimension names c,z,y,x.
    The array ``zarr.json`` documents are **regenerated**: the converter at
    v0.0.5 (``src/ome2024_ngff_challenge/resave.py``, ``convert_array``) asks
    tensorstore's ``zarr3`` driver for one shard per array (``guess_shards``
    returns the whole shape below 10**8 elements), the 0.4 chunk as inner
    chunk, ``bytes`` (little endian) + ``blosc`` (zstd, level 5) inside
    ``sharding_indexed``, and ``bytes`` + ``crc32c`` for the index at the end.
    tensorstore 0.1.86 (the course's pin) writes that spec as compact JSON
    with sorted keys, 598, 598 and 592 bytes: exactly the listed sizes.
    The root ``zarr.json`` is **reconstructed** by the converter's rules
    (``convert_image``): the 0.4 ``.zattrs`` moved under ``attributes.ome``
    with ``"version": "0.5"`` first and every other ``"version"`` removed (the
    one in ``_creator`` too), written by zarr-python's ``v3`` branch of the
    time (the converter's environment installs it from git): ``json.dumps``
    with ``indent=2`` of ``attributes``, ``zarr_format``, ``node_type``. That
    is 2,787 bytes, which the listing shows as 2.7 KiB (without the indent it
    would be 1.2 KiB).
    ``ro-crate-metadata.json`` is **approximate**: an RO-Crate 1.1 document
    with the converter's default name, description and licence (1,213 bytes;
    the real one, 1.2 KiB, may also carry a ``datePublished``).

Assumed everywhere: the pixels. The stand-ins' images are synthetic
(:mod:`course_utils.nuclei`), tuned on the two real chunks of plane 117 that
the same pizzarr cassette holds (LaminB1 and Dapi; blosc-lz4 77,872 and
79,792 bytes; background about 9 and 28, nuclei up to about 1,000-3,000).
"""

from __future__ import annotations

import copy
import json
from typing import Any

__all__ = [
    "LEVEL_SHAPES",
    "LISTED_SIZES_V05",
    "V04_PATH",
    "V05_PATH",
    "v04_documents",
    "v05_documents",
]

#: URL paths of the two copies on ``https://uk1s3.embassy.ebi.ac.uk``.
V04_PATH = "idr/zarr/v0.4/idr0062A/6001240.zarr"
V05_PATH = "idr/share/ome2024-ngff-challenge/0.0.5/6001240.zarr"

#: Shape of each level, (c, z, y, x), finest first (level 2 assumed, see above).
LEVEL_SHAPES: tuple[tuple[int, int, int, int], ...] = (
    (2, 236, 275, 271),
    (2, 236, 137, 135),
    (2, 236, 68, 67),
)

#: The challenge README's listing of the 0.5 copy: object key -> size as listed.
LISTED_SIZES_V05 = {
    "0/c/0/0/0/0": "24MiB",
    "0/zarr.json": "598B",
    "1/c/0/0/0/0": "6.0MiB",
    "1/zarr.json": "598B",
    "2/c/0/0/0/0": "1.6MiB",
    "2/zarr.json": "592B",
    "ro-crate-metadata.json": "1.2KiB",
    "zarr.json": "2.7KiB",
}

# -- OME-Zarr 0.4: the root's attributes, verbatim --------------------------------

_ZATTRS_V04: dict[str, Any] = {
    "_creator": {"name": "omero-zarr", "version": "0.4.0"},
    "multiscales": [
        {
            "axes": [
                {"name": "c", "type": "channel"},
                {"name": "z", "type": "space", "unit": "micrometer"},
                {"name": "y", "type": "space", "unit": "micrometer"},
                {"name": "x", "type": "space", "unit": "micrometer"},
            ],
            "datasets": [
                {
                    "coordinateTransformations": [
                        {"scale": [1.0, 0.5002025531914894, 0.3603981534640209, 0.3603981534640209],
                         "type": "scale"}
                    ],
                    "path": "0",
                },
                {
                    "coordinateTransformations": [
                        {"scale": [1.0, 0.5002025531914894, 0.7207963069280418, 0.7207963069280418],
                         "type": "scale"}
                    ],
                    "path": "1",
                },
                {
                    "coordinateTransformations": [
                        {"scale": [1.0, 0.5002025531914894, 1.4415926138560835, 1.4415926138560835],
                         "type": "scale"}
                    ],
                    "path": "2",
                },
            ],
            "version": "0.4",
        }
    ],
    "omero": {
        "channels": [
            {
                "active": True,
                "coefficient": 1.0,
                "color": "0000FF",
                "family": "linear",
                "inverted": False,
                "label": "LaminB1",
                "window": {"end": 1500.0, "max": 65535.0, "min": 0.0, "start": 0.0},
            },
            {
                "active": True,
                "coefficient": 1.0,
                "color": "FFFF00",
                "family": "linear",
                "inverted": False,
                "label": "Dapi",
                "window": {"end": 1500.0, "max": 65535.0, "min": 0.0, "start": 0.0},
            },
        ],
        "id": 1,
        "rdefs": {"defaultT": 0, "defaultZ": 118, "model": "color"},
        "version": "0.4",
    },
}


def _zarray_v04(shape: tuple[int, ...]) -> dict[str, Any]:
    """A level's ``.zarray``: level 0's, verbatim, with that level's shape and one plane per chunk."""
    return {
        "chunks": [1, 1, shape[2], shape[3]],
        "compressor": {"blocksize": 0, "clevel": 5, "cname": "lz4", "id": "blosc", "shuffle": 1},
        "dimension_separator": "/",
        "dtype": "<u2",
        "fill_value": 0,
        "filters": None,
        "order": "C",
        "shape": list(shape),
        "zarr_format": 2,
    }


def _omero_zarr_json(document: Any) -> str:
    """How omero-zarr wrote these documents: 4-space indent, sorted keys."""
    return json.dumps(document, indent=4, sort_keys=True)


def v04_documents(planes: int | None = None) -> dict[str, str]:
    """Every metadata document of the 0.4 copy: key (under the image) -> its exact text.

    With ``planes``, the documents of an excerpt of that many planes (not
    published: the offline download of notebook 05 copies one): the same
    text but for the z size of each level and ``omero.rdefs.defaultZ``, the
    excerpt's middle plane, as the image's is the middle of its 236.
    """
    attributes = _ZATTRS_V04
    shapes = LEVEL_SHAPES
    if planes is not None:
        if not 0 < planes <= LEVEL_SHAPES[0][1]:
            raise ValueError(f"an excerpt has 1 to {LEVEL_SHAPES[0][1]} planes, not {planes}")
        attributes = copy.deepcopy(_ZATTRS_V04)
        attributes["omero"]["rdefs"]["defaultZ"] = planes // 2
        shapes = tuple((c, planes, y, x) for c, _, y, x in LEVEL_SHAPES)
    documents = {
        ".zgroup": _omero_zarr_json({"zarr_format": 2}),
        ".zattrs": _omero_zarr_json(attributes) + "\n",
    }
    for level, shape in enumerate(shapes):
        documents[f"{level}/.zarray"] = _omero_zarr_json(_zarray_v04(shape))
    return documents


# -- OME-Zarr 0.5: what the challenge's converter made of it --------------------------


def _ome_attributes_v05() -> dict[str, Any]:
    """The converter's rule: version "0.5" first, then every attribute without its "version"."""
    ome: dict[str, Any] = {"version": "0.5"}
    for key, value in copy.deepcopy(_ZATTRS_V04).items():
        if isinstance(value, dict):
            value.pop("version", None)
        if key == "multiscales":
            value[0].pop("version", None)
        ome[key] = value
    return ome


def _array_v05(shape: tuple[int, ...]) -> dict[str, Any]:
    """An array's ``zarr.json``: one shard holding the whole array, one plane per inner chunk."""
    return {
        "chunk_grid": {"configuration": {"chunk_shape": list(shape)}, "name": "regular"},
        "chunk_key_encoding": {"name": "default"},
        "codecs": [
            {
                "configuration": {
                    "chunk_shape": [1, 1, shape[2], shape[3]],
                    "codecs": [
                        {"configuration": {"endian": "little"}, "name": "bytes"},
                        {
                            "configuration": {
                                "blocksize": 0, "clevel": 5, "cname": "zstd", "shuffle": "shuffle", "typesize": 2,
                            },
                            "name": "blosc",
                        },
                    ],
                    "index_codecs": [
                        {"configuration": {"endian": "little"}, "name": "bytes"},
                        {"name": "crc32c"},
                    ],
                },
                "name": "sharding_indexed",
            }
        ],
        "data_type": "uint16",
        "dimension_names": ["c", "z", "y", "x"],
        "fill_value": 0,
        "node_type": "array",
        "shape": list(shape),
        "zarr_format": 3,
    }


_RO_CRATE_V05: dict[str, Any] = {
    "@context": [
        "https://w3id.org/ro/crate/1.1/context",
        {
            "organism_classification": "https://schema.org/taxonomicRange",
            "BioChemEntity": "https://schema.org/BioChemEntity",
            "channel": "https://www.openmicroscopy.org/Schemas/Documentation/Generated/OME-2016-06/ome_xsd.html#Channel",
            "obo": "http://purl.obolibrary.org/obo/",
            "FBcv": "http://ontobee.org/ontology/FBcv/",
            "acquisiton_method": {"@reverse": "https://schema.org/result", "@type": "@id"},
            "biological_entity": "https://schema.org/about",
            "biosample": "http://purl.obolibrary.org/obo/OBI_0002648",
            "preparation_method": "https://www.wikidata.org/wiki/Property:P1537",
            "specimen": "http://purl.obolibrary.org/obo/HSO_0000308",
        },
    ],
    "@graph": [
        {
            "@id": "./",
            "@type": "Dataset",
            "name": "dataset name",
            "description": "dataset description",
            "licence": "https://creativecommons.org/licenses/by/4.0/",
        },
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"},
            "about": {"@id": "./"},
        },
    ],
}


def v05_documents() -> dict[str, str]:
    """Every metadata document of the 0.5 copy: key (under the image) -> its text (see the module docstring)."""
    root = {"attributes": {"ome": _ome_attributes_v05()}, "zarr_format": 3, "node_type": "group"}
    documents = {
        "zarr.json": json.dumps(root, indent=2),  # zarr-python v3 branch, mid-2024
        "ro-crate-metadata.json": json.dumps(_RO_CRATE_V05, indent=2),  # approximate
    }
    for level, shape in enumerate(LEVEL_SHAPES):  # tensorstore's zarr3 driver
        documents[f"{level}/zarr.json"] = json.dumps(_array_v05(shape), separators=(",", ":"), sort_keys=True)
    return documents
