"""foundation: floor 0 of the house, what every other package stands on.

Small rooms, standard library (and numpy, lazily) only, importing nothing
from the toolkit above:

- ``foundation.files``:  the one atomic writer (temp file, fsync, rename; the
  new file gets the mode the umask allows, an existing file keeps its mode).
- ``foundation.errors``: the error family every package's exceptions belong
  to (``InputError`` is a ``ValueError`` everywhere).
- ``foundation.reading``: the one read boundary (any decode, parse or IO error
  of a user's file becomes one ``InputError`` line naming the file).
- ``foundation.progress``: status lines that suit their stream (live on a
  terminal, at most one every few seconds in a log file).
- ``foundation.lazy``:   lazy public names for package ``__init__`` files, so
  importing a package loads no engine.
"""
