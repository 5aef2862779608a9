"""Plugins: in code, from files and folders, from installed entry points; refusals."""

import pathlib
import sys
import textwrap
import warnings

import pytest
import tensorflow as tf

import fgan_bench
from fgan_bench import divergences, plugins

REPO = pathlib.Path(__file__).resolve().parents[1]

WRONG_KL_PLUGIN = """
import tensorflow as tf
from fgan_bench import Divergence, Interval, register_divergence

register_divergence(Divergence(
    name="wrong_kl",
    f=lambda u: tf.math.xlogy(u, u),
    conjugate=lambda t: tf.exp(t),          # should be exp(t - 1)
    activation=lambda v: v,
    domain=Interval(),
    f_prime_at_1=1.0,
))
"""


@pytest.fixture
def clean_registry():
    names_before = {e.name for e in divergences.divergence_entries()}
    yield
    for entry in divergences.divergence_entries():
        if entry.name not in names_before:
            divergences.unregister_divergence(entry.name)


def _scaled_kl(name="kl_scaled", scale=2.0):
    """scale·KL, a valid divergence: f = s·u log u, f*(t) = s·exp(t/s − 1)."""
    return fgan_bench.Divergence(
        name=name,
        f=lambda u: scale * tf.math.xlogy(u, u),
        conjugate=lambda t: scale * tf.exp(t / scale - 1.0),
        activation=lambda v: v,
        domain=fgan_bench.Interval(),
        f_prime_at_1=scale,
    )


def test_register_in_code_then_get(clean_registry):
    fgan_bench.register_divergence(_scaled_kl())
    assert fgan_bench.get_divergence("kl_scaled").f_prime_at_1 == 2.0
    entry = next(e for e in divergences.divergence_entries() if e.name == "kl_scaled")
    assert entry.source == "code"


def test_name_clash_is_refused_unless_replace(clean_registry):
    with pytest.raises(fgan_bench.RegistrationError, match="'kl' is already taken by 'kl' \\(builtin\\).*replace=True"):
        fgan_bench.register_divergence(_scaled_kl(name="kl"))
    fgan_bench.register_divergence(_scaled_kl(name="kl_scaled"))
    fgan_bench.register_divergence(_scaled_kl(name="kl_scaled", scale=3.0), replace=True)
    assert fgan_bench.get_divergence("kl_scaled").f_prime_at_1 == 3.0


def test_alias_clash_is_refused(clean_registry):
    divergence = fgan_bench.Divergence(**{**_scaled_kl().__dict__, "name": "kl_other", "aliases": ("rkl",)})
    with pytest.raises(fgan_bench.RegistrationError, match="'rkl' is already taken by 'reverse_kl'"):
        fgan_bench.register_divergence(divergence)


def test_invalid_divergence_is_refused_naming_the_check(clean_registry):
    wrong = fgan_bench.Divergence(**{**_scaled_kl().__dict__, "name": "kl_wrong", "f_prime_at_1": 0.0})
    with pytest.raises(fgan_bench.InvalidDivergenceError, match="f_prime_at_1 failed: error 2") as info:
        fgan_bench.register_divergence(wrong)
    assert info.value.report.failed[0].name == "f_prime_at_1"
    assert "kl_wrong" not in fgan_bench.list_divergences()


def test_shipped_plugin_folder_loads_and_validates(clean_registry):
    fgan_bench.load_plugins([REPO / "divergences"])
    names = fgan_bench.list_divergences()
    assert "triangular" in names and "chi_k:<k>" in names
    sources = {e.name: e.source for e in divergences.divergence_entries()}
    assert sources["triangular"].startswith("plugin ") and sources["triangular"].endswith("triangular.py")
    for spec in ("triangular", "chi_k:1.5", "chi_k:2", "chi_k:3"):
        (report,) = divergences.validate(fgan_bench.get_divergence(spec))
        assert report.ok, report.format()


def test_chi_k_2_is_pearson(clean_registry):
    fgan_bench.load_plugins([REPO / "divergences" / "chi_k.py"])
    chi2 = fgan_bench.get_divergence("chi_k:2")
    pearson = fgan_bench.get_divergence("pearson")
    t = tf.linspace(-6.0, 6.0, 25)
    tf.debugging.assert_near(chi2.conjugate(t), pearson.conjugate(t))
    with pytest.raises(fgan_bench.SpecError, match="greater than 1"):
        fgan_bench.get_divergence("chi_k:1")


def test_triangular_discrimination_is_bounded_by_two(clean_registry):
    fgan_bench.load_plugins([REPO / "divergences" / "triangular.py"])
    triangular = fgan_bench.get_divergence("triangular")
    # Disjoint supports: q-mass·f(0) + p-mass·lim f(u)/u = 1 + 1.
    assert triangular.f(0.0).numpy() + (triangular.f(1e9) / 1e9).numpy() == pytest.approx(2.0, rel=1e-6)


def test_wrong_plugin_file_is_refused_naming_the_conjugate_check(tmp_path, clean_registry):
    plugin = tmp_path / "wrong_kl.py"
    plugin.write_text(WRONG_KL_PLUGIN)
    with pytest.raises(fgan_bench.PluginError) as info:
        fgan_bench.load_plugins([plugin])
    message = str(info.value)
    assert "wrong_kl.py" in message and "checks failed: conjugate" in message and "\n" not in message
    assert "FAIL  conjugate" in info.value.details  # the table, for the command line to print
    assert "wrong_kl" not in fgan_bench.list_divergences()


def test_plugin_that_raises_reports_file_and_line(tmp_path):
    plugin = tmp_path / "broken.py"
    plugin.write_text("x = 1\nraise RuntimeError('boom')\n")
    with pytest.raises(fgan_bench.PluginError, match=r"broken.py' failed to load \(line 2\): RuntimeError: boom"):
        fgan_bench.load_plugins([plugin])


def test_missing_plugin_path_is_a_clear_error(tmp_path):
    with pytest.raises(fgan_bench.PluginError, match="does not exist"):
        fgan_bench.load_plugins([tmp_path / "nope.py"])


def test_entry_points_register_and_a_broken_one_is_skipped_with_a_warning(tmp_path, monkeypatch, clean_registry):
    package = tmp_path / "fgan_extra_divergences.py"
    package.write_text(
        textwrap.dedent(
            """
            import tensorflow as tf
            from fgan_bench import Divergence, Interval

            HALF_KL = Divergence(
                name="half_kl",
                f=lambda u: 0.5 * tf.math.xlogy(u, u),
                conjugate=lambda t: 0.5 * tf.exp(2.0 * t - 1.0),
                activation=lambda v: 0.5 * v,
                domain=Interval(),
                f_prime_at_1=0.5,
            )
            BROKEN = HALF_KL.__class__(**{**HALF_KL.__dict__, "name": "broken_kl", "f_prime_at_1": 7.0})
            """
        )
    )
    dist_info = tmp_path / "fgan_extra_divergences-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: fgan-extra-divergences\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        "[fgan_bench.divergences]\nhalf = fgan_extra_divergences:HALF_KL\nbroken = fgan_extra_divergences:BROKEN\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plugins.load_entry_points(divergences.ENTRY_POINT_GROUP, fgan_bench.register_divergence)
    messages = [str(w.message) for w in caught]
    assert "half_kl" in fgan_bench.list_divergences(), messages
    assert fgan_bench.get_divergence("half_kl").f_prime_at_1 == 0.5
    source = next(e.source for e in divergences.divergence_entries() if e.name == "half_kl")
    assert source.startswith("entry point half")
    messages = [str(w.message) for w in caught]
    assert any("skipped entry point broken" in m and "f_prime_at_1 failed" in m for m in messages)
    assert "broken_kl" not in fgan_bench.list_divergences()
    sys.modules.pop("fgan_extra_divergences", None)
