"""Keras callbacks of a run: step bookkeeping, the NaN guard, atomic checkpoints, a progress bar."""

from __future__ import annotations

import csv
import math
import sys
import time
from pathlib import Path

import keras
import numpy as np

from fgan_bench import atomic_io
from fgan_bench.trainer import steps_done
from fgan_bench.weights_file import WeightsFile


def _finite_logs(logs) -> bool:
    return all(math.isfinite(float(v)) for v in (logs or {}).values())



class StepLogger(keras.callbacks.Callback):
    """Adds ``step`` and ``wall_time_s`` to each epoch's logs (before CSVLogger writes them)."""

    def __init__(self, steps_per_epoch: int, elapsed_before: float = 0.0):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.elapsed_before = elapsed_before

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["step"] = (epoch + 1) * self.steps_per_epoch
            logs["wall_time_s"] = self.elapsed_before + time.perf_counter() - self.started

class MetricsCSV(keras.callbacks.Callback):
    """Appends one row per epoch to ``metrics.csv``: step, wall time, then the logged values.

    Values that appear only on some rows (periodic evaluations) get their own columns,
    empty elsewhere; a new column rewrites the file once with the wider header. (Keras'
    CSVLogger fixes its columns at the first row and adds empty ``val_*`` columns.)
    """

    def __init__(self, path: Path, columns: tuple[str, ...]):
        super().__init__()
        self.path = Path(path)
        self.columns = ["step", "wall_time_s", *columns]

    def _existing_rows(self) -> list[dict[str, str]]:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return []
        with open(self.path, newline="") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
        self.columns += [name for name in reader.fieldnames or () if name not in self.columns]
        return rows

    def on_train_begin(self, logs=None):
        self._existing_rows()  # a resumed run keeps the columns it had

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        added = [k for k in logs if k not in self.columns]
        if added:
            rows = self._existing_rows()
            self.columns += added

            def write(temporary: Path) -> None:
                with open(temporary, "w", newline="") as file:
                    writer = csv.DictWriter(file, self.columns, restval="")
                    writer.writeheader()
                    writer.writerows(rows)

            atomic_io.write_atomically(self.path, write)
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="") as file:
            writer = csv.writer(file)
            if new:
                writer.writerow(self.columns)
            writer.writerow(["" if c not in logs else float(logs[c]) for c in self.columns])

class NonFiniteGuard(keras.callbacks.Callback):
    """Stops training at the first non-finite loss or weight, remembering the last finite logs.

    Checked after every execution (``steps_per_execution`` steps) for the logged values and
    at every epoch end for the weights. ``diverged_at`` is the step count then.
    """

    def __init__(self):
        super().__init__()
        self.diverged_at: int | None = None
        self.last_finite: dict[str, float] = {}

    def _step(self) -> int:
        return steps_done(self.model)

    def _stop(self):
        self.diverged_at = self._step()
        self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        if self.diverged_at is not None:
            return
        if _finite_logs(logs):
            self.last_finite = {k: float(v) for k, v in logs.items()}
        else:
            self._stop()

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged_at is None and not all(np.all(np.isfinite(w)) for w in self.model.get_weights()):
            self._stop()

class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves generator, critic and both optimizers at each epoch end, atomically.

    The file is ``model.save_weights``' own, written by a :class:`~fgan_bench.weights_file.WeightsFile`
    (Keras' layout learnt at the first write, when the optimizers are built; ~4x faster).
    Written by :func:`fgan_bench.atomic_io.write_atomically`, so a kill at any moment leaves the
    previous checkpoint or the new one, never half of one. Non-finite weights are never saved.
    The room is checked first (:meth:`expected_size`): h5py crashes the process when the disk
    fills under it, where a check gives the one-line disk-full error.
    """

    def __init__(self, path: Path, guard: NonFiniteGuard):
        super().__init__()
        self.path = Path(path)
        self.guard = guard
        self.weights_file: WeightsFile | None = None

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.diverged_at is not None:
            return
        atomic_io.ensure_room(self.path, self.expected_size())
        if self.weights_file is None or self.weights_file.model is not self.model:
            self.weights_file = WeightsFile(self.model)
        atomic_io.write_atomically(self.path, self.weights_file.write)

    def expected_size(self) -> int:
        """Bytes the next checkpoint needs: the last one's size, else 3× the weights (Adam keeps two
        slots per weight), plus 64 KiB of HDF5 structure."""
        if self.path.is_file():
            return self.path.stat().st_size + 65536
        weights = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in self.model.weights)
        return 3 * weights + 65536


class ProgressBar(keras.callbacks.Callback):
    """Progress over the whole run's steps, with the main logged values: in a terminal one
    Keras ``Progbar`` line redrawn in place; in a log file (stdout not a terminal) a plain
    line, no escape codes, at every tenth of the run."""

    SHOWN = ("divergence_estimate", "critic_loss", "generator_loss")

    def __init__(self, total_steps: int, start_step: int = 0, *, terminal: bool | None = None):
        super().__init__()
        self.total_steps = total_steps
        self.start_step = start_step
        self.terminal = sys.stdout.isatty() if terminal is None else terminal
        self.every = max(total_steps // 10, 1)

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.next_line = (self.start_step // self.every + 1) * self.every
        if self.terminal:
            self.bar = keras.utils.Progbar(self.total_steps, stateful_metrics=self.SHOWN, unit_name="step")
            if self.start_step:
                self.bar.update(self.start_step)

    def on_train_batch_end(self, batch, logs=None):
        values = [(k, float(logs[k])) for k in self.SHOWN if logs and k in logs]
        step = steps_done(self.model)
        if self.terminal:
            self.bar.update(step, values=values)
        elif step >= self.next_line or step >= self.total_steps:
            self.next_line = (step // self.every + 1) * self.every
            shown = ", ".join(f"{k} {v:.4g}" for k, v in values)
            print(f"step {step}/{self.total_steps} ({100 * step // self.total_steps}%) "
                  f"{time.perf_counter() - self.started:.0f} s: {shown}", flush=True)


class TensorBoardWriter(keras.callbacks.Callback):
    """TensorBoard event files in ``directory``: every logged value at each log interval, and
    the sample figure (an image summary) with the metrics at each evaluation.

    Scalars are written at each epoch end (one epoch = ``log_every`` steps), at the step
    reached, so they appear whatever ``steps_per_execution`` is (Keras' own TensorBoard
    callback writes nothing per batch when ``steps_per_execution > 1``).
    """

    def __init__(self, directory: Path, dataset, evaluation=None):
        super().__init__()
        self.directory, self.dataset, self.evaluation = Path(directory), dataset, evaluation
        self._writer = None

    @property
    def writer(self):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.directory))
        return self._writer

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        step = steps_done(self.model)
        with self.writer.as_default(step=step):
            for name, value in (logs or {}).items():
                if name not in ("step", "wall_time_s"):
                    tf.summary.scalar(name, float(value))
        if self.evaluation is not None and self.evaluation.last_step == step:
            self._image(step, self.evaluation.last_samples)
        self.writer.flush()

    def write_evaluation(self, step: int, samples, metrics: dict[str, float]) -> None:
        """The final evaluation: its metrics (as ``final/<name>``) and the sample figure."""
        import tensorflow as tf

        with self.writer.as_default(step=step):
            for name, value in metrics.items():
                if isinstance(value, int | float) and math.isfinite(value):
                    tf.summary.scalar(f"final/{name}", float(value))
        self._image(step, samples)
        self.writer.flush()

    def _image(self, step: int, samples) -> None:
        import io

        import tensorflow as tf

        from fgan_bench.plotting import plot_samples

        if samples is None or not np.all(np.isfinite(samples)):
            return
        buffer = io.BytesIO()
        plot_samples(samples, self.dataset, buffer, title=f"step {step}")
        image = tf.image.decode_png(buffer.getvalue(), channels=4)[tf.newaxis]
        with self.writer.as_default(step=step):
            tf.summary.image("samples", image)

    def on_train_end(self, logs=None):
        self.writer.flush()
