"""The home page over HTTP: whole page or htmx fragment from one URL, and bad links explained."""
import json
import re


def shape(html: str):
    return json.loads(re.search(r'data-output-shape="([^"]*)"', html).group(1).replace("&#34;", '"'))


def test_full_page_and_fragment_share_a_url(client):
    full = client.get("/?kernel_size=5&padding=2")
    frag = client.get("/?kernel_size=5&padding=2", headers={"HX-Request": "true"})
    assert full.status_code == frag.status_code == 200
    assert "HX-Request" in full.headers["vary"] and "HX-Request" in frag.headers["vary"]
    assert "<html" in full.text and "<html" not in frag.text
    assert frag.text.strip().startswith('<div id="live"')
    assert shape(full.text) == shape(frag.text) == [1, 1, 10]  # (10 + 2 + 2 − 5) / 1 + 1
    restore = client.get("/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_window_that_does_not_fit_is_an_answer_not_an_error(client):
    r = client.get("/?kernel_size=9&dilation=2")
    assert r.status_code == 200
    assert 'role="alert"' in r.text and "does not fit" in r.text and "data-output-shape" not in r.text


def test_out_of_range_values_are_named_and_reset(client):
    r = client.get("/?kernel_size=99&stride=two&padding=1")
    assert r.status_code == 422
    assert "kernel_size: Input should be less than or equal to 9, got &#39;99&#39;" in r.text
    assert "stride: Input should be a valid integer" in r.text
    assert shape(r.text) == [1, 1, 10]  # kernel 3 and stride 1 (defaults), padding 1 kept


def test_query_values_are_escaped(client):
    r = client.get("/", params={"stride": "<script>alert(1)</script>"})
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text


def test_security_headers(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in r.headers


def test_health(client):
    assert client.get("/health").json() == {"ok": True}
