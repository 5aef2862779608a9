"""Sample-quality metrics."""

from fgan_bench.metrics.modes import mode_metrics

__all__ = ["mode_metrics"]
