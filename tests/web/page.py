"""Reading a view's HTML answer: what the HTTP tests of every view share."""
import html
import json
import re

HX = {"HX-Request": "true"}


def shape(text: str):
    """The shape the page states (data-output-shape), or None when it states none."""
    m = re.search(r'data-output-shape="([^"]*)"', text)
    return None if m is None else json.loads(html.unescape(m.group(1)))


def data(text: str, view: str) -> dict:
    """The numbers the view plays from (#<view>-data, its data-<view> attribute)."""
    return json.loads(html.unescape(re.search(rf'id="{view}-data"[^>]*data-{view}="([^"]*)"', text).group(1)))


def plain(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def alerts(text: str) -> list[str]:
    return [plain(a) for a in re.findall(r'role="alert">(.*?)</div>', text, re.DOTALL)]


def num(text: str) -> float:
    """A number as the page writes it: a real minus sign, negatives maybe in parentheses."""
    return float(text.strip().strip("()").replace("\u2212", "-"))


def cells(text: str, prefix: str) -> dict[int, str]:
    """Grid cells `<td id="{prefix}{i}" ...>text</td>` -> {i: text}."""
    return {int(i): t for i, t in re.findall(rf'<td id="{re.escape(prefix)}(\d+)"[^>]*>([^<]*)</td>', text)}


def section(text: str, element_id: str) -> str:
    """The inner HTML of the element with this id."""
    m = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', text, re.DOTALL)
    assert m, f"#{element_id} missing"
    return m.group(2)


def get(client, url: str, status: int = 200, headers=None):
    """GET that must answer `status`; a failure shows the page's alerts."""
    r = client.get(url, headers=headers or {})
    assert r.status_code == status, (url, r.status_code, alerts(r.text))
    return r
