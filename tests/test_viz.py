"""draw_dot: the static Graphviz drawing (with and without the `dot` program)."""

import html
import re
import shutil
from pathlib import Path

import graphviz
import pytest

from micrograd_widgets import Value, draw_dot
from micrograd_widgets.viz import INSTALL_HINT, GraphvizNotInstalled, escape_record_text

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")


def small_graph():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    d.backward()
    return a, b, c, e, d


def svg_texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_digraph_has_a_record_per_value_and_a_node_per_op():
    *_, d = small_graph()
    dot = draw_dot(d)
    assert isinstance(dot, graphviz.Digraph)
    src = dot.source
    assert "rankdir=LR" in src
    assert src.count("shape=record") == 5  # a, b, c, e, d
    assert src.count('label="*"') == 1 and src.count('label="+"') == 1
    assert "{ a | data 2.0000 | grad -3.0000 }" in src
    assert "{ d | data 4.0000 | grad 1.0000 }" in src
    # edges child -> op -> value: a, b -> *, * -> e, e, c -> +, + -> d
    assert len(re.findall(r"->", src)) == 6


def test_rankdir_and_bad_arguments():
    *_, d = small_graph()
    assert "rankdir=TB" in draw_dot(d, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir must be one of"):
        draw_dot(d, rankdir="sideways")
    with pytest.raises(TypeError, match="expects a Value"):
        draw_dot(3.0)


def test_repeated_input_draws_one_edge_like_micrograd():
    a = Value(3.0, label="a")
    sq = a * a
    assert len(re.findall(r"->", draw_dot(sq).source)) == 2  # a -> *, * -> out


def test_deep_graph_has_no_recursion_error():
    x = Value(1.0, label="x")
    y = x
    for _ in range(5000):
        y = y + 1.0
    src = draw_dot(y).source
    assert src.count("shape=record") == 5001 + 5000  # chain values + the constant leaves


@pytest.mark.parametrize(
    "label",
    ["<img src=x onerror=alert(1)>", 'pipe|brace{}angle<>"quote"', "back\\slash", "x\\"],
)
@needs_dot
def test_special_labels_render_literally(label):
    a = Value(1.5, label=label)
    out = a.tanh()
    svg = draw_dot(out).pipe(format="svg").decode()
    assert label in svg_texts(svg)


def test_escape_record_text_escapes_every_special():
    escaped = escape_record_text('a|b{c}<d>"e"\\f')
    assert escaped == 'a\\|b\\{c\\}\\<d\\>\\"e\\"\\\\f'


@needs_dot
def test_renders_svg_and_png_with_dot(tmp_path):
    *_, d = small_graph()
    dot = draw_dot(d)
    texts = svg_texts(dot.pipe(format="svg").decode())
    for expected in ("a", "b", "c", "e", "d", "*", "+", "data 4.0000", "grad -3.0000"):
        assert expected in texts
    png = draw_dot(d, format="png").render(tmp_path / "graph", cleanup=True)
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bundle = dot._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_without_dot_source_works_and_rendering_explains(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` anywhere
    *_, d = small_graph()
    dot = draw_dot(d)
    assert "{ d | data 4.0000" in dot.source
    with pytest.raises(GraphvizNotInstalled, match="apt-get install graphviz"):
        dot.pipe(format="svg")
    with pytest.raises(graphviz.ExecutableNotFound):  # still the graphviz error type
        dot.render(tmp_path / "g")
    bundle = dot._repr_mimebundle_()  # what Jupyter shows: advice, not a traceback
    assert bundle["text/plain"] == INSTALL_HINT
    assert "GraphWidget" in bundle["text/html"]
