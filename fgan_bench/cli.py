"""The command line: ``python -m fgan_bench [--plugins PATH] COMMAND ...``.

Commands:
    list divergences          every registered divergence: name, f, dom f*, f'(1), source
    check-divergence SPEC...  the math validator's report; exit status 1 if a check fails

Bad input (an unknown name, a broken plugin) ends with one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fgan_bench import divergences, plugins
from fgan_bench.errors import FganBenchError

EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2


def _add_plugins_option(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument(
        "--plugins",
        action="append",
        default=default,
        metavar="PATH",
        help="a plugin .py file or a folder of them; repeatable; also $FGAN_BENCH_PLUGINS",
    )


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _list_divergences(_: argparse.Namespace) -> int:
    rows = [["name", "f(u)", "dom f*", "f'(1)", "source"]]
    for entry in divergences.divergence_entries():
        item = entry.item
        if isinstance(item, divergences.DivergenceFamily):
            rows.append([item.usage, item.f_formula, item.domain_formula, item.f_prime_at_1_formula, entry.source])
        else:
            rows.append([item.name, item.f_formula, str(item.domain), f"{item.f_prime_at_1:.6g}", entry.source])
    print(_table(rows))
    return 0


def _check_divergence(args: argparse.Namespace) -> int:
    if args.all:
        items = [entry.item for entry in divergences.divergence_entries()]
    elif args.specs:
        items = [divergences.get_divergence(spec) for spec in args.specs]
    else:
        raise FganBenchError("check-divergence needs a SPEC (e.g. 'kl' or 'alpha:0.5') or --all")
    reports = [report for item in items for report in divergences.validate(item)]
    print("\n\n".join(report.format() for report in reports))
    failed = [report.spec for report in reports if not report.ok]
    if len(reports) > 1:
        print(
            f"\n{len(reports) - len(failed)} of {len(reports)} divergences passed"
            + (f"; failed: {', '.join(failed)}" if failed else "")
        )
    return EXIT_CHECK_FAILED if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fgan_bench",
        description="fgan-bench: which f-divergence should you train your GAN with, on your data?",
    )
    _add_plugins_option(parser, default=[])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    list_parser = commands.add_parser("list", help="list registered divergences")
    list_parser.add_argument("what", choices=["divergences"], help="what to list")
    _add_plugins_option(list_parser, default=argparse.SUPPRESS)
    list_parser.set_defaults(handler=_list_divergences)

    check_parser = commands.add_parser(
        "check-divergence", help="run the math validator on divergences (exit 1 if a check fails)"
    )
    check_parser.add_argument("specs", nargs="*", metavar="SPEC", help="e.g. kl, alpha:0.5, js_weighted:0.3")
    check_parser.add_argument("--all", action="store_true", help="check every registered divergence")
    _add_plugins_option(check_parser, default=argparse.SUPPRESS)
    check_parser.set_defaults(handler=_check_divergence)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        plugins.load_plugins([*plugins.plugin_paths_from_environment(), *args.plugins])
        return args.handler(args)
    except FganBenchError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
