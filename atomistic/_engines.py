"""Lazy, explained imports of the heavy engines this package uses (see ``foundation.engines``)."""
from foundation.engines import engine_importer

from .errors import EngineMissingError

import_engine = engine_importer(EngineMissingError)
