"""The command line: ``python -m fgan_bench [--plugins PATH] COMMAND ...``.

Commands:
    run --divergence SPEC     train one f-GAN and write its run directory
    list divergences|datasets what is registered, and where it came from
    check-divergence SPEC...  the math validator's report; exit status 1 if a check fails

Bad input (an unknown name, a broken plugin) ends with one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from fgan_bench import baselines, datasets, divergences, plugins
from fgan_bench._lazy import import_tensorflow_quietly
from fgan_bench.errors import ConfigError, FganBenchError

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


def _list(args: argparse.Namespace) -> int:
    if args.what == "metrics":
        from fgan_bench import metrics

        rows = [["name", "description", "applies to", "by default", "source"]]
        for entry in metrics.metric_entries():
            metric = entry.item
            default = "where it applies" if metric.default and metric.where != "every dataset" else (
                "yes" if metric.default else "no (--metrics)")
            rows.append([entry.name, metric.description, metric.where or "-", default, entry.source])
        print(_table(rows))
        return 0
    if args.what == "models":
        from fgan_bench import models

        rows = [["name", "data", "options", "description", "source"]]
        for entry in models.model_entries():
            model = entry.item
            rows.append([entry.name, model.kind, ", ".join(model.options) or "-", model.description, entry.source])
        print(_table(rows))
        return 0
    if args.what == "baselines":
        print(_table(_baseline_rows()))
        return 0
    if args.what == "datasets":
        rows = [["name", "parameters", "description", "source"]]
        for entry in datasets.dataset_entries():
            doc = (entry.item.__doc__ or "").strip().splitlines()
            rows.append([entry.name, datasets.dataset_parameters(entry.item), doc[0] if doc else "", entry.source])
        print(_table(rows))
        return 0
    rows = [["name", "f(u)", "dom f*", "f'(1)", "r = (f')⁻¹", "source"]]
    for entry in divergences.divergence_entries():
        item = entry.item
        ratio = divergences.density_ratio_status(item)
        if isinstance(item, divergences.DivergenceFamily):
            rows.append(
                [item.usage, item.f_formula, item.domain_formula, item.f_prime_at_1_formula, ratio, entry.source]
            )
        else:
            rows.append([item.name, item.f_formula, str(item.domain), f"{item.f_prime_at_1:.6g}", ratio, entry.source])
    for entry in baselines.baseline_entries():  # named like divergences, marked (see: list baselines)
        rows.append([entry.item.usage, "baseline: not an f-divergence", "-", "-", "-", entry.source])
    print(_table(rows))
    return 0


def _baseline_rows() -> list[list[str]]:
    """``list baselines``: each non-f loss, its published run options and where it came from."""
    rows = [["name", "description", "published options", "source"]]
    for entry in baselines.baseline_entries():
        defaults = ", ".join(f"{k}={v}" for k, v in entry.item.run_defaults.items()) or "-"
        rows.append([entry.item.usage, entry.item.description, defaults, entry.source])
    return rows


def _check_divergence(args: argparse.Namespace) -> int:
    if args.all:
        items = [entry.item for entry in divergences.divergence_entries()]
    elif args.specs:
        # Unvalidated: a failing family member gets its full report here, not a one-line refusal.
        items = [divergences.get_divergence(spec, validated=False) for spec in args.specs]
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


def _number(kind: type):
    """An argparse type for ``kind`` (int or float) whose error names the expected type."""

    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None

    parse.__name__ = kind.__name__
    return parse


def _add_run_parser(commands) -> None:
    """``run``: one flag per :class:`~fgan_bench.config.RunConfig` field, from its :class:`Option`."""
    from fgan_bench.config import OPTIONS, RunConfig, field_type

    run_parser = commands.add_parser(
        "run",
        help="train one f-GAN",
        description="Train one f-GAN and write reports/runs/<run-id>/. Defaults that depend on the data "
        "(vector data or images) or on the model say so.",
    )
    groups = {}
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    for name, meta in OPTIONS.items():
        if not meta.cli:
            continue
        if meta.group not in groups:
            groups[meta.group] = run_parser.add_argument_group(meta.group)
        kind = field_type(name)
        default = meta.default_text or (
            "off" if defaults[name] is False else "on" if defaults[name] is True else f"{defaults[name]}"
        )
        choices = meta.choices() if callable(meta.choices) else meta.choices
        help_text = meta.help + (f": {', '.join(choices)}" if choices and name != "model" else "")
        flag = f"--{name.replace('_', '-')}"
        if kind is bool:
            groups[meta.group].add_argument(flag, dest=name, action="store_true", default=argparse.SUPPRESS,
                                            help=f"{help_text} (default: {default})")
        else:
            groups[meta.group].add_argument(
                flag, dest=name, type=_number(kind) if kind in (int, float) else str, default=argparse.SUPPRESS,
                metavar=name.upper(), help=f"{help_text} (default: {default})",
            )
    output = groups.setdefault("output", run_parser.add_argument_group("output"))
    output.add_argument("--config", metavar="CONFIG_JSON",
                        help="start from a stored config.json (or run directory); other flags override it")
    output.add_argument("--out", help="output root; runs go to OUT/runs/<run-id>/ (default: reports)")
    output.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its checkpoint, "
                        "in RUN_DIR itself, with the options stored there (no other run option is taken)")
    output.add_argument("--overwrite", action="store_true", help="start afresh over an existing run directory")
    output.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_plugins_option(run_parser, default=argparse.SUPPRESS)
    run_parser.set_defaults(handler=_run)


def _stored_config(path: str | Path):
    """The config stored at ``path``: a ``config.json`` or a run directory holding one."""
    from fgan_bench import rundir
    from fgan_bench.config import RunConfig

    path = Path(path)
    return rundir.RunDirectory(path).read_config() if path.is_dir() else RunConfig.from_dict(rundir.read_json(path))


def _run(args: argparse.Namespace) -> int:
    from fgan_bench.config import OPTIONS, RunConfig
    from fgan_bench.run_status import explain
    from fgan_bench.runner import run, run_directory

    given = {name: getattr(args, name) for name in OPTIONS if hasattr(args, name)}
    directory = None
    if args.resume:
        ignored = [f"--{n.replace('_', '-')}" for n in given if OPTIONS[n].cli] + [
            flag for flag, value in (("--config", args.config), ("--out", args.out), ("--overwrite", args.overwrite))
            if value
        ]
        if ignored:
            raise FganBenchError(
                f"--resume continues {args.resume} with the options stored in its config.json; "
                f"it takes no {', '.join(ignored)}: to change them start a new run with --config {args.resume}"
            )
        directory = Path(args.resume)
        if not directory.is_dir():
            raise FganBenchError(f"--resume {directory}: no such run directory")
        config = _stored_config(directory)
        plugins.load_plugins(config.plugins)
        # <out>/runs/<run-id> as run writes it; a directory moved elsewhere gets its parent as out
        # (where a multi-worker run's non-chief keeps its scratch folder, .workers/).
        out = directory.parent.parent if directory.parent.name == "runs" else directory.parent
    else:
        base = {}
        if args.config:
            stored = _stored_config(args.config)
            plugins.load_plugins(stored.plugins)
            base = stored.to_dict()
        stored_every = base.get("log_every")
        if stored_every and "log_every" not in given and isinstance(given.get("steps"), int) \
                and given["steps"] % stored_every:
            base.pop("log_every")  # derived from the stored steps (steps/20): derive it for the new ones
        values = {**base, **given}
        named = [str(Path(p).resolve()) for p in args.plugins]
        values["plugins"] = list(dict.fromkeys([*base.get("plugins", ()), *named]))
        if not values.get("divergence"):
            raise FganBenchError(
                "run needs --divergence SPEC, e.g. --divergence reverse_kl (see: python -m fgan_bench list divergences)"
            )
        config = RunConfig.from_dict(values)
        out = args.out or "reports"
    resolved = config.resolve()  # bad options fail here, before TensorFlow starts; resolved once
    resolved.skipped_metrics  # noqa: B018 - a run no metric can evaluate is refused here too
    directory = directory or run_directory(resolved.config, out)
    import_tensorflow_quietly()
    result = run(resolved, out, resume=bool(args.resume), overwrite=args.overwrite, progress=not args.quiet,
                 announce=True, directory=directory)
    if result.get("already_done"):
        print(f"already done: {directory / 'result.json'} (pass --overwrite to train again)")
    quality = _summary(result.get("quality", {}), resolved.config.divergence)
    estimate = result.get("final_metrics", {}).get("divergence_estimate")
    for warning in result.get("warnings", ()):
        print(f"warning: {warning}")
    print(
        f"{result['status']} at step {result['steps']} in {result['wall_time_s']:.1f} s"
        + (f"; divergence estimate {estimate:.4g}" if estimate is not None else "")
        + (f"; {quality}" if quality else "")
        + f"\n{explain(result)}\nrun directory: {directory}"
    )
    return 0


def _summary(values: dict, divergence: str | None = None) -> str:
    """The headline metrics, one line: the run's own true D_f, not all sixteen."""
    shown = {k: v for k, v in values.items()
             if not k.startswith("true_") or k == f"true_{divergence}"}
    return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items())


def _evaluate(args: argparse.Namespace) -> int:
    from fgan_bench.evaluation import evaluate_run

    if args.samples is not None and args.samples <= 1:
        raise FganBenchError(f"--samples must be at least 2, got {args.samples}")
    names = [n.strip() for n in args.metrics.split(",") if n.strip()] if args.metrics else None
    if names:
        from fgan_bench import rundir
        from fgan_bench.metrics import check_metric_names, get_metric

        for name in names:
            get_metric(name)  # a mistyped name first, with the closest known ones
        config = rundir.RunDirectory(args.run_dir).read_config()
        plugins.load_plugins(config.plugins)
        # Unknown metrics, and metrics that do not apply to the run's data, fail here, before TensorFlow starts.
        check_metric_names(names, config.dataset)
    import_tensorflow_quietly()
    evaluation = evaluate_run(args.run_dir, metrics=names, num_samples=args.samples)
    rows = [["metric", "value"]] + [[k, f"{v:.6g}"] for k, v in evaluation["metrics"].items()]
    print(_table(rows))
    print(f"{len(evaluation['metrics'])} values from {evaluation['samples']} samples in {evaluation['seconds']:.1f} s; "
          f"written to {Path(args.run_dir) / 'evaluation.json'}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from fgan_bench.sweeps import run_sweep

    failed = run_sweep(args.file, out=args.out, jobs=args.jobs, executor=args.executor,
                       patterns=args.filter or (), dry_run=args.dry_run, report=not args.no_report,
                       plugins=[*plugins.plugin_paths_from_environment(), *args.plugins],
                       cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run,
                       storage=args.storage, population=args.population)
    return min(failed, 100)


def _report(args: argparse.Namespace) -> int:
    from fgan_bench.sweeps.report import write_report

    print(f"report: {write_report(args.sweep_dir)}")
    return 0


#: A number, including negative ones and exponents (``-1e-3``), ``inf`` and ``nan``: a value, never a flag.
_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with what Python 3.11's lacks: ``-1e-3`` read as a number, and a did-you-mean for
    a mistyped option (over every subcommand's options)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NUMBER

    def _all_option_strings(self) -> list[str]:
        names = list(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for parser in action.choices.values():
                    names += list(parser._option_string_actions)
        return names

    def error(self, message: str):
        match = re.match(r"unrecognized arguments: (.*)", message)
        if match:
            for word in match.group(1).split():
                if word.startswith("--"):
                    close = difflib.get_close_matches(word.split("=")[0], self._all_option_strings(), n=1, cutoff=0.6)
                    if close:
                        message += f"; did you mean {close[0]}?"
                        break
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m fgan_bench",
        description="fgan-bench: which f-divergence should you train your GAN with, on your data?",
    )
    _add_plugins_option(parser, default=[])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_run_parser(commands)

    list_parser = commands.add_parser(
        "list", help="list registered divergences (and baselines), baselines, datasets, metrics or models")
    list_parser.add_argument("what", choices=["divergences", "baselines", "datasets", "metrics", "models"],
                             help="what to list")
    _add_plugins_option(list_parser, default=argparse.SUPPRESS)
    list_parser.set_defaults(handler=_list)

    sweep_parser = commands.add_parser(
        "sweep", help="run every combination of a sweep file (resumable); exit status: the number of failed runs"
    )
    sweep_parser.add_argument("file", metavar="FILE", help="a sweep definition, e.g. benchmarks/smoke.toml")
    sweep_parser.add_argument("--jobs", type=int, default=1, help="runs at once, in separate processes (default 1)")
    sweep_parser.add_argument("--executor", default="local", help="local (processes) or ray (Ray tasks)")
    sweep_parser.add_argument("--population", type=int, default=None, metavar="K",
                              help="train up to K compatible runs in one compiled step (as population = K in "
                                   "[defaults]; see docs/population.md)")
    sweep_parser.add_argument("--cpus-per-run", type=float, default=None, metavar="N",
                              help="CPUs each run's Ray task requests (default: this machine's cores / --jobs)")
    sweep_parser.add_argument("--gpus-per-run", type=float, default=0, metavar="N",
                              help="GPUs each run's Ray task requests; 0.5 packs two runs per GPU (default 0)")
    sweep_parser.add_argument("--filter", action="append", metavar="GLOB",
                              help="only runs whose id or dataset/divergence/seed matches, e.g. 'ring8/kl/*'")
    sweep_parser.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    sweep_parser.add_argument("--no-report", action="store_true", help="do not write the report at the end")
    sweep_parser.add_argument("--out", default="reports", help="output root; the sweep goes to OUT/<name>/")
    sweep_parser.add_argument("--storage", metavar="URL",
                              help="a protocol's Optuna storage (default: OUT/<name>/study.journal)")
    _add_plugins_option(sweep_parser, default=argparse.SUPPRESS)
    sweep_parser.set_defaults(handler=_sweep)

    report_parser = commands.add_parser("report", help="write a sweep's report.html and summary.csv")
    report_parser.add_argument("sweep_dir", metavar="SWEEP_DIR", help="a sweep folder, e.g. reports/smoke")
    report_parser.set_defaults(handler=_report)

    evaluate_parser = commands.add_parser(
        "evaluate", help="recompute a run's metrics from its checkpoint (writes evaluation.json)"
    )
    evaluate_parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory, e.g. reports/runs/<run-id>")
    evaluate_parser.add_argument("--metrics", help="comma-separated metric names (default: every default metric)")
    evaluate_parser.add_argument("--samples", type=int, help="generated samples to evaluate (default: the run's)")
    _add_plugins_option(evaluate_parser, default=argparse.SUPPRESS)
    evaluate_parser.set_defaults(handler=_evaluate)

    check_parser = commands.add_parser(
        "check-divergence", help="run the math validator on divergences (exit 1 if a check fails)"
    )
    check_parser.add_argument("specs", nargs="*", metavar="SPEC", help="e.g. kl, alpha:0.5, js_weighted:0.3")
    check_parser.add_argument("--all", action="store_true", help="check every registered divergence")
    _add_plugins_option(check_parser, default=argparse.SUPPRESS)
    check_parser.set_defaults(handler=_check_divergence)
    return parser


DEBUG_VARIABLE = "FGAN_BENCH_DEBUG"


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status.

    No command prints a Python traceback unless ``FGAN_BENCH_DEBUG=1``: a user error is one
    line naming the fix (status 2), an unexpected exception one line with its type (status 1).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")
    try:
        plugins.load_plugins([*plugins.plugin_paths_from_environment(), *args.plugins])
        return args.handler(args)
    except ConfigError as error:
        print(f"{parser.prog}: error: {error.worded(error.flag)}", file=sys.stderr)
        return EXIT_USAGE
    except FganBenchError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        if getattr(error, "details", ""):  # a refused plugin divergence: the check table it was refused by
            print(error.details, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the last guard: one line, never a traceback
        if debug:
            raise
        message = str(error).strip().splitlines()
        print(
            f"{parser.prog}: error: {type(error).__name__}: {message[-1] if message else ''} "
            f"(set {DEBUG_VARIABLE}=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_CHECK_FAILED
