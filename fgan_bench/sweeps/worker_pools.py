"""The worker processes of local runs, kept for as long as a sweep or protocol needs them.

A worker imports TensorFlow once (about 6 s of CPU on two cores) and then trains run after
run. :class:`WorkerPools` holds two process pools — *shared* workers, reused from run to
run, and *isolated* ones, a fresh process per run (``isolate = true``) — made on first use.
:func:`fgan_bench.sweeps.execute.execute` makes its own for one call and closes them after;
a protocol, which calls it batch after batch (search trials, then confirmation runs), passes
one ``WorkerPools`` to every call so that the same workers serve the whole protocol instead
of new ones starting for every batch.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal


def threads_per_job(jobs: int) -> int:
    """TensorFlow threads for each of ``jobs`` workers: this machine's cores split between them."""
    return max(1, (os.cpu_count() or 1) // jobs)


def start_worker(threads: int) -> None:
    """A worker process's set-up, once: TensorFlow imported quietly, its thread pools sized."""
    from fgan_bench._lazy import import_tensorflow_quietly

    import_tensorflow_quietly()
    import tensorflow as tf

    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already initialised in this process (a reused in-process call)
            pass


def _worker_initializer(threads: int) -> None:
    """Workers ignore Ctrl-C (the terminal sends it to the whole process group): the sweep
    decides, and terminates them. A worker starts with SIGINT blocked (the sweep starts workers
    with it blocked), so a Ctrl-C while it starts is dropped here, not a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    start_worker(threads)


class WorkerPools:
    """The shared and the isolated process pool of ``jobs`` workers each, made on first use.

    ``pools[isolated]`` is the pool; :meth:`replace` swaps a broken one for a new one (once, for
    all its futures); :meth:`terminate` ends every worker at once (Ctrl-C); :meth:`close` lets
    them exit. Usable as a context manager, which closes it.
    """

    def __init__(self, jobs: int):
        self.jobs, self.threads = jobs, threads_per_job(jobs)
        self._pools: dict[bool, concurrent.futures.ProcessPoolExecutor] = {}

    def __getitem__(self, isolated: bool) -> concurrent.futures.ProcessPoolExecutor:
        if isolated not in self._pools:
            self._pools[isolated] = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_initializer, initargs=(self.threads,),
                **({"max_tasks_per_child": 1} if isolated else {}),
            )
        return self._pools[isolated]

    def pools(self) -> list[concurrent.futures.ProcessPoolExecutor]:
        return list(self._pools.values())

    def replace(self, pool: concurrent.futures.ProcessPoolExecutor, isolated: bool) -> None:
        """A broken pool is replaced once, for all its futures (the next use makes the new one)."""
        if self._pools.get(isolated) is pool:
            del self._pools[isolated]
            pool.shutdown(wait=False, cancel_futures=True)

    def terminate(self, workers) -> None:
        """Ends ``workers(pool)``' processes of every pool now and forgets the pools."""
        for pool in self.pools():
            for process in workers(pool).values():
                process.terminate()
        self.close()

    def close(self) -> None:
        """Lets the workers exit once their tasks are done; queued tasks are cancelled."""
        for pool in self.pools():
            pool.shutdown(wait=False, cancel_futures=True)
        self._pools.clear()

    def __enter__(self) -> WorkerPools:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
