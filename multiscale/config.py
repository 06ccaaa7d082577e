"""Run configs: TOML files validated by pydantic before anything runs.

A config names a run and its stages; each stage has a ``kind`` (a registered
stage type, see :mod:`multiscale.stages`), the stages it ``needs``, and the
parameters of its kind::

    [run]
    name = "demo"

    [stage.label]
    kind = "label_emt"
    element = "Cu"

    [stage.train]
    kind = "train_mlip"
    needs = ["label"]
    members = 3

Every error names the file, the key path, the bad value and what was
expected, in one line (``demo.toml: stage.train.members: -1: must be >= 1``);
unknown keys get a did-you-mean. Quantities may carry units as strings
(``D = "1.3e-9 m^2/s"``, ``temperature = "25 degC"``); a bare number is read in
the unit the field states, and a unit of the wrong dimension is an error.
Relative paths resolve against the config file's folder.

Before anything runs, every stage also validates its free-form settings dicts
(``StageParams.check_settings``) and its size: ``StageParams.estimates`` gives
``(what, estimate, limit)`` and a stage above a limit is refused unless its
table sets ``allow_large = true`` (README "Size limits").

Every TOML config of the CLI (run configs here; ``multiscale train`` and
``multiscale learn`` configs in :mod:`multiscale.configs`) is read by one
loader, ``load_toml(path, model)``, and every validation error is written by
one formatter, ``validation_error``: one line per problem, did-you-mean on
unknown keys (the vocabulary is every field name of the model, nested models
included).
"""
from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from foundation.validation import format_errors, model_vocabulary

from .errors import InputError

__all__ = ["ConfigError", "RunConfig", "RunSection", "StageParams", "Quantity", "load_config",
           "parse_config", "refuse_large", "STAGE_KINDS", "stage_kind", "read_toml", "load_toml", "validate_section",
           "validation_error", "model_vocabulary"]

M = TypeVar("M", bound=BaseModel)


class ConfigError(InputError):
    """A run config is invalid; ``str(err)`` is one line per problem."""


# --- quantities with units -----------------------------------------------

_UREG = None


def _ureg():
    global _UREG
    if _UREG is None:
        import pint

        _UREG = pint.UnitRegistry()
    return _UREG


def Quantity(unit: str, **constraints: Any):
    """A float field in ``unit``; accepts a number (in ``unit``) or a string with units.

    >>> class P(BaseModel):
    ...     D: Quantity("m^2/s", gt=0)
    >>> P(D="1.3e-5 cm^2/s").D   # doctest: +ELLIPSIS
    1.3e-09...
    """

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            import pint

            ureg = _ureg()
            try:
                q = ureg.Quantity(value)
            except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError,
                    ValueError, AttributeError, TypeError) as exc:
                raise ValueError(f"cannot read {value!r} as a quantity in {unit}: {exc}") from None
            if q.unitless:  # "5" as a string: a number in the field's unit
                return float(q.magnitude)
            try:
                return float(q.to(unit).magnitude)
            except pint.errors.DimensionalityError:
                raise ValueError(f"{value!r} has units of {q.units:~}, expected a quantity in "
                                 f"{unit}") from None
        return value

    description = constraints.pop("description", None)
    return Annotated[float, pydantic.BeforeValidator(convert),
                     Field(description=description or f"in {unit}", json_schema_extra={"unit": unit},
                           **constraints)]


# --- stages ----------------------------------------------------------------

class StageParams(BaseModel):
    """Fields every stage has; each stage kind subclasses this with its parameters."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    needs: list[str] = Field(default_factory=list,
                             description="stages whose outputs this stage uses")
    allow_large: bool = Field(False, description="run even when the stage's size estimate is above "
                                                 "its limit (see StageParams.estimates)")

    def estimates(self) -> list[tuple[str, float, float]]:
        """The stage's size before it runs: ``(what, estimate, limit)`` triples (e.g. PNP cells,
        MD atom-steps). ``parse_config`` refuses a stage whose estimate is above its limit unless
        the stage sets ``allow_large = true``. Stage kinds override this; the base has none."""
        return []

    def check_settings(self, where: str, prefix: str) -> None:
        """Validate free-form settings dicts (``settings = {...}``) with the models that read them,
        when the config is parsed; raise ``ConfigError`` naming ``prefix.KEY``. Base: nothing."""


def refuse_large(params: StageParams, where: str, prefix: str,
                 estimates: list[tuple[str, float, float]]) -> None:
    """``ConfigError`` when an estimate is above its limit and ``params.allow_large`` is not set;
    the message shows the estimate, the limit and how to raise it. Stages call it again at run
    time for sizes only known then (e.g. epochs x frames of an upstream data set)."""
    if params.allow_large:
        return
    lines = [f"{where}: {prefix}: {what}: estimated {est:.3g}, above the limit of {limit:.3g}; "
             f"set allow_large = true in [{prefix}] to run it anyway"
             for what, est, limit in estimates if est > limit]
    if lines:
        raise ConfigError("\n".join(lines))


STAGE_KINDS: dict[str, tuple[type[StageParams], Any]] = {}


def stage_kind(name: str, params: type[StageParams]):
    """Register a stage function under ``name`` with its parameter model.

    The function is called as ``func(ctx: StageContext) -> dict`` (see
    :mod:`multiscale.pipeline`). The parameter model's ``kind`` field is
    narrowed to ``Literal[name]`` so configs are validated per kind.
    """
    from typing import Literal

    model = pydantic.create_model(f"{params.__name__}[{name}]", __base__=params,
                                  kind=(Literal[name], ...))

    def decorator(func):
        STAGE_KINDS[name] = (model, func)
        return func

    return decorator


class RunSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: int = 0


class RunConfig(BaseModel):
    """A validated run config. ``stage`` keeps the file's order."""

    model_config = ConfigDict(extra="forbid")
    run: RunSection
    stage: dict[str, StageParams]
    source: Path | None = Field(default=None, exclude=True)

    @property
    def folder(self) -> Path:
        return self.source.parent if self.source else Path.cwd()


def _stage_union():
    from . import stages  # noqa: F401  (registers the built-in stage kinds)

    models = tuple(model for model, _ in STAGE_KINDS.values())
    return Annotated[Union[models], Field(discriminator="kind")]  # noqa: UP007


def _typed_config_model():
    return pydantic.create_model("RunConfigTyped", __base__=RunConfig,
                                 stage=(dict[str, _stage_union()], ...))


# --- errors that read like a person wrote them ------------------------------

def _drop_stage_kind(loc: tuple) -> tuple:
    """A stage's error location carries its discriminator (stage, NAME, KIND, field...): drop the
    kind, which is pydantic's bookkeeping, not a key in the file."""
    if len(loc) > 2 and loc[0] == "stage" and loc[2] in STAGE_KINDS:
        return loc[:2] + loc[3:]
    return loc


def validation_error(exc: pydantic.ValidationError, where: str, vocabulary: Iterable[str],
                     prefix: str = "") -> ConfigError:
    """A ``ConfigError`` with one line per problem of ``exc``, written by the toolkit's one
    formatter (``foundation.validation.format_errors``): ``WHERE: key.path: what was wrong``,
    did-you-mean from ``vocabulary`` on unknown keys; ``prefix`` (dotted) before every key path."""
    return ConfigError(format_errors(exc, where, vocabulary, prefix, loc=_drop_stage_kind))


def validate_section(model: type[M], data: Any, where: str, prefix: str = "") -> M:
    """``model`` from ``data`` (one section of a config); ``ConfigError`` lines name ``prefix.key``."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, where, model_vocabulary(model), prefix) from None


def parse_config(data: dict, source: Path | str | None = None) -> RunConfig:
    """Validate a config given as a dict (as TOML parses it)."""
    where = str(source) if source else "<config>"
    model = _typed_config_model()
    try:
        cfg = model.model_validate({**data, "source": Path(source) if source else None})
    except pydantic.ValidationError as exc:
        raise validation_error(exc, where, model_vocabulary(model)) from None
    _check_graph(cfg, where)
    _check_stages(cfg, where)
    return cfg


def _check_stages(cfg: RunConfig, where: str) -> None:
    """Every stage's free-form settings and size, before any stage runs; one line per problem."""
    lines = []
    for name, st in cfg.stage.items():
        try:
            st.check_settings(where, f"stage.{name}.settings")
            refuse_large(st, where, f"stage.{name}", st.estimates())  # estimates may read settings
        except ConfigError as exc:
            lines.append(str(exc))
    if lines:
        raise ConfigError("\n".join(lines))


def _check_graph(cfg: RunConfig, where: str) -> None:
    names = list(cfg.stage)
    for name, st in cfg.stage.items():
        for need in st.needs:
            if need not in cfg.stage:
                hint = difflib.get_close_matches(need, names, n=1)
                guess = f"; did you mean {hint[0]!r}?" if hint else ""
                raise ConfigError(f"{where}: stage.{name}.needs: {need!r}: no such stage{guess}")
            if need == name:
                raise ConfigError(f"{where}: stage.{name}.needs: {need!r}: a stage cannot need itself")
            if names.index(need) > names.index(name):
                raise ConfigError(f"{where}: stage.{name}.needs: {need!r}: stages must come after "
                                  "the stages they need (reorder the file)")


def read_toml(path: str | Path) -> dict:
    """The TOML file at ``path`` as a dict (safe loader); ``ConfigError`` when missing, a folder,
    not UTF-8 or invalid TOML (one line naming the file)."""
    from foundation.reading import read_text

    text = read_text(path, "config file", ConfigError)   # UTF-8 only; a folder, IO errors: one line
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_toml(path: str | Path, model: type[M]) -> M:
    """The one TOML -> pydantic loader: read ``path`` and validate it as ``model``.

    Raises ``ConfigError`` naming the file and, one line each, every bad key.
    """
    return validate_section(model, read_toml(path), str(path))


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a TOML run config; raises ConfigError (one line per problem)."""
    path = Path(path)
    return parse_config(read_toml(path), path.resolve())


def resolve_path(cfg: RunConfig, value: str | Path) -> Path:
    """A path from a config, relative to the config's folder unless absolute."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else (cfg.folder / p)
