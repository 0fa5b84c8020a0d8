"""OME-Zarr metadata in group attributes: images, labels, plates, wells, bioformats2raw.

OME-Zarr 0.5 keeps its metadata under ``attributes["ome"]`` (in
``zarr.json``); 0.4 and earlier at the top of ``.zattrs``. Both are read.
What each group holds follows the OME-NGFF specification:

* ``multiscales``: an image, its datasets one array per resolution level;
  with ``image-label`` also a label image;
* ``labels``: the names of the label images below a ``labels`` group;
* ``plate`` (rows, columns, wells, field count, acquisitions) and ``well``
  (its fields of view) for high-content screening;
* ``bioformats2raw.layout`` (transitional): a collection of images in groups
  ``0``, ``1``, ..., with ``OME/METADATA.ome.xml`` beside them and an
  optional ``series`` list in the ``OME`` group.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from course_utils.keys import natural_key

__all__ = ["OmeDescription", "describe_ome", "ome_attributes", "root_image"]

#: Names listed in a description before "..." cuts the list short.
_SHOWN = 6


def ome_attributes(attrs: Any) -> Mapping[str, Any]:
    """The OME metadata of a group: ``attributes["ome"]`` (0.5) or the attributes (0.4)."""
    if not isinstance(attrs, Mapping):
        return {}
    ome = attrs.get("ome")
    return ome if isinstance(ome, Mapping) else attrs


def _names(values: list[str]) -> str:
    shown = ", ".join(values[:_SHOWN])
    return shown + (f", ... ({len(values):,} in all)" if len(values) > _SHOWN else "")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def root_image(attrs: Any) -> tuple[str | None, int | None, list[str]]:
    """(OME version, number of scales, dataset paths) of the image a group's attributes describe."""
    ome = ome_attributes(attrs)
    version = ome.get("version") if isinstance(attrs, Mapping) and "ome" in attrs else None
    multiscales = _list(ome.get("multiscales"))
    n_scales = None
    paths: list[str] = []
    if multiscales and isinstance(multiscales[0], Mapping):
        first = multiscales[0]
        if version is None:
            version = first.get("version")
        datasets = first.get("datasets")
        if isinstance(datasets, list):
            n_scales = len(datasets)
            paths = [
                str(d["path"]).strip("/")
                for d in datasets
                if isinstance(d, Mapping) and isinstance(d.get("path"), (str, int))
            ]
    if version is None:
        for key in ("plate", "well"):
            node = ome.get(key)
            if isinstance(node, Mapping) and node.get("version") is not None:
                version = node["version"]
    if version is not None and not isinstance(version, (str, int, float)):
        version = None
    return (None if version is None else str(version)), n_scales, paths


@dataclass
class OmeDescription:
    """What the OME-Zarr metadata of a hierarchy says, group by group."""

    version: str | None = None
    n_scales: int | None = None
    nodes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _join(base: str, path: str) -> str:
    path = path.strip("/")
    return f"{base}/{path}" if base and path else (base or path)


def _image(path: str, ome: Mapping[str, Any], arrays: Collection[str], notes: list[str]) -> str:
    _, n_scales, datasets = root_image({"ome": ome})
    label = ome.get("image-label")
    what = "label image" if isinstance(label, Mapping) else "image"
    name = None
    multiscales = _list(ome.get("multiscales"))
    if multiscales and isinstance(multiscales[0], Mapping):
        name = multiscales[0].get("name")
    text = what + (f" {name!r}" if isinstance(name, str) and name else "")
    if n_scales is not None:
        text += f": {n_scales} scale{'s' if n_scales != 1 else ''}"
        if datasets:
            text += f" ({_names(datasets)})"
    missing = [d for d in datasets if _join(path, d) not in arrays]
    if missing and arrays:
        notes.append(
            f"{path or '(root)'}: the multiscales lists {_names(missing)}, "
            "which this store does not hold as arrays"
        )
    return text


def _plate(plate: Mapping[str, Any]) -> str:
    name = plate.get("name")
    rows, columns = _list(plate.get("rows")), _list(plate.get("columns"))
    wells = _list(plate.get("wells"))
    text = "plate" + (f" {name!r}" if isinstance(name, str) and name else "")
    text += f": {len(rows)} rows x {len(columns)} columns, {len(wells):,} well{'s' if len(wells) != 1 else ''}"
    fields = plate.get("field_count")
    if isinstance(fields, int) and not isinstance(fields, bool):
        text += f", up to {fields} field{'s' if fields != 1 else ''} per well"
    acquisitions = _list(plate.get("acquisitions"))
    if acquisitions:
        text += f", {len(acquisitions)} acquisition{'s' if len(acquisitions) != 1 else ''}"
    return text


def _well(well: Mapping[str, Any]) -> str:
    images = [
        str(image["path"]) for image in _list(well.get("images"))
        if isinstance(image, Mapping) and isinstance(image.get("path"), (str, int))
    ]
    return f"well: {len(images)} field{'s' if len(images) != 1 else ''}" + (
        f" ({_names(images)})" if images else ""
    )


def describe_ome(
    groups: Mapping[str, Any],
    arrays: Collection[str],
    files: Collection[str] = (),
) -> OmeDescription:
    """Describe the OME-Zarr metadata found in ``groups`` (path -> attributes).

    ``arrays`` are the array paths of the store (to check that every
    multiscales dataset exists); ``files`` the keys that are neither
    metadata nor data (to find ``OME/METADATA.ome.xml``).
    """
    found = OmeDescription()
    root = groups.get("")
    found.version, found.n_scales, _ = root_image(root)
    for path in sorted(groups, key=natural_key):
        attrs = groups[path]
        ome = ome_attributes(attrs)
        if not ome:
            continue
        parts = []
        if "bioformats2raw.layout" in ome:
            parts.append(_bioformats2raw(path, ome, groups, files, found.notes))
        if isinstance(ome.get("plate"), Mapping):
            parts.append(_plate(ome["plate"]))
        if isinstance(ome.get("well"), Mapping):
            parts.append(_well(ome["well"]))
        if isinstance(ome.get("multiscales"), list):
            parts.append(_image(path, ome, arrays, found.notes))
        labels = ome.get("labels")
        if isinstance(labels, list):
            names = [str(label) for label in labels if isinstance(label, (str, int))]
            parts.append(f"labels: {_names(names) if names else 'none listed'}")
        series = ome.get("series")
        if isinstance(series, list) and path.rpartition("/")[2] == "OME":
            parts.append(f"OME group, series {_names([str(s) for s in series])}")
        if parts:
            found.nodes[path] = "; ".join(parts)
            if found.version is None:
                version, _, _ = root_image(attrs)
                found.version = version
    return found


def _bioformats2raw(
    path: str, ome: Mapping[str, Any], groups: Mapping[str, Any],
    files: Collection[str], notes: list[str],
) -> str:
    layout = ome.get("bioformats2raw.layout")
    text = f"bioformats2raw layout {layout}"
    if layout != 3:
        notes.append(f"{path or '(root)'}: bioformats2raw.layout is {layout!r}; the specification requires 3")
    ome_group = _join(path, "OME")
    series = ome_attributes(groups.get(ome_group)).get("series")
    if isinstance(series, list):
        images = [str(s) for s in series]
    else:  # no "series": consecutively numbered groups 0, 1, 2, ...
        prefix = f"{path}/" if path else ""
        images = sorted(
            (p[len(prefix):] for p in groups
             if p.startswith(prefix) and p[len(prefix):].isdigit()),
            key=int,
        )
    text += f", {len(images)} image{'s' if len(images) != 1 else ''}"
    if images:
        text += f" ({_names(images)})"
    xml = _join(ome_group, "METADATA.ome.xml")
    text += ", with " if xml in files else ", without "
    return text + "OME/METADATA.ome.xml"
