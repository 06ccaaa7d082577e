"""What a person sees of an active-learning run: the live progress line and the learning curve.

- ``ProgressDisplay``: a one-line rich display (MD steps, reference calls, the
  current deviation, the held-out error), fed by the loop's events.
- ``plot_learning_curve(result_or_folder, path)``: held-out force MAE against
  reference calls and the deviation of every labelled or rejected frame (PNG).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from foundation.files import save_figure
from ..errors import InputError
from .state import LearningResult


class ProgressDisplay:
    """A live one-line rich display: MD steps, reference calls, deviation, test error.

    When stdout is not a terminal (a campaign left running with its output in a log
    file) the same status goes out as plain timestamped lines instead, at most one
    every ``LOG_INTERVAL_S`` seconds, and one at every label, failure, rollback and
    retraining: rich would otherwise write nothing until the run ends.
    """

    def __init__(self, learner):
        from foundation.progress import is_terminal

        self.enabled = learner.progress
        self.bar = None
        self.task = None
        self.lines = None
        self.dev = None   # the last MD step's max_force_dev (none yet in this process)
        self.total = learner._total_steps() * learner.n_walkers
        self.terminal = is_terminal()

    def __enter__(self):
        if self.enabled and not self.terminal:
            import datetime as dt

            from foundation.progress import LOG_INTERVAL_S, LineThrottle

            def write(msg):
                print(f"{dt.datetime.now():%H:%M:%S} {msg}", flush=True)

            self.lines = LineThrottle(write, LOG_INTERVAL_S)
        elif self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("MD steps"), BarColumn(),
                                TextColumn("{task.completed}/{task.total}"),
                                TextColumn("{task.description}"), TimeElapsedColumn())
            self.bar.__enter__()
            self.task = self.bar.add_task("", total=self.total)
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def update(self, learner, event: str, data: dict) -> None:
        if self.bar is None and self.lines is None:
            return
        if event == "step":
            self.dev = data["dev"]
            if data["step"] % 10:
                return
        st = learner.state
        curve = st.curve
        test = (f" | test F MAE {1000 * curve[-1]['force_mae']:.1f} meV/Å"
                if curve and "force_mae" in curve[-1] else "")
        note = {"training": " | retraining", "labelled": " | labelled",
                "failed": " | reference FAILED", "rejected": " | rolled back"}.get(event, "")
        done = sum(w.step for w in learner.walkers)
        dev = "-" if self.dev is None else f"{1000 * self.dev:.0f}"
        status = f"| calls {st.n_calls}/{learner.s.max_calls} | dev {dev} meV/Å{test}{note}"
        if self.lines is not None:
            self.lines(f"MD steps {done}/{self.total} {status}", force=bool(note))
            return
        self.bar.update(self.task, completed=done, description=status)


def plot_learning_curve(result_or_folder, path: str | Path) -> Path:
    """Test force MAE (meV/Angstrom) against reference calls, as a PNG at ``path`` (written atomically)."""
    from matplotlib.figure import Figure

    if isinstance(result_or_folder, LearningResult):
        curve, log = result_or_folder.curve, result_or_folder.log
    else:
        from .store import LearningStore

        folder = Path(result_or_folder)
        if not (folder / "state.json").is_file():   # before the store, which makes its folder
            raise InputError(f"{folder / 'state.json'}: no such active-learning state; "
                             "expected the folder of a multiscale learn run")
        state = LearningStore(folder).read_state()
        curve, log = state.curve, state.log
    fig = Figure(figsize=(9, 3.6))
    a, b = fig.subplots(1, 2)
    pts = [p for p in curve if "force_mae" in p]
    if pts:
        a.plot([p["calls"] for p in pts], [1000 * p["force_mae"] for p in pts], "o-")
        a.set_yscale("log")
    a.set_xlabel("reference calls")
    a.set_ylabel("held-out force MAE (meV/Å)" if pts else "(no test set given)")
    devs = [(e["calls"], 1000 * e["dev"]) for e in log if e["dev"] is not None
            and e["decision"] in ("labelled", "failed")]
    if devs:
        b.plot(*zip(*devs), ".", label="labelled / failed")
    rej = [(e["calls"], 1000 * e["dev"]) for e in log if e["decision"] == "rejected"
           and e["dev"] is not None and np.isfinite(e["dev"])]
    if rej:
        b.plot(*zip(*rej), "x", color="C3", label="rejected (rolled back)")
    b.set_xlabel("reference calls")
    b.set_ylabel("max force deviation (meV/Å)")
    if devs or rej:
        b.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)

