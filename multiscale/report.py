"""The run report: ``report.md`` for people (with the PNG plots) and ``results.json`` for programs."""
from __future__ import annotations

import json
from pathlib import Path

from foundation.files import write_json, write_text
from .provenance import provenance


def write_report(out: Path, records: list, cfg) -> tuple[Path, Path]:
    """Write OUT/report.md and OUT/results.json from the pipeline's stage records."""
    out = Path(out)
    lines = [f"# Run `{cfg.run.name}`", ""]
    if cfg.run.description:
        lines += [cfg.run.description, ""]
    lines += ["| stage | kind | status | time |", "|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r.name} | {cfg.stage[r.name].kind} | {r.status} | {r.seconds:.1f} s |")
    for r in records:
        lines += ["", f"## {r.name}", ""]
        for label, text in (r.results.get("headline") or {}).items():
            lines.append(f"- **{label}**: {text}")
        for fig in r.results.get("figures") or []:
            rel = (r.dir / fig).relative_to(out)
            lines += ["", f"![{r.name}: {Path(fig).stem}]({rel.as_posix()})"]
    prov = provenance(cfg)
    lines += ["", "## Provenance", "", "```json", json.dumps(prov, indent=2), "```", ""]
    report = write_text(out / "report.md", "\n".join(lines))
    results = write_json(out / "results.json", {
        "run": cfg.run.model_dump(mode="json"),
        "stages": {r.name: {"kind": cfg.stage[r.name].kind, "status": r.status,
                            "seconds": r.seconds, "results": r.results} for r in records},
        "provenance": prov})
    return report, results


def headlines(records: list) -> list[tuple[str, str]]:
    """(label, text) pairs of every stage's headline numbers, in stage order."""
    return [(f"{r.name}: {k}", v) for r in records for k, v in (r.results.get("headline") or {}).items()]
