"""The README is organised by task, its links resolve, its output blocks cannot go stale, and
every sweep-file key is documented (issue 16)."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTIONS = ("Set up", "Quick start", "Which divergence for my data?", "Reading the report", "How the answer is made",
            "Conditional, semi-supervised and baseline GANs", "Writing a plugin", "Scaling out", "Guarantees",
            "Results")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _readme_output():
    spec = importlib.util.spec_from_file_location("readme_output", ROOT / ".ci" / "readme_output.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_readme_is_short_and_organised_by_task():
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings == list(SECTIONS)
    for page in ("paper-gaussian-fit", "mnist", "pacgan", "the-game", "optimal-critic", "algorithm1", "comparison"):
        assert f"(docs/{page}.md)" in text


@pytest.mark.parametrize("page", [README, *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name)
def test_every_link_resolves(page):
    text = page.read_text()
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # http(s), mailto: not checked offline
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name}: {target} does not exist"
        if anchor and file.suffix == ".md":
            assert anchor in _anchors(file.read_text()), f"{page.name}: no heading for #{anchor} in {file.name}"


def test_the_main_output_block_is_this_code_s_run():
    """The parts of the main block that need no training: the command, the run id the
    current defaults give, the status; .ci/run compares the rest with a real run."""
    from fgan_bench.config import RunConfig

    command, output = _readme_output().readme_block("main")
    assert command == "python -m fgan_bench run --divergence reverse_kl"
    run_id = RunConfig(divergence="reverse_kl").resolved().run_id
    assert output[0].startswith(f"run {run_id}: reverse_kl on ring8, 10000 steps")
    assert output[-1] == f"run directory: reports/runs/{run_id}"
    assert any(line.startswith("completed at step 10000 in ") for line in output)
    install = README.read_text().split("<!-- install-command -->", 1)[1].split("\n")[2]
    assert install.endswith(f".venv/bin/{command}")  # .ci/run captures this command's output


def test_the_output_check_ignores_times_and_progress_but_not_results():
    checker = _readme_output()
    _, expected = checker.readme_block("main")
    real = "\n".join(expected)
    retimed = re.sub(r"in \d+\.\d s", "in 97.3 s", real).replace("━━━━", "\x1b[32m━━━━\x1b[0m")
    logged = "pip noise\n" + retimed.replace(expected[1], "step 1000/10000 (10%) 3 s: critic_loss -1\n")
    assert checker.difference(expected, logged) == ""
    assert checker.difference(expected, real.replace("completed", "diverged")) != ""
    assert checker.difference(expected, real.replace("mmd2 0.", "mmd2 1.")) != ""


def test_every_sweep_file_key_is_documented():
    from fgan_bench.sweeps.definition import RUN_OPTIONS, SWEEP_KEYS, TABLES
    from fgan_bench.sweeps.protocol import KINDS, PRUNING_KEYS, SAMPLERS, SEARCH_KEYS

    page = (ROOT / "docs" / "sweep-files.md").read_text()
    for key in (*SWEEP_KEYS, *RUN_OPTIONS, *SEARCH_KEYS, *PRUNING_KEYS, *KINDS, *SAMPLERS):
        assert f"`{key}`" in page or f'"{key}"' in page, key
    for table in TABLES:
        assert f"[{table}" in page, table


def test_the_layout_page_names_every_module_of_the_package():
    text = (ROOT / "docs" / "layout.md").read_text()
    package = ROOT / "fgan_bench"
    missing = [str(path.relative_to(package)) for path in sorted(package.rglob("*.py"))
               if path.name != "__init__.py" and f"`{path.name}`" not in text]
    missing += [folder.name for folder in sorted(package.iterdir())
                if (folder / "__init__.py").exists() and f"`{folder.name}/`" not in text]
    assert not missing, f"docs/layout.md does not name {missing}"
