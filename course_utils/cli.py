"""The ``course-utils`` command line."""

from __future__ import annotations

import argparse
import sys


def _inspect(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from course_utils.inspect import StoreError, inspect_store

    console = Console()
    try:
        summary = inspect_store(args.target)
    except StoreError as error:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(error))}")
        return 2
    console.print(summary)
    return 0


def _pins(args: argparse.Namespace) -> int:
    from course_utils import pins

    if args.write:
        for path in pins.write_derived_files():
            print(f"wrote {path}")
        return 0
    stale = pins.stale_derived_files()
    for path in stale:
        print(f"out of date: {path} (run: course-utils pins --write)")
    return 1 if stale else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every ``course-utils`` sub-command."""
    parser = argparse.ArgumentParser(prog="course-utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser(
        "inspect", help="summarise a Zarr / OME-Zarr store (path, .zip/.ozx or URL)"
    )
    inspect.add_argument("target", help="directory, zip file or fsspec URL")
    inspect.set_defaults(run=_inspect)

    pins = commands.add_parser(
        "pins", help="check (or --write) the files derived from pyproject.toml pins"
    )
    pins.add_argument("--write", action="store_true", help="regenerate them")
    pins.set_defaults(run=_pins)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
