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
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from fgan_bench import datasets, divergences, plugins
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


def _list(args: argparse.Namespace) -> int:
    if args.what == "metrics":
        from fgan_bench import metrics

        rows = [["name", "description", "default", "source"]]
        for entry in metrics.metric_entries():
            rows.append([entry.name, entry.item.description, "yes" if entry.item.default else "no", entry.source])
        print(_table(rows))
        return 0
    if args.what == "datasets":
        rows = [["name", "description", "source"]]
        for entry in datasets.dataset_entries():
            doc = (entry.item.__doc__ or "").strip().splitlines()
            rows.append([entry.name, doc[0] if doc else "", entry.source])
        print(_table(rows))
        return 0
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


def _add_run_parser(commands) -> None:
    from fgan_bench.config import RunConfig

    run_parser = commands.add_parser(
        "run",
        help="train one f-GAN",
        description="Train one f-GAN and write reports/runs/<run-id>/.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    run_parser.add_argument("--divergence", help="divergence spec, e.g. reverse_kl, alpha:0.5 (required)")
    run_parser.add_argument(
        "--dataset",
        default="ring8",
        help="dataset spec: ring8, grid25, spiral, mixture1d, digits, mnist, fashion_mnist, file:path=FILE",
    )
    groups = {
        "training": [
            "steps",
            "batch_size",
            "generator_lr",
            "critic_lr",
            "optimizer",
            "beta1",
            "beta2",
            "momentum",
            "clip_norm",
            "objective",
            "schedule",
            "critic_steps",
            "seed",
        ],
        "model": ["model", "latent_dim", "width", "depth", "filters"],
        "execution": ["strategy", "steps_per_execution", "log_every", "num_samples", "eval_every"],
    }
    helps = {
        "steps": "training steps (generator updates)",
        "objective": "saddle or nonsaturating",
        "schedule": "simultaneous (f-GAN single-step) or alternating",
        "critic_steps": "critic updates per generator update (alternating)",
        "model": "mlp, dcgan or linear (default: the dataset's)",
        "width": "MLP hidden units",
        "depth": "MLP hidden layers",
        "filters": "DCGAN base filters",
        "strategy": "default, onedevice, mirrored or multiworker (TF_CONFIG)",
        "optimizer": "adam or sgd",
        "clip_norm": "clip each network's gradient to this global norm; 0: none (default: 1 for vector data)",
        "log_every": "steps per metrics row and checkpoint",
        "num_samples": "final samples to save and evaluate",
        "eval_every": "evaluate the metrics every N steps too (0: at the end only)",
    }
    fields = {f.name: f for f in dataclasses.fields(RunConfig)}
    for title, names in groups.items():
        group = run_parser.add_argument_group(title)
        for name in names:
            default = fields[name].default
            kind = (
                float
                if name in ("generator_lr", "critic_lr", "beta1", "beta2", "momentum", "clip_norm")
                else (
                    int
                    if name
                    in (
                        "steps",
                        "batch_size",
                        "critic_steps",
                        "seed",
                        "latent_dim",
                        "width",
                        "depth",
                        "filters",
                        "steps_per_execution",
                        "log_every",
                        "num_samples",
                        "eval_every",
                    )
                    else str
                )
            )
            group.add_argument(
                f"--{name.replace('_', '-')}", dest=name, type=kind, default=default, help=helps.get(name, " ")
            )
    execution = run_parser.add_argument_group("execution")
    execution.add_argument("--mixed-precision", action="store_true", help="mixed_bfloat16 compute")
    execution.add_argument("--jit", action="store_true", help="XLA-compile the training step")
    output = run_parser.add_argument_group("output")
    output.add_argument("--out", default="reports", help="output root; runs go to OUT/runs/<run-id>/")
    output.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its checkpoint")
    output.add_argument("--overwrite", action="store_true", help="start afresh over an existing run directory")
    output.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_plugins_option(run_parser, default=argparse.SUPPRESS)
    run_parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from fgan_bench.config import RunConfig

    if args.resume:
        directory = Path(args.resume)
        if not (directory / "config.json").is_file():
            raise FganBenchError(f"{directory} is not a run directory (no config.json)")
        config = RunConfig.from_dict(json.loads((directory / "config.json").read_text()))
        plugins.load_plugins(config.plugins)
        out = directory.parent.parent
    else:
        if not args.divergence:
            raise FganBenchError(
                "run needs --divergence SPEC, e.g. --divergence reverse_kl (see: python -m fgan_bench list divergences)"
            )
        names = [f.name for f in dataclasses.fields(RunConfig) if f.name != "plugins"]
        values = {name: getattr(args, name) for name in names if hasattr(args, name)}
        config = RunConfig(**values, plugins=tuple(str(Path(p).resolve()) for p in args.plugins))
        out = args.out
    from fgan_bench.runner import run

    resolved = config.resolved()
    print(
        f"run {resolved.run_id}: {resolved.divergence} on {resolved.dataset}, {resolved.steps} steps "
        f"(model {resolved.model}, batch {resolved.batch_size}, seed {resolved.seed}, strategy {resolved.strategy})"
    )
    result = run(config, out, resume=bool(args.resume), overwrite=args.overwrite, progress=not args.quiet)
    directory = Path(out) / "runs" / resolved.run_id
    if result.get("already_done"):
        print(f"already done: {directory / 'result.json'} (pass --overwrite to train again)")
    quality = _summary(result.get("quality", {}), resolved.divergence)
    estimate = result.get("final_metrics", {}).get("divergence_estimate")
    print(
        f"{result['status']} at step {result['steps']} in {result['wall_time_s']:.1f} s"
        + (f"; divergence estimate {estimate:.4g}" if estimate is not None else "")
        + (f"; {quality}" if quality else "")
        + f"\nrun directory: {directory}"
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
        from fgan_bench.metrics import get_metric

        for name in names:
            get_metric(name)  # unknown names fail here, before TensorFlow starts
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
                       plugins=[*plugins.plugin_paths_from_environment(), *args.plugins], storage=args.storage)
    return min(failed, 100)


def _report(args: argparse.Namespace) -> int:
    from fgan_bench.sweeps.report import write_report

    print(f"report: {write_report(args.sweep_dir)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fgan_bench",
        description="fgan-bench: which f-divergence should you train your GAN with, on your data?",
    )
    _add_plugins_option(parser, default=[])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_run_parser(commands)

    list_parser = commands.add_parser("list", help="list registered divergences, datasets or metrics")
    list_parser.add_argument("what", choices=["divergences", "datasets", "metrics"], help="what to list")
    _add_plugins_option(list_parser, default=argparse.SUPPRESS)
    list_parser.set_defaults(handler=_list)

    sweep_parser = commands.add_parser(
        "sweep", help="run every combination of a sweep file (resumable); exit status: the number of failed runs"
    )
    sweep_parser.add_argument("file", metavar="FILE", help="a sweep definition, e.g. benchmarks/smoke.toml")
    sweep_parser.add_argument("--jobs", type=int, default=1, help="runs at once, in separate processes (default 1)")
    sweep_parser.add_argument("--executor", default="local", help="local (processes) or ray (Ray tasks)")
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
