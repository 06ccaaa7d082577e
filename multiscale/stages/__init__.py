"""Built-in stage kinds. Importing this package registers them with the config schema.

Each module defines a parameter model (a ``StageParams`` subclass) and a
function decorated with ``@stage_kind(name, Params)`` that takes a
``StageContext`` and returns a JSON-able dict of results. By convention a
result may contain ``headline`` (label -> short text, shown in the report and
at the end of ``multiscale run``) and ``figures`` (PNG paths relative to the
stage folder, embedded in the report).
"""
import importlib
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_info.name}")
