"""Every public name of each package resolves from the package root to the module its table names
(user code keeps working when modules move between rooms)."""
import importlib

import pytest

PACKAGES = ("atomistic", "continuum", "couplers")
NAMES = [(pkg, name) for pkg in PACKAGES for name in sorted(importlib.import_module(pkg)._LAZY)]


@pytest.mark.parametrize("pkg, name", NAMES)
def test_lazy_export_resolves(pkg, name):
    package = importlib.import_module(pkg)
    module = importlib.import_module(f"{pkg}.{package._LAZY[name]}")
    assert hasattr(module, name), f"{pkg}.{package._LAZY[name]} has no {name!r}"
    assert getattr(package, name) is getattr(module, name)
    assert name in package.__all__ and name in dir(package)


@pytest.mark.parametrize("pkg", PACKAGES)
def test_unknown_name_is_an_attribute_error(pkg):
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        getattr(importlib.import_module(pkg), "no_such_name")
