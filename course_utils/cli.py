"""The ``course-utils`` command line."""

from __future__ import annotations

import argparse
import sys


def _inspect(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.markup import escape

    from course_utils.inspect import StoreError, inspect_store

    try:
        summary = inspect_store(args.target)
    except StoreError as error:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(error))}")
        return 2
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        Console().print(summary)
    return 0


def _pins(args: argparse.Namespace) -> int:
    from course_utils import pins

    if args.write:
        for path in pins.write_generated_files():
            print(f"wrote {path}")
        return 0
    stale = pins.stale_generated_files()
    for path in stale:
        print(f"out of date: {path} (run: course-utils pins --write)")
    return 1 if stale else 0


def _sync_notebooks(args: argparse.Namespace) -> int:
    from course_utils import delivery

    changed = delivery.sync(args.notebooks or None, readme=not args.notebooks, check=args.check)
    for path in changed:
        print(f"{'out of date' if args.check else 'updated'}: {path}")
    if args.check and changed:
        print("run: course-utils sync-notebooks")
    return 1 if args.check and changed else 0


def _network(args: argparse.Namespace) -> dict:
    return {"latency_ms": args.latency_ms, "jitter_ms": args.jitter_ms, "bandwidth_mbps": args.bandwidth_mbps}


def _serve_s3(args: argparse.Namespace) -> int:
    from course_utils.servers.serve import serve_s3

    return serve_s3(args.directory, bucket=args.bucket, public=args.public, port=args.port, quiet=args.quiet,
                    **_network(args))


def _serve_http(args: argparse.Namespace) -> int:
    from course_utils.servers.serve import serve_http

    return serve_http(args.directory, port=args.port, quiet=args.quiet, cors=not args.no_cors, **_network(args))


def _add_network_options(parser: argparse.ArgumentParser) -> None:
    """--latency-ms, --jitter-ms, --bandwidth-mbps: answer like a distant server."""
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="milliseconds every request waits before it is answered (default: 0)")
    parser.add_argument("--jitter-ms", type=float, default=0.0,
                        help="up to this many milliseconds more per request, at random (default: 0)")
    parser.add_argument("--bandwidth-mbps", type=float, default=None,
                        help="megabits per second shared by all downloads, and by all uploads (default: no cap)")


def build_parser(grading: bool = True) -> argparse.ArgumentParser:
    """The argument parser for every ``course-utils`` sub-command (``grading=False``: without the grading ones).

    The grading commands come from :mod:`course_utils.grading.cli`, which
    is not imported at all for ``grading=False`` (``main`` runs a command of
    this module, ``inspect`` say, without loading any of the grading code).
    """
    parser = argparse.ArgumentParser(prog="course-utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser(
        "inspect",
        help="summarise a Zarr / OME-Zarr / N5 store (path, .zip/.ozx or URL): objects, "
        "chunks and shards, arrays, OME-Zarr metadata, an .ozx's archive comment",
    )
    inspect.add_argument("target", help="directory, zip file or fsspec URL")
    inspect.add_argument(
        "--json", action="store_true",
        help="print the summary as JSON (StoreSummary.as_dict()) instead of a table",
    )
    inspect.set_defaults(run=_inspect)

    pins = commands.add_parser(
        "pins", help="check (or --write) the files derived from pyproject.toml pins"
    )
    pins.add_argument("--write", action="store_true", help="regenerate them")
    pins.set_defaults(run=_pins)

    serve_s3 = commands.add_parser(
        "serve-s3", help="serve a directory from a local S3 bucket (127.0.0.1) until Ctrl-C"
    )
    serve_s3.add_argument("directory", help="copied into the bucket under its own name")
    serve_s3.add_argument("--bucket", default="course", help="bucket name (default: course)")
    serve_s3.add_argument("--public", action="store_true", help="allow anonymous reads")
    serve_s3.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    serve_s3.add_argument("--quiet", action="store_true", help="do not print each request")
    _add_network_options(serve_s3)
    serve_s3.set_defaults(run=_serve_s3)

    serve_http = commands.add_parser(
        "serve-http", help="serve a directory read-only over HTTP (127.0.0.1) until Ctrl-C"
    )
    serve_http.add_argument("directory", help="the directory to serve")
    serve_http.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    serve_http.add_argument("--quiet", action="store_true", help="do not print each request")
    serve_http.add_argument(
        "--no-cors", action="store_true",
        help="send no CORS headers, so web pages on other origins cannot read the files",
    )
    _add_network_options(serve_http)
    serve_http.set_defaults(run=_serve_http)

    sync = commands.add_parser(
        "sync-notebooks",
        help="put the Colab badge and set-up cells at the top of every notebook "
        "(and the badges in README.md), built from the repository URL in pyproject.toml",
    )
    sync.add_argument(
        "notebooks", nargs="*",
        help="only these notebooks, and not README.md (default: notebooks/*.ipynb and README.md)",
    )
    sync.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    sync.set_defaults(run=_sync_notebooks)

    parser.own_commands = tuple(commands.choices)  # what main() runs without the grading code
    if grading:
        from course_utils.grading.cli import add_commands as add_grading_commands

        add_grading_commands(commands)  # release, collect, autograde, feedback, export, grade, accept
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code.

    A command of this module (``inspect``, ``pins``, the servers,
    ``sync-notebooks``) is parsed without the grading commands, so it
    imports nothing of :mod:`course_utils.grading`; anything else (a
    grading command, ``--help``, a mistake) gets the whole parser.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    light = build_parser(grading=False)
    parser = light if first in light.own_commands and not any(arg in ("-h", "--help") for arg in argv[:argv.index(first)]) \
        else build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
