"""Training that outlives the page that asked for it: a queue of training jobs run by one worker thread.

The dashboard keeps one :class:`TrainingJobs` per server process. A page submits a model and goes
on; the job keeps training when the person clicks another page, reruns or closes the tab, and every
page can show its progress and stop it. A second request for a model that is queued or training
joins that job instead of starting another (and across processes the checkpoint store's per-model
lock does the same). One job trains at a time: on 2 cores, two trainings side by side only take
turns. Jobs live in memory: a server restart forgets queued and running jobs (nothing half-saved
remains: a save is atomic) and keeps every finished model on disk.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.config import ModelConfig, TrainConfig
from core.models.methods import model_label
from core.store.checkpoints import CheckpointStore
from core.store.trained import load_or_train

if TYPE_CHECKING:
    from core.data.datasets import Dataset
    from core.learning import MomentRecorder, Moments
    from core.models.training import EpochStats

QUEUED, RUNNING, DONE, FAILED, STOPPED = "queued", "running", "done", "failed", "stopped"


class TrainingStopped(Exception):
    """Raised inside a training whose job was stopped on purpose; nothing is saved."""


@dataclass
class Job:
    """One model to train and where it stands (read by pages, written by the worker thread).

    Attributes
    ----------
    name : str
        The checkpoint folder it will be saved as: the job's identity.
    label : str
        How people call the model ('conv d=2').
    state : str
        queued | running | done | failed | stopped.
    progress : float
        0..1 of the planned epochs or time budget.
    history : list of dict
        Per-epoch statistics so far (``EpochStats.to_dict()``).
    message : str
        The last thing worth saying (an epoch's losses, the error, "loaded from the cache").
    cached : bool
        Done without training because the model was already cached.
    """

    name: str
    label: str
    dataset: Dataset
    model: ModelConfig
    train: TrainConfig
    store_root: str
    retrain: bool = False
    state: str = QUEUED
    progress: float = 0.0
    history: list[dict] = field(default_factory=list)
    message: str = "waiting for the training before it"
    cached: bool = False
    submitted: float = field(default_factory=time.time)
    finished: float | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event, repr=False)
    recorder: MomentRecorder | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)

    def moments_so_far(self) -> Moments | None:
        """The learning moments kept so far while it trains (None before the first, and for a job
        that loaded a cached model or fits PCA)."""
        recorder = self.recorder
        return recorder.moments() if recorder is not None and len(recorder) else None


class TrainingJobs:
    """A queue of training jobs and the thread that works through it (one per server process)."""

    def __init__(self, keep_finished: int = 20):
        self._lock = threading.Lock()
        self._queue: deque[Job] = deque()
        self._jobs: dict[str, Job] = {}
        self._finished: deque[str] = deque(maxlen=keep_finished)
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._work, name="latent-lab-training", daemon=True)
        self._thread.start()

    # --- what pages call -----------------------------------------------------------------------
    def submit(self, dataset: Dataset, model: ModelConfig, train: TrainConfig,
               store: CheckpointStore | None = None, retrain: bool = False) -> Job:
        """Queue one model (or join the job already queued or training it); returns its job.
        ``retrain`` trains it again even when it is cached."""
        store = store or CheckpointStore()
        name = store.folder_for(dataset.config, model, train).name
        with self._lock:
            job = self._jobs.get(name)
            if job is not None and job.active:
                return job
            job = Job(name, model_label(model, train), dataset, model, train, str(store.root), retrain)
            self._jobs[name] = job
            self._queue.append(job)
        self._wake.set()
        return job

    def stop(self, name: str) -> None:
        """Stop a job: a queued one never starts, a running one ends after its current epoch."""
        with self._lock:
            job = self._jobs.get(name)
            if job is None or not job.active:
                return
            job.stop_requested.set()
            if job.state == QUEUED:
                self._queue.remove(job)
                self._end(job, STOPPED, "stopped before it started")

    def jobs(self) -> list[Job]:
        """Active jobs (the running one first, then the queue), then recently finished ones."""
        with self._lock:
            active = sorted((j for j in self._jobs.values() if j.active), key=lambda j: (j.state != RUNNING, j.submitted))
            done = [self._jobs[n] for n in reversed(self._finished) if n in self._jobs and not self._jobs[n].active]
            return active + done

    def get(self, name: str) -> Job | None:
        with self._lock:
            return self._jobs.get(name)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running (tests, scripts); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while any(j.active for j in self.jobs()):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # --- the worker ------------------------------------------------------------------------------
    def _end(self, job: Job, state: str, message: str) -> None:
        job.state, job.message, job.finished = state, message, time.time()
        job.recorder = None  # its sample and moments: the saved model keeps the moments, memory need not
        self._finished.append(job.name)

    def _work(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                job = self._queue.popleft() if self._queue else None
                if job is None:
                    self._wake.clear()
                    continue
                job.state, job.message = RUNNING, "starting"
            self._run(job)

    def _run(self, job: Job) -> None:
        def on_epoch(stats: EpochStats) -> None:
            job.history.append(stats.to_dict())
            job.progress = min(1.0, stats.progress)
            of = f" of {stats.epochs}" if stats.epochs else ""
            job.message = (f"epoch {stats.epoch}{of}: training loss {stats.train_loss:.4f}, "
                           f"validation MSE per pixel {stats.val_mse:.4f}")
            if job.stop_requested.is_set():
                raise TrainingStopped(job.name)

        try:
            trained = load_or_train(job.dataset, job.model, job.train, store=CheckpointStore(job.store_root),
                                    callback=on_epoch, retrain=job.retrain,
                                    watch=lambda recorder: setattr(job, "recorder", recorder))
        except TrainingStopped:
            with self._lock:
                self._end(job, STOPPED, "stopped on purpose: nothing was saved")
        except Exception as exc:  # noqa: BLE001 - a failed job is reported on the page, the worker goes on
            with self._lock:
                self._end(job, FAILED, f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
        else:
            with self._lock:
                job.cached, job.progress = trained.cached, 1.0
                note = "loaded from the cache" if trained.cached else f"trained in {trained.record.train_seconds:.0f} s"
                self._end(job, DONE, f"{note}, test MSE {trained.record.metric('test_mse'):.4f}")
