"""Errors a user can act on.

Every exception raised for bad input derives from :class:`FganBenchError`; the command
line prints its message as one line and exits with status 2, without a traceback.
Messages name the fix (the known names, the failed check and its error, the file to
create).
"""

from __future__ import annotations

import re


class FganBenchError(Exception):
    """Base class of all user-facing errors of fgan-bench."""


class UnknownNameError(FganBenchError, KeyError):
    """A divergence, dataset or other registered name that does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message.
        return str(self.args[0]) if self.args else ""


class SpecError(FganBenchError, ValueError):
    """A malformed spec string or a parameter outside its valid range."""


class RegistrationError(FganBenchError, ValueError):
    """A registration refused: name clash, or an invalid object."""


class InvalidDivergenceError(RegistrationError):
    """A divergence that failed the math validator; carries the report."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class PluginError(FganBenchError):
    """A plugin file, folder or entry point that could not be loaded; ``details``: what the
    command line prints after the one line (a refused divergence's check table), or empty."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


class ConfigError(FganBenchError, ValueError):
    """A run option with an invalid value: which option, the value, and why.

    The command line words it as ``--critic-lr: ...``, the sweep loader as
    ``file:line: critic_lr: ...``; both from these fields, never by parsing the text.
    """

    def __init__(self, option: str, value, reason: str):
        self.option, self.value, self.reason = option, value, reason
        super().__init__(f"{option}: {reason} (got {value!r})")

    def worded(self, name: str) -> str:
        """The message with the option called ``name`` (a flag, a TOML key)."""
        return f"{name}: {self.reason} (got {self.value!r})"

    @property
    def flag(self) -> str:
        return "--" + self.option.replace("_", "-")


class DataError(FganBenchError, ValueError):
    """User data that cannot be trained on: unreadable, empty, not finite, absurd, or mis-shaped."""
def one_line_reason(error: BaseException) -> str:
    """``Type: message`` on one line; for errors raised inside a ``tf.function`` (whose message
    starts with "in user code:" and a traceback), the original error's last line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    last = lines[-1]
    if re.match(r"^[A-Za-z_][\w.]*(Error|Exception):", last):
        return last
    return f"{type(error).__name__}: {last}"
