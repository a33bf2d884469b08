"""The demo's HTML pages: `reproduce --html` (a chart per scenario) and `compare --html`.

One self-contained file: the charts are drawn with matplotlib (the ``demo`` extra) and
inlined as SVG, so the page needs no network and no script to be viewed. Each chart is a
``<figure class="chart">`` holding one ``<svg>``.
"""

from __future__ import annotations

import html
import io
import re
import time
from typing import Any, Dict, List, Optional, Sequence

from conclint.demo import registry
from conclint.demo.results import Result, pairs, verdict

HAZARD, FIXED, EXPECTED = "#d62728", "#2ca02c", "#7f7f7f"
MODEL_COLOURS = {"prefork": "#1f77b4", "threaded": "#ff7f0e", "evented": "#9467bd"}
CATEGORY_COLOURS = ("#2ca02c", "#d62728", "#7f7f7f", "#1f77b4", "#ff7f0e")


def missing_plotting() -> Optional[str]:
    """Why the page cannot be drawn here (matplotlib absent or broken), or None."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        return f"--html draws its charts with matplotlib, which cannot be imported ({exc}): pip install conclint[demo]"
    return None


def _figure(width: float, height: float, columns: int):
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots(1, columns, squeeze=False)[0]
    return figure, list(axes)


def svg_of(figure, salt: str) -> str:
    """The figure as an inline ``<svg>`` element: text stays text, and the ids are unique per chart."""
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r"<svg ", '<svg role="img" ', text, count=1)


def _label_bars(axis, bars, values: Sequence[Optional[float]], fmt: str = "{:g}") -> None:
    for bar, value in zip(bars, values):
        if value is not None:
            axis.annotate(
                fmt.format(value),
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )


def _legend_below(axis, below_a_label: bool = False) -> None:
    anchor = (0.5, -0.3 if below_a_label else -0.12)
    axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=anchor, ncol=3, frameon=False)


def _by_rule(results: Sequence[Result]) -> Dict[Optional[str], Dict[str, Result]]:
    grouped: Dict[Optional[str], Dict[str, Result]] = {}
    for result in results:
        grouped.setdefault(result.rule, {})[result.variant] = result
    return grouped


# ---- one chart per scenario, by kind ---------------------------------------------------------
def counts_chart(results: Sequence[Result]):
    """Expected vs counted, per rule: what a correct program gives, the hazard, the fix."""
    grouped = _by_rule(results)
    figure, axes = _figure(3.4 * len(grouped) + 0.6, 2.9, len(grouped))
    for axis, (rule, variants) in zip(axes, grouped.items()):
        first = next(iter(variants.values()))
        labels = ["correct", "hazard", "fixed"]
        values = [
            first.expected_value,
            *(variants[v].observed_value if v in variants else None for v in ("hazard", "fixed")),
        ]
        colours = [EXPECTED, HAZARD, FIXED]
        bars = axis.bar(labels, [v or 0 for v in values], color=colours)
        for bar, value, colour in zip(bars, values, colours):
            if value == 0:  # a count of 0 (a spawned pool's 0 of 3 right) stays visible: a floor in its colour
                axis.hlines(
                    0, bar.get_x(), bar.get_x() + bar.get_width(), colors=colour, linewidth=5, zorder=3, clip_on=False
                )
        _label_bars(axis, bars, values)
        axis.set_title(f"{rule or 'no rule'}: {first.unit}", fontsize=10)
        axis.set_ylim(0, max([v or 0 for v in values] + [1]) * 1.18)
        axis.spines[["top", "right"]].set_visible(False)
    return figure


def latency_chart(results: Sequence[Result]):
    """Ping latency percentiles while the call runs, hazard beside fix (log scale), and the limit."""
    grouped = _by_rule(results)
    figure, axes = _figure(3.9 * len(grouped) + 0.6, 3.2, len(grouped))
    marks = ["p50", "p90", "p99", "max"]
    for axis, (rule, variants) in zip(axes, grouped.items()):
        first = next(iter(variants.values()))
        positions = range(len(marks))
        for offset, variant, colour in ((-0.2, "hazard", HAZARD), (0.2, "fixed", FIXED)):
            data = variants[variant].data if variant in variants else {}
            values = [max(0.1, data.get(mark, 0.0)) for mark in marks]
            bars = axis.bar([p + offset for p in positions], values, 0.4, color=colour, label=variant)
            _label_bars(axis, bars, [data.get(mark) for mark in marks], "{:.0f}")
        if first.expected_value:
            axis.axhline(first.expected_value, color=EXPECTED, linestyle="--", linewidth=1)
            axis.annotate(
                f"limit {first.expected_value:g} ms", (-0.45, first.expected_value * 1.08), fontsize=7, ha="left"
            )
        axis.set_yscale("log")
        axis.set_xticks(list(positions), marks)
        axis.set_ylabel("/ping latency (ms)", fontsize=8)
        axis.set_title(f"{rule}: /ping while the call runs", fontsize=10)
        _legend_below(axis)
        axis.spines[["top", "right"]].set_visible(False)
    return figure


def workers_chart(results: Sequence[Result]):
    """What each process saw: one stacked bar per process, hazard and fix side by side."""
    variants = [r for r in results if r.data.get("workers")]
    if not variants:
        variants = list(results)
    rows = max([len(r.data.get("workers", [])) for r in variants] + [1])
    longest = max(
        [sum(w["values"].values()) for r in variants for w in r.data.get("workers", [])]
        + [r.data.get("expected", 0) for r in variants]
        + [1]
    )
    figure, axes = _figure(4.2 * len(variants) + 0.6, 0.45 * rows + 1.9, len(variants))
    for axis, result in zip(axes, variants):
        workers = result.data.get("workers", [])
        categories = result.data.get("categories", [])
        names = [worker["name"] for worker in workers]
        left = [0.0] * len(workers)
        for index, category in enumerate(categories):
            values = [worker["values"].get(category, 0) for worker in workers]
            if not any(values):
                continue
            colour = CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]
            if len(categories) == 1:  # one measure: red where it is the hazard's, green where the fix's
                colour = HAZARD if result.variant == "hazard" else FIXED
            axis.barh(names, values, left=left, color=colour, label=category)
            left = [a + b for a, b in zip(left, values)]
        if "expected" in result.data:
            axis.axvline(result.data["expected"], color=EXPECTED, linestyle="--", linewidth=1)
        axis.set_xlim(0, longest * 1.05)  # one scale for hazard and fix
        if result.data.get("axis"):
            axis.set_xlabel(result.data["axis"], fontsize=7)
        else:  # one outcome per process: the length says nothing
            axis.set_xticks([])
        axis.invert_yaxis()
        axis.tick_params(labelsize=7)
        verdict = "hazard" if result.variant == "hazard" else "fixed"
        axis.set_title(f"{result.rule or 'no rule'} {verdict} ({result.model}): {result.observed}", fontsize=9)
        if categories:
            _legend_below(axis, below_a_label=bool(result.data.get("axis")))
        axis.spines[["top", "right"]].set_visible(False)
    return figure


CHARTS = {"counts": counts_chart, "latency": latency_chart, "workers": workers_chart}


# ---- the pages -----------------------------------------------------------------------------------
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; }
h2 small { font-weight: normal; color: #666; }
figure.chart { margin: 0.5rem 0; } figure.chart svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.9rem; }
td, th { padding: 0.2rem 0.8rem; text-align: left; border-bottom: 1px solid #ddd; }
.bad { color: #b00; font-weight: bold; } .good { color: #070; }
details { font-size: 0.85rem; color: #444; } nav a { margin-right: 0.8rem; white-space: nowrap; }
"""


def page(title: str, intro: str, sections: Sequence[str]) -> str:
    return (
        "<!doctype html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{intro}\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def _escape(text: Any) -> str:
    return html.escape(str(text))


def scenario_section(name: str, results: Sequence[Result]) -> str:
    entry = registry.scenario(name)
    rules = ", ".join(code for code in entry.rules if code) or "no rule"
    figure = CHARTS[entry.chart](results)
    chart = svg_of(figure, salt=name)
    rows = []
    for hazard, fixed in pairs(results):
        first = hazard or fixed
        result = verdict(hazard, fixed)
        rows.append(
            f"<tr><td>{_escape(first.rule or '-')}</td><td>{_escape(first.expected)}</td>"
            f"<td>{_escape(hazard.observed if hazard else '-')}</td>"
            f"<td>{_escape(fixed.observed if fixed else '-')}</td>"
            f"<td class='{'good' if result == 'ok' else 'bad'}'>{_escape(result)}</td></tr>"
        )
    details = "".join(f"<li><b>{_escape(r.rule or '-')} {r.variant}</b>: {_escape(r.detail)}</li>" for r in results)
    return (
        f"<section class='scenario' id='{_escape(name)}'>\n"
        f"<h2>{_escape(name)} <small>{_escape(rules)} · {_escape(entry.model)}</small></h2>\n"
        f"<p>{_escape(entry.summary)}. <code>conclint demo reproduce {_escape(name)}</code></p>\n"
        f"<figure class='chart' data-scenario='{_escape(name)}'>{chart}</figure>\n"
        "<table><tr><th>rule</th><th>expected</th><th>hazard</th><th>fix</th><th>result</th></tr>"
        + "".join(rows)
        + f"</table>\n<details><summary>how it ran</summary><ul>{details}</ul></details>\n</section>"
    )


def write_reproduce_page(path: str, results: Sequence[Result], seconds: float) -> None:
    by_scenario: Dict[str, List[Result]] = {}
    for result in results:
        by_scenario.setdefault(result.scenario, []).append(result)
    good = sum(r.ok for r in results)
    nav = " ".join(f"<a href='#{_escape(n)}'>{_escape(n)}</a>" for n in by_scenario)
    intro = (
        f"<p>{good} of {len(results)} variants as expected in {seconds:.1f} s, {time.strftime('%Y-%m-%d %H:%M')}. "
        "Each hazard variant runs the handler as people write it, each fixed variant its fix, on real servers "
        "and sockets.</p>\n"
        f"<nav>{nav}</nav>"
    )
    sections = [scenario_section(name, found) for name, found in by_scenario.items()]
    with open(path, "w", encoding="utf-8") as out:
        out.write(page("conclint demo: every hazard, reproduced", intro, sections))


# ---- compare ------------------------------------------------------------------------------------
def compare_figures(rows: Sequence[Dict[str, Any]]) -> List[Any]:
    """Throughput, p50/p99 latency and memory by concurrent clients, one line per model; and the
    run with a blocking handler."""
    steady = [r for r in rows if not r["blocking"]]
    blocking = [r for r in rows if r["blocking"]]
    models = list(dict.fromkeys(r["model"] for r in steady))
    figure, axes = _figure(11.5, 3.2, 3)
    for model in models:
        mine = [r for r in steady if r["model"] == model]
        clients = [r["clients"] for r in mine]
        colour = MODEL_COLOURS.get(model)
        axes[0].plot(clients, [r["throughput"] for r in mine], marker="o", color=colour, label=model)
        axes[1].plot(clients, [r["p50_ms"] for r in mine], marker="o", color=colour, label=f"{model} p50")
        axes[1].plot(
            clients, [r["p99_ms"] for r in mine], marker="^", linestyle="--", color=colour, label=f"{model} p99"
        )
        axes[2].plot(clients, [r["rss_mb"] for r in mine], marker="o", color=colour, label=f"{model} RSS")
        axes[2].plot(
            clients, [r["pss_mb"] for r in mine], marker="^", linestyle="--", color=colour, label=f"{model} PSS"
        )
    for axis, title, unit in (
        (axes[0], "throughput", "requests/s"),
        (axes[1], "latency", "ms"),
        (axes[2], "memory (of every process, summed)", "MB"),
    ):
        axis.set_xscale("log")
        levels = sorted({r["clients"] for r in steady})
        axis.set_xticks(levels, [str(level) for level in levels])
        axis.minorticks_off()
        axis.set_xlabel("concurrent clients", fontsize=8)
        axis.set_ylabel(unit, fontsize=8)
        axis.set_title(title, fontsize=10)
        axis.legend(fontsize=6, frameon=False)
        axis.tick_params(labelsize=7)
        axis.spines[["top", "right"]].set_visible(False)
    axes[1].set_yscale("log")
    figures = [figure]
    if blocking:
        second, (left, right) = _figure(8, 2.8, 2)
        names = [r["model"] for r in blocking]
        colours = [MODEL_COLOURS.get(n) for n in names]
        bars = left.bar(names, [r["throughput"] for r in blocking], color=colours)
        _label_bars(left, bars, [r["throughput"] for r in blocking], "{:.0f}")
        left.set_title(f"a handler that blocks (time.sleep): throughput, {blocking[0]['clients']} clients", fontsize=9)
        left.set_ylabel("requests/s", fontsize=8)
        bars = right.bar(names, [r["p99_ms"] for r in blocking], color=colours)
        _label_bars(right, bars, [r["p99_ms"] for r in blocking], "{:.0f}")
        right.set_title("p99 latency (ms)", fontsize=9)
        for axis in (left, right):
            axis.spines[["top", "right"]].set_visible(False)
        figures.append(second)
    return figures


def write_compare_page(path: str, rows: Sequence[Dict[str, Any]], table_text: str, note: str) -> None:
    charts = [
        f"<figure class='chart' data-chart='compare-{index}'>{svg_of(figure, salt=f'compare-{index}')}</figure>"
        for index, figure in enumerate(compare_figures(rows))
    ]
    intro = f"<p>{_escape(note)}</p>"
    sections = ["<section id='compare'>", *charts, f"<pre>{_escape(table_text)}</pre>", "</section>"]
    with open(path, "w", encoding="utf-8") as out:
        out.write(page("conclint demo compare: three concurrency models, one app", intro, sections))
