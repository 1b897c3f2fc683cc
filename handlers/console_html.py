"""The console's HTML: one layout and small builders, every value escaped on the way in.

Server-rendered, no script and nothing fetched from elsewhere: the console works offline and a
value from an agent (a title, a source URL) can never become markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any
from urllib.parse import urlencode

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1c1d;background:#f8f8f8}
header{background:#3f0e40;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:center}
header a{color:#fff;text-decoration:none}header .who{margin-left:auto;opacity:.85}
main{padding:16px 24px;max-width:1200px}h1{font-size:20px}h2{font-size:16px;margin-top:22px}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border:1px solid #ddd;
padding:5px 8px;text-align:left;vertical-align:top}th{background:#f0f0f0}
pre{white-space:pre-wrap;margin:0;font-size:12px}.bad{color:#b00020}.ok{color:#007a5a}
form.filters{display:flex;flex-wrap:wrap;gap:8px;margin-bottom:12px}
form.filters label{display:flex;flex-direction:column;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:16px}.charts figure{background:#fff;margin:0;padding:8px;
border:1px solid #ddd}figcaption{font-weight:600}
"""


def esc(value: Any) -> str:
    """Text for HTML: None as a dash, everything else escaped."""
    return "-" if value is None else escape(str(value))


def link(href: str, text: Any, **query: Any) -> str:
    """An anchor; `query` (None values left out) is appended URL-encoded."""
    params = {k: v for k, v in query.items() if v not in (None, "")}
    target = f"{href}?{urlencode(params)}" if params else href
    return f'<a href="{escape(target)}">{esc(text)}</a>'


def pretty(value: Any) -> str:
    """A JSON value as readable, escaped preformatted text."""
    text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str)
    return f"<pre>{escape(text)}</pre>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, raw: bool = True) -> str:
    """A table; cells are markup already (`raw`) or escaped here; no header row if all blank."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers) if any(headers) else ""
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A two-column table of name / value markup."""
    return table(["", ""], ((f"<b>{esc(k)}</b>", v) for k, v in pairs))


def page(title: str, body: str, *, who: str | None = None, roles: Sequence[str] = ()) -> str:
    """The whole document with the console's navigation."""
    nav = "".join(
        link(href, text)
        for href, text in (
            ("/console", "Workflows"),
            ("/console/access", "Data access"),
            ("/console/items", "Items"),
            ("/console/patterns", "Patterns"),
            ("/console/audit", "Audit"),
        )
    )
    person = ""
    if who:
        person = (
            f'<span class="who">{esc(who)} ({esc(", ".join(roles) or "no role")}) · '
            f"{link('/console/signout', 'sign out')}</span>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)} · Airlock console</title><style>{STYLE}</style></head>"
        f"<body><header><b>Airlock console</b>{nav}{person}</header>"
        f"<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )


def select_input(name: str, label: str, options: Sequence[str], chosen: str | None) -> str:
    """A labelled <select> with an empty 'any' choice."""
    opts = ['<option value="">any</option>'] + [
        f'<option value="{esc(o)}"{" selected" if o == chosen else ""}>{esc(o)}</option>'
        for o in options
    ]
    return f'<label>{esc(label)}<select name="{esc(name)}">{"".join(opts)}</select></label>'


def text_input(name: str, label: str, value: str | None, kind: str = "text") -> str:
    """A labelled <input>."""
    return (
        f'<label>{esc(label)}<input type="{kind}" name="{esc(name)}" '
        f'value="{esc(value or "")}"></label>'
    )
