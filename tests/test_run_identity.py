"""A run's id depends on what the run is, not on where its files live."""

from __future__ import annotations

import shutil
from pathlib import Path

from fgan_bench.config import RunConfig

PLUGIN = Path(__file__).resolve().parent.parent / "divergences" / "chi_k.py"


def _config(plugin_path):
    return RunConfig(divergence="kl", dataset="ring8", steps=100, plugins=(str(plugin_path),))


def test_the_same_plugin_in_two_checkouts_gives_one_run_id_and_an_edited_one_another(tmp_path):
    first, second = tmp_path / "checkout-a" / "chi_k.py", tmp_path / "elsewhere" / "b" / "chi_k.py"
    for copy in (first, second):
        copy.parent.mkdir(parents=True)
        shutil.copyfile(PLUGIN, copy)
    assert _config(first).run_id == _config(second).run_id
    assert _config(first.parent).run_id == _config(first).run_id  # a folder counts by the files in it
    second.write_text(second.read_text() + "\n# edited\n")
    assert _config(first).run_id != _config(second).run_id
    assert _config(first).run_id != RunConfig(divergence="kl", dataset="ring8", steps=100).run_id
