"""Every public name of ``atomistic`` resolves from the package root to the module its table names."""
import importlib

import pytest

import atomistic


@pytest.mark.parametrize("name", sorted(atomistic._LAZY))
def test_lazy_export_resolves(name):
    module = importlib.import_module(f"atomistic.{atomistic._LAZY[name]}")
    assert hasattr(module, name), f"atomistic.{atomistic._LAZY[name]} has no {name!r}"
    assert getattr(atomistic, name) is getattr(module, name)
    assert name in atomistic.__all__ and name in dir(atomistic)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        atomistic.no_such_name  # noqa: B018
