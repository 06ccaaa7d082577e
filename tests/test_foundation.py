"""Floor 0: every file the toolkit writes is whole and readable by whom the umask allows; every
package's errors belong to one family a user can catch."""
import os
import pickle
import stat

import pytest

from foundation.files import atomic_open, atomic_path, write_json, write_text


@pytest.fixture
def umask():
    old = os.umask(0o022)
    try:
        yield lambda m: os.umask(m)
    finally:
        os.umask(old)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_a_new_file_gets_the_mode_open_would_give_it(tmp_path, umask, mask, expected):
    umask(mask)
    assert _mode(write_text(tmp_path / "report.md", "x")) == expected
    with atomic_path(tmp_path / "frames.npz") as tmp:
        tmp.write_bytes(b"data")
    assert _mode(tmp_path / "frames.npz") == expected


def test_an_existing_file_keeps_its_mode(tmp_path, umask):
    path = tmp_path / "results.json"
    path.write_text("{}")
    path.chmod(0o664)
    umask(0o077)
    write_json(path, {"a": 1})
    assert _mode(path) == 0o664 and path.read_text().strip() == '{\n  "a": 1\n}'


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "potential.pt"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(path, "wb") as fh:
            fh.write(b"half of the new")
            raise KeyboardInterrupt
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("writer failed")
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["potential.pt"]


def test_atomic_path_keeps_the_suffix_so_format_sniffing_writers_work(tmp_path):
    from ase.build import molecule
    from ase.io import read, write

    with atomic_path(tmp_path / "frames.extxyz") as tmp:
        assert tmp.suffix == ".extxyz" and tmp.parent == tmp_path
        write(tmp, molecule("H2O"))           # format chosen from the name
    assert read(tmp_path / "frames.extxyz").get_chemical_formula() == "H2O"


def test_every_package_input_error_is_one_family_and_a_value_error():
    import atomistic.errors
    import continuum.errors
    import couplers.errors
    import foundation.errors
    import multiscale.errors

    for mod in (atomistic.errors, continuum.errors, couplers.errors, multiscale.errors):
        for role in ("InputError", "EngineMissingError", "ConvergenceError", "CalculationFailed"):
            cls = getattr(mod, role)
            assert issubclass(cls, getattr(foundation.errors, role))
            assert cls.__module__ == mod.__name__ and cls.__qualname__ == role
        assert issubclass(mod.InputError, ValueError) and issubclass(mod.EngineMissingError, ImportError)
    assert multiscale.errors.AnyInputError is foundation.errors.InputError
    with pytest.raises(multiscale.errors.AnyInputError):
        raise continuum.errors.InputError("c_bulk: -1 mol/m^3; expected > 0")
    with pytest.raises(multiscale.errors.ToolkitError):
        raise atomistic.errors.ConvergenceError("SCF")
    # a package's error is not another package's: callers can still catch what they mean
    assert not issubclass(continuum.errors.InputError, atomistic.errors.InputError)
    err = pickle.loads(pickle.dumps(couplers.errors.InputError("diffusivites: unknown key")))
    assert type(err) is couplers.errors.InputError and str(err) == "diffusivites: unknown key"


def test_the_executor_streams_each_result_and_returns_them_in_input_order():
    from foundation.executor import Executor

    seen = []
    with Executor(workers=1) as ex:
        assert ex.map(abs, [-3, 1, -2], on_result=seen.append) == [3, 1, 2]
    assert seen == [3, 1, 2]
