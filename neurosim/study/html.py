"""Self-contained HTML reports: one file with the tables, the PNG figures inline and the hardware.

A report opens in any browser without the files beside it (figures are ``data:`` URIs), so it can
be mailed or attached as it is. A one-line script records, once the page has loaded, how many
figures the browser decoded (``data-images-rendered`` on ``<body>``), which the test suite checks in
headless Chromium.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

__all__ = ["html_page", "png_tag", "table_html"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { padding: 0.2em 0.8em; border: 1px solid #ddd; }
th { background: #f4f4f4; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.4em 0; } pre { background: #f8f8f8; padding: 0.8em; }
"""

_SCRIPT = ("addEventListener('load', () => { document.body.dataset.imagesRendered = "
           "[...document.images].filter(i => i.complete && i.naturalWidth > 0).length; });")


def png_tag(path, alt: str) -> str:
    """An ``<img>`` with the PNG file inline (base64)."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def table_html(rows, header=None) -> str:
    """An HTML table of rows (sequences of cells); numbers right-aligned."""
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = []
        for c in row:
            num = isinstance(c, (int, float)) and not isinstance(c, bool)
            text = f"{c:.4g}" if isinstance(c, float) else str(c)
            cells.append(f'<td class="num">{html.escape(text)}</td>' if num else f"<td>{html.escape(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def html_page(title: str, sections) -> str:
    """A complete page: ``sections`` is a list of ``(heading, html_fragment)``."""
    body = "\n".join(f"<h2>{html.escape(h)}</h2>\n{frag}" for h, frag in sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n"
            f"<script>{_SCRIPT}</script>\n</body></html>\n")
