"""The report as one self-contained HTML file: plotly charts (plotly.js embedded) and tables.

The file opens offline: plotly.js is inlined once in ``<head>`` and nothing is
fetched. Plot coordinates are floats (a chart needs no more); every number a
reader copies (hover texts, tables) is the exact text of the tables.
"""

from __future__ import annotations

import html
from fractions import Fraction
from typing import Any

from netflag.analysis.report_data import ReportData
from netflag.analysis.tables import Table
from netflag.engine.money import decimal_text
from netflag.errors import NetflagError

INSTALL_HINT = 'the HTML report needs plotly: pip install "netflag[report]"'
TABLE_ROWS = 200  # rows shown per table in the page; the CSV files hold them all
FLAG_RED, CALM_GREY, AMOUNT_BLUE = "#d62728", "#9aa5b1", "#1f77b4"
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2em; } .summary { color: #555; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.chart { border: 1px solid #ddd; border-radius: 6px; padding: 0.5em; }
.chart h3 { font-size: 1em; margin: 0.2em 0.5em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
th { background: #f4f4f4; } caption { text-align: left; font-weight: bold; padding: 4px 0; }
"""


def require_plotly() -> None:
    """Fail with a one-line hint when the ``report`` extra is not installed."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        raise NetflagError(INSTALL_HINT) from None


def _number(text: str) -> float:
    """An exact decimal text as a float, for a plot coordinate only."""
    return float(Fraction(text))


def _column(table: Table, name: str) -> list[Any]:
    i = table.columns.index(name)
    return [row[i] for row in table.rows]


def _figure(traces: list[Any], **layout: Any) -> Any:
    import plotly.graph_objects as go

    figure = go.Figure(data=traces)
    figure.update_layout(
        height=360,
        margin={"l": 60, "r": 60, "t": 30, "b": 60},
        legend={"orientation": "h", "y": -0.2},
        **layout,
    )
    return figure


def _right_axis(title: str) -> dict[str, Any]:
    """A second y axis on the right with its own round ticks, starting at 0."""
    return {
        "title": title,
        "overlaying": "y",
        "side": "right",
        "tickmode": "auto",
        "rangemode": "tozero",
        "showgrid": False,
    }


def _bar(x: list[Any], y: list[Any], name: str, color: str, **more: Any) -> Any:
    import plotly.graph_objects as go

    return go.Bar(x=x, y=y, name=name, marker_color=color, **more)


def _charts(tables: dict[str, Table]) -> list[tuple[str, str, Any]]:
    """``(id, heading, figure)`` for each chart, from the tables' exact text."""
    import plotly.graph_objects as go

    money, flow = tables["amount_over_time"], tables["flags_over_time"]
    top, flags = tables["top_anomalies"], tables["flags"]
    sizes, busy = tables["network_sizes"], tables["amount_by_second"]
    per_money, per_flow = money.columns[0], flow.columns[0]
    finite = [row for row in top.rows if row[1] not in ("inf", "-inf")]
    hidden = len(top.rows) - len(finite)
    return [
        (
            "amount",
            f"When the shop earns: total amount and purchases per {per_money}",
            _figure(
                [
                    _bar(
                        _column(money, per_money),
                        [_number(t) for t in _column(money, "total")],
                        "total amount",
                        AMOUNT_BLUE,
                        hovertext=_column(money, "total"),
                    ),
                    go.Scatter(
                        x=_column(money, per_money),
                        y=_column(money, "purchases"),
                        name="purchases",
                        yaxis="y2",
                        mode="lines+markers",
                        marker_color=CALM_GREY,
                    ),
                ],
                yaxis={"title": "total amount"},
                yaxis2=_right_axis("purchases"),
            ),
        ),
        (
            "flags-over-time",
            f"Stream purchases checked and flagged per {per_flow}",
            _figure(
                [
                    _bar(_column(flow, per_flow), _column(flow, "checked"), "checked", CALM_GREY),
                    _bar(_column(flow, per_flow), _column(flow, "flagged"), "flagged", FLAG_RED),
                ],
                barmode="overlay",
            ),
        ),
        (
            "top-anomalies",
            "Top anomalies by z-score" + (f" ({hidden} with sd 0 not drawn)" if hidden else ""),
            _figure(
                [
                    _bar(
                        [_number(str(row[1])) for row in finite][::-1],
                        [f"line {row[2]} · user {row[4]}" for row in finite][::-1],
                        "z-score",
                        FLAG_RED,
                        orientation="h",
                        hovertext=[f"z = {row[1]}, amount {row[5]}" for row in finite][::-1],
                    )
                ],
                xaxis={"title": "z-score"},
                yaxis={"automargin": True},
            ),
        ),
        (
            "flags",
            "Flagged amounts against their thresholds (mean + k x sd)",
            _figure(
                [
                    go.Scatter(
                        x=_column(flags, "timestamp"),
                        y=[_number(a) for a in _column(flags, "amount")],
                        hovertext=[
                            f"line {line}, user {user}: {amount}"
                            for line, user, amount in zip(
                                _column(flags, "line"),
                                _column(flags, "user"),
                                _column(flags, "amount"),
                                strict=True,
                            )
                        ],
                        mode="markers",
                        name="flagged amount",
                        marker={"color": FLAG_RED, "size": 9},
                    ),
                    go.Scatter(
                        x=_column(flags, "timestamp"),
                        y=[_number(t) for t in _column(flags, "threshold")],
                        hovertext=_column(flags, "threshold"),
                        mode="markers",
                        name="threshold",
                        marker={"color": "#555", "size": 12, "symbol": "line-ew-open"},
                    ),
                ],
                yaxis={"type": "log", "title": "amount", "dtick": 1},
            ),
        ),
        (
            "network-sizes",
            sizes.title,
            _figure(
                [
                    _bar(
                        _column(sizes, "network"),
                        _column(sizes, "checked"),
                        "checked",
                        CALM_GREY,
                        offsetgroup="1",
                    ),
                    _bar(
                        _column(sizes, "network"),
                        _column(sizes, "flagged"),
                        "flagged (right axis)",
                        FLAG_RED,
                        offsetgroup="2",
                        yaxis="y2",
                    ),
                ],
                xaxis={"title": "network size (users)", "type": "category"},
                yaxis={"title": "checked"},
                yaxis2=_right_axis("flagged"),
                barmode="group",
            ),
        ),
        (
            "busiest-seconds",
            busy.title,
            _figure(
                [
                    _bar(
                        _column(busy, "second"),
                        [_number(t) for t in _column(busy, "total")],
                        "total amount",
                        AMOUNT_BLUE,
                        hovertext=[
                            f"{n} purchases, {t}"
                            for n, t in zip(
                                _column(busy, "purchases"), _column(busy, "total"), strict=True
                            )
                        ],
                    )
                ],
                xaxis={"type": "category", "automargin": True, "tickangle": -30},
                yaxis={"title": "total amount"},
            ),
        ),
    ]


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in table.rows[:TABLE_ROWS]
    )
    more = len(table.rows) - TABLE_ROWS
    note = f"<p>{more:,} more rows in {table.name}.csv</p>" if more > 0 else ""
    caption = html.escape(table.title)
    return (
        f"<table id='{table.name}'><caption>{caption}</caption><tr>{head}</tr>{body}</table>{note}"
    )


def render_html(data: ReportData, tables: list[Table], *, title: str = "netflag report") -> str:
    """The whole page as text (UTF-8 when written)."""
    require_plotly()
    from plotly.offline import get_plotlyjs

    by_name = {t.name: t for t in tables}
    charts = "".join(
        f"<div class='chart'><h3>{html.escape(heading)}</h3>"
        + figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{name}",
            config={"displaylogo": False, "responsive": True},
        )
        + "</div>"
        for name, heading, figure in _charts(by_name)
    )
    params = data.params
    summary = (
        f"D={params.D} T={params.T} k={decimal_text(params.k)}: "
        f"{sum(data.purchases.values()):,} purchases in the logs, "
        f"{data.checked_total:,} stream purchases checked, {data.flagged:,} flagged."
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head>\n<body>"
        f"<h1>{html.escape(title)}</h1><p class='summary'>{html.escape(summary)}</p>"
        f"<div class='charts'>{charts}</div>\n<h2>Tables</h2>"
        + "".join(_table_html(t) for t in tables)
        + "</body></html>\n"
    )
