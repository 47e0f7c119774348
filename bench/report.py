"""Render measures (as JSON from :meth:`harness.Measure.to_json`) into bench/RESULTS.md.

>>> _fmt(0.01234)
'0.0123'
>>> _fmt(1234.5)
'1234'
"""

from __future__ import annotations

from typing import Any

__all__ = ["render"]

_INTRO = """\
Every number below comes from one `make bench` run. Each measure ran in a fresh process; within a measure the variant
and its baseline were run alternately, round by round, so both saw the same machine load. Other work shares this
machine, so absolute times move between runs (1.5-2x is normal here); the **ratio** against the baseline of the same
run is the figure to compare. *median* and *p95* are over the *n* repetitions (for rates, where higher is better, the
*p95* column is the bad tail: the 5th percentile); *ratio* is the variant's median over the baseline's median (and p95
over p95).
"""


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"**{value:.3g}x**"


def _series_table(series: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| variant | n | median | p95 | baseline | ratio (median) | ratio (p95) |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for s in series:
        unit = s["unit"]
        note = f" ({s['note']})" if s.get("note") else ""
        lines.append(
            f"| {s['name']}{note} | {s['n']} | {_fmt(s['median'])} {unit} | {_fmt(s['p95'])} {unit} | "
            f"{s['baseline'] or '-'} | {_ratio(s.get('ratio_median'))} | {_ratio(s.get('ratio_p95'))} |"
        )
    return lines


def render(facts: dict[str, Any], results: list[dict[str, Any]], *, quick: bool = False, analysis: str = "") -> str:
    """The whole RESULTS.md text; ``analysis`` (bench/limits.md, written by hand) goes at the end."""
    out = ["# Benchmark results", ""]
    if quick:
        out += ["> **Smoke configuration (`--quick`)**: tiny sizes, few repetitions; not meaningful figures.", ""]
    load = ", ".join(f"{x:.2f}" for x in facts["loadavg"])
    load_end = ", ".join(f"{x:.2f}" for x in facts.get("loadavg_end", facts["loadavg"]))
    out += [
        f"Run on {facts['date']}, commit `{facts['commit']}`.",
        "",
        f"**Machine**: {facts['cores']} cores, {facts['cpu']}, {facts['python']}, {facts['platform']}; "
        f"load average {load} at start, {load_end} at the end.",
        "",
        _INTRO,
        "## Targets",
        "",
        "| measure | target | measured | met |",
        "| --- | --- | --- | :---: |",
    ]
    for r in results:
        for c in r.get("checks", []):
            out.append(f"| {r['key']} | {c['target']} | {c['measured']} | {'yes' if c['ok'] else '**no**'} |")
        if "error" in r:
            out.append(f"| {r['key']} | - | measure failed (see below) | **no** |")
        elif "skipped" in r:
            out.append(f"| {r['key']} | - | skipped: {r['skipped']} | - |")
    out.append("")
    for r in results:
        out += [f"## {r['key']}. {r.get('title', '')}".rstrip(), ""]
        if "error" in r:
            out += ["Failed in this run:", "", "```", r["error"].strip(), "```", ""]
            continue
        if "skipped" in r:
            out += [f"Skipped: {r['skipped']}", ""]
            continue
        out += [f"Reproduce: `{r['command']}` ({r.get('seconds', 0):.0f} s in this run)", ""]
        out += _series_table(r["series"])
        out.append("")
        for note in r.get("notes", []):
            out.append(f"- {note}")
        if r.get("notes"):
            out.append("")
    if analysis:
        out += [analysis.strip(), ""]
    return "\n".join(out).rstrip() + "\n"
