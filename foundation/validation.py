"""The one formatter of validation errors: pydantic's errors as lines a person can act on.

Every settings model and config in the toolkit (training settings in
``atomistic``, run, train and learn configs in ``multiscale``) reports a bad
input through :func:`format_errors`: one line per problem,

    WHERE: key.path: unknown key; did you mean 'epochs'?
    WHERE: key.path: required key is missing
    WHERE: key.path: -1: must be >= 1
    WHERE: key.path: 1e+14: must be <= 1e+10 (a hard bound of this key: no setting lifts it)

with did-you-mean over every field name of the model, nested models included
(:func:`model_vocabulary`).
"""
from __future__ import annotations

import difflib
import typing
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["format_errors", "model_vocabulary"]


def model_vocabulary(model: Any) -> list[str]:
    """Every field name of ``model`` and of the models nested in its fields (the did-you-mean words)."""
    from pydantic import BaseModel

    words: set[str] = set()
    seen: set[type] = set()

    def walk(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.add(tp)
            words.update(tp.model_fields)
            for f in tp.model_fields.values():
                walk(f.annotation)
            return
        for arg in typing.get_args(tp):
            walk(arg)

    walk(model)
    return sorted(words)


def _key_path(loc: Iterable) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("function-"):
            continue  # pydantic's validator location tags
        else:
            out += ("." if out else "") + str(part)
    return out


_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _bound_text(err: dict) -> str:
    """"must be <= 1e+10" for a numeric bound pydantic checked; an upper bound says that it is
    fixed, since a run config also has size limits that ``allow_large`` lifts and this is not one."""
    op = _BOUNDS[err["type"]]
    bound = next(iter(err.get("ctx", {}).values()), "?")
    shown = f"{bound:g}" if isinstance(bound, (int, float)) and not isinstance(bound, bool) else bound
    text = f"must be {op} {shown}"
    return text + " (a hard bound of this key: no setting lifts it)" if op[0] == "<" else text


def _line(err: dict, where: str, words: list[str], loc: tuple) -> str:
    path = _key_path(loc)
    where = f"{where}: {path}" if where else path
    kind = err["type"]
    if kind == "extra_forbidden":
        key = path.rsplit(".", 1)[-1]
        if key in words:   # a real key, in the wrong place ("did you mean 'train'?" for train)
            return f"{where}: unknown key at this level; {key!r} belongs in another section"
        hint = difflib.get_close_matches(key, words, n=1)
        return f"{where}: unknown key" + (f"; did you mean {hint[0]!r}?" if hint else "")
    if kind == "missing":
        return f"{where}: required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):   # a tagged union: the tag names the type
        ctx = err.get("ctx", {})
        tag = str(ctx.get("discriminator", "kind")).strip("'")
        if kind == "union_tag_not_found":
            return f"{where}.{tag}: required key is missing (it names the entry's type)"
        return f"{where}.{tag}: {ctx.get('tag')!r}: unknown {tag} (known: {ctx.get('expected_tags', '?')})"
    value = err.get("input")
    if isinstance(value, dict):   # a whole section's check: its message names the keys
        return f"{where}: {err['msg'].removeprefix('Value error, ')}"
    shown = repr(value) if not isinstance(value, list) else "list"
    if kind in _BOUNDS:
        return f"{where}: {shown}: {_bound_text(err)}"
    return f"{where}: {shown}: {err['msg'].removeprefix('Value error, ')}"


def format_errors(exc, where: str, vocabulary: Iterable[str] = (), prefix: str = "",
                  loc: Callable[[tuple], tuple] | None = None) -> str:
    """One line per problem of the pydantic ``ValidationError`` ``exc`` (see the module docstring).

    ``where``: the file or argument the input came from ("" for none). ``vocabulary``: did-you-mean words
    (``model_vocabulary(model)``). ``prefix``: a dotted key path put before every key, for a
    section validated on its own. ``loc``: a function that rewrites an error's location tuple
    before it is printed (e.g. to drop a discriminator pydantic adds)."""
    words = sorted(vocabulary)
    head = tuple(prefix.split(".")) if prefix else ()
    return "\n".join(_line(e, where, words, (loc or tuple)(head + tuple(e["loc"]))) for e in exc.errors())
