"""A small energy+forces call runs on one torch thread and gives the count back."""
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from atomistic.mlip.threads import SERIAL_BELOW, threads_for  # noqa: E402


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_small_work_runs_on_one_thread_and_restores_the_count(two_threads):
    with threads_for(SERIAL_BELOW - 1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_large_work_keeps_the_process_setting(two_threads):
    with threads_for(SERIAL_BELOW):
        assert torch.get_num_threads() == 2


def test_an_error_inside_still_restores_the_count(two_threads):
    with pytest.raises(RuntimeError):
        with threads_for(10):
            raise RuntimeError("boom")
    assert torch.get_num_threads() == 2


def test_each_python_thread_keeps_its_own_count(two_threads):
    # torch's count is per calling thread: a call in one thread leaves another's alone
    inside, release = threading.Event(), threading.Event()
    seen = []

    def other():
        seen.append(torch.get_num_threads())
        with threads_for(10):
            seen.append(torch.get_num_threads())
            inside.set()
            release.wait(5)
        seen.append(torch.get_num_threads())

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    assert torch.get_num_threads() == 2   # this thread, while the other one is inside
    release.set()
    t.join()
    before, during, after = seen
    assert during == 1 and after == before
    assert torch.get_num_threads() == 2


def test_calculator_results_do_not_depend_on_the_process_thread_count():
    # float64: the one-thread call must give what a one-thread process gives, to round-off
    from ase.build import bulk

    from atomistic.mlip.calculator import CommitteeCalculator
    from atomistic.mlip.model import MomentPotential

    torch.manual_seed(0)
    calc = CommitteeCalculator([MomentPotential([29]) for _ in range(2)], dtype="float64")
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.05, seed=1)
    before = torch.get_num_threads()
    out = {}
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            calc.reset()
            atoms.calc = calc
            out[n] = atoms.get_forces().copy()
            assert torch.get_num_threads() == n
    finally:
        torch.set_num_threads(before)
    np.testing.assert_allclose(out[1], out[2], rtol=0, atol=1e-12)  # float64 round-off
