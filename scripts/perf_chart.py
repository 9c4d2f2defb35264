#!/usr/bin/env python3
"""Draws docs/perf.svg, the cost of one request through tokengate, from criterion's results.

    cargo bench --bench layer
    python3 scripts/perf_chart.py [--criterion-dir DIR] [--output FILE] [--date YYYY-MM-DD]

Reads the medians of the benchmark group `axum` that `benches/layer.rs` writes, each from
`<criterion dir>/axum/<function>/new/estimates.json` (`median.point_estimate`, in ns):

    floor                 the raw signature check (aws-lc-rs), the least any validator costs
    router+layer          one GET through an axum Router with TokenLayer, token cache disabled
    router+layer+cache    the same with the verified-token cache (the default)
    router                the Router alone, no layer

and writes a horizontal bar chart of the cost per request in microseconds (linear axis, each
bar labelled with its value). The criterion directory is `$CARGO_TARGET_DIR/criterion` when
that variable is set, else `target/criterion` at the root of the repository. The date in the
footnote is the day the newest of those results was written, unless `--date` says otherwise.

Python 3 standard library only. Exit status 1 when results are missing or unreadable.
"""

import argparse
import datetime
import json
import math
import os
import sys
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parent.parent
GROUP = "axum"
TITLE = "Cost per request, one GET through axum (RS256, 1.3 KB Entra-shaped token)"

# (criterion function, label, second line under the label, bar colour), top to bottom.
BARS = [
    ("floor", "floor", "signature check alone (aws-lc-rs)", "#8c959f"),
    ("router+layer", "tokengate uncached", "router+layer, cache off", "#0969da"),
    ("router+layer+cache", "tokengate cached", "router+layer+cache", "#1a7f37"),
    ("router", "routing alone", "router, no layer", "#c4cbd3"),
]

FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"

# Layout, in px.
WIDTH = 820
LEFT = 230  # where the axis starts: the labels are to its left
RIGHT = 100  # room for the value after the longest bar
TOP = 64  # the first bar's row
ROW = 52  # one bar and the gap below it
BAR = 30


class ChartError(Exception):
    """Results missing or unreadable: the message says which and what to do."""


def default_criterion_dir():
    target = os.environ.get("CARGO_TARGET_DIR")
    # A relative CARGO_TARGET_DIR is relative to the working directory, as for cargo.
    return Path(target) / "criterion" if target else ROOT / "target" / "criterion"


def estimates_path(criterion_dir, function):
    return Path(criterion_dir) / GROUP / function / "new" / "estimates.json"


def read_medians(criterion_dir):
    """The median of each bar's function in ns, and the newest result's modification time."""
    medians, problems, newest = {}, [], 0.0
    for function, *_ in BARS:
        path = estimates_path(criterion_dir, function)
        try:
            with open(path, encoding="utf-8") as file:
                estimates = json.load(file)
            newest = max(newest, path.stat().st_mtime)
        except FileNotFoundError:
            problems.append(f"{GROUP}/{function}: no results ({path} does not exist)")
            continue
        except (OSError, ValueError) as error:
            problems.append(f"{GROUP}/{function}: {path} is unreadable: {error}")
            continue
        try:
            value = estimates["median"]["point_estimate"]
        except (KeyError, TypeError):
            problems.append(f"{GROUP}/{function}: {path} has no median.point_estimate")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0
        ):
            problems.append(
                f"{GROUP}/{function}: median.point_estimate {value!r} in {path} is not a "
                "positive number of nanoseconds"
            )
            continue
        medians[function] = float(value)
    if problems:
        raise ChartError(
            f"cannot draw the chart from the criterion results in {criterion_dir}:\n  "
            + "\n  ".join(problems)
            + "\nRun `cargo bench --bench layer` first (it writes all four), or point "
            "--criterion-dir at the directory that holds them."
        )
    return medians, newest


def nice_step(span, ticks=5):
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` ticks."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * power >= raw:
            return multiple * power
    return 10 * power


def number(value):
    """A value in µs with precision that suits its size: 0.84, 18.4, 153."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def tick_label(value, step):
    """A tick value with as many decimals as the step needs: 0, 2.5, 5 or 0.25, 0.5."""
    if value == 0:
        return "0"
    decimals = next(d for d in range(7) if abs(round(step, d) - step) <= step * 1e-9)
    return f"{value:,.{decimals}f}"


def text(x, y, content, size=13, anchor="start", fill="#1f2328", weight=None, family=None):
    attributes = f'x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}"'
    if anchor != "start":
        attributes += f' text-anchor="{anchor}"'
    if weight:
        attributes += f' font-weight="{weight}"'
    if family:
        attributes += f" font-family={quoteattr(family)}"
    return f"  <text {attributes}>{escape(content)}</text>"


def render(medians, date, placeholder=False):
    """The chart as SVG text. `medians` in ns, by criterion function."""
    micros = {function: medians[function] / 1000.0 for function, *_ in BARS}
    largest = max(micros.values())
    step = nice_step(largest)
    axis_max = math.ceil(largest / step - 1e-9) * step
    plot_width = WIDTH - LEFT - RIGHT
    scale = plot_width / axis_max
    plot_bottom = TOP + ROW * len(BARS) - (ROW - BAR) // 2
    axis_labels = plot_bottom + 18
    footnote_y = axis_labels + 40
    height = footnote_y + (40 if placeholder else 22)

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family={quoteattr(FONT)} role="img" '
        'aria-labelledby="title desc">',
        f'  <title id="title">{escape(TITLE)}</title>',
        '  <desc id="desc">'
        + escape(
            "; ".join(f"{label}: {number(micros[function])} µs" for function, label, *_ in BARS)
        )
        + "</desc>",
        f'  <rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        text(16, 30, TITLE, size=16, weight="600"),
    ]

    # Grid lines and tick labels.
    ticks = int(round(axis_max / step))
    for i in range(ticks + 1):
        value = i * step
        x = LEFT + value * scale
        colour = "#8c959f" if i == 0 else "#e6e8eb"
        out.append(
            f'  <line x1="{x:.1f}" y1="{TOP - 12}" x2="{x:.1f}" y2="{plot_bottom}" '
            f'stroke="{colour}" stroke-width="1"/>'
        )
        out.append(text(x, axis_labels, tick_label(value, step), size=11, anchor="middle",
                        fill="#57606a"))
    out.append(text(LEFT + plot_width / 2, axis_labels + 18, "µs per request (median)",
                    size=11, anchor="middle", fill="#57606a"))

    # The bars, their labels and values.
    for row, (function, label, detail, colour) in enumerate(BARS):
        value = micros[function]
        y = TOP + row * ROW
        width = max(value * scale, 1.0)
        out.append(
            f'  <rect x="{LEFT}" y="{y}" width="{width:.1f}" height="{BAR}" rx="2" '
            f'fill="{colour}"><title>{escape(f"{label}: {number(value)} µs")}</title></rect>'
        )
        out.append(text(LEFT - 12, y + 13, label, size=13, anchor="end", weight="600"))
        out.append(text(LEFT - 12, y + 27, detail, size=11, anchor="end", fill="#57606a"))
        out.append(text(LEFT + width + 8, y + BAR / 2 + 5, f"{number(value)} µs", size=13))

    # The footnote: where the numbers come from.
    out.append(
        f'  <text x="16" y="{footnote_y}" font-size="11" fill="#57606a">median of criterion '
        f'runs, <tspan font-family={quoteattr(MONO)}>cargo bench --bench layer</tspan>, '
        f"{escape(date)}</text>"
    )
    if placeholder:
        out.append(
            text(16, footnote_y + 18,
                 "PLACEHOLDER: made-up numbers, not a benchmark result; regenerate from a real run.",
                 size=12, fill="#cf222e", weight="600")
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Draw docs/perf.svg from the criterion results of `cargo bench --bench layer`."
    )
    parser.add_argument("--criterion-dir", type=Path, default=None,
                        help="criterion's output directory "
                             "(default: $CARGO_TARGET_DIR/criterion, else target/criterion)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "perf.svg",
                        help="the SVG to write (default: docs/perf.svg)")
    parser.add_argument("--date", default=None,
                        help="the date in the footnote (default: when the newest result was written)")
    parser.add_argument("--placeholder", action="store_true",
                        help="mark the chart as made-up numbers (for a chart drawn from fake results)")
    args = parser.parse_args(argv)

    criterion_dir = args.criterion_dir or default_criterion_dir()
    try:
        medians, newest = read_medians(criterion_dir)
    except ChartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    date = args.date or datetime.date.fromtimestamp(newest).isoformat()
    svg = render(medians, date, placeholder=args.placeholder)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.output.with_name(args.output.name + ".tmp")
    temporary.write_text(svg, encoding="utf-8")
    temporary.replace(args.output)

    for function, label, *_ in BARS:
        print(f"  {label:<20} {function:<20} {number(medians[function] / 1000.0):>9} µs")
    print(f"wrote {args.output} ({date}, from {criterion_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
