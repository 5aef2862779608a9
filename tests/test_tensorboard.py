"""``run --tensorboard``: event files whose scalars and images TensorBoard's reader gets back."""

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util.tensor_util import make_ndarray

from fgan_bench import cli, rundir


def test_tensorboard_writes_scalars_every_log_interval_and_images_at_evaluations(tmp_path):
    status = cli.main(["run", "--divergence", "kl", "--steps", "30", "--log-every", "10", "--eval-every", "20",
                       "--num-samples", "300", "--width", "8", "--tensorboard", "--quiet", "--out", str(tmp_path)])
    assert status == 0
    [run] = (tmp_path / "runs").iterdir()
    assert rundir.read_config(run).tensorboard is True
    events = EventAccumulator(str(run / rundir.TENSORBOARD), size_guidance={"tensors": 0})
    events.Reload()
    tags = events.Tags()["tensors"]
    estimate = events.Tensors("divergence_estimate")
    assert [e.step for e in estimate] == [10, 20, 30]
    assert all(np.isfinite(float(make_ndarray(e.tensor_proto))) for e in estimate)
    assert "mmd2" in tags and [e.step for e in events.Tensors("mmd2")] == [20]  # the periodic evaluation
    assert "final/mmd2" in tags
    images = events.Tensors("samples")
    assert [e.step for e in images] == [20, 30]  # at each evaluation: step 20 and the final one
    assert make_ndarray(images[0].tensor_proto)[2].startswith(b"\x89PNG")
