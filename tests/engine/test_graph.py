"""Friend graph: no-op befriend/unfriend, exact distance rings, layers and extension."""

from __future__ import annotations

from netflag.engine.graph import Graph


def graph(edges: list[tuple[int, int]], users: int) -> Graph:
    g = Graph()
    g.grow(users)
    for a, b in edges:
        g.befriend(a, b)
    return g


def test_rings_are_exact_distances() -> None:
    # 0 - 1 - 2 - 3 and a shortcut 0 - 2: 2 is at distance 1, 3 at distance 2
    g = graph([(0, 1), (1, 2), (2, 3), (0, 2)], 5)
    assert g.rings(0, 3) == ({0, 1, 2, 3}, [{1, 2}, {3}])
    assert g.rings(4, 2) == ({4}, [])


def test_layers_rim_is_empty_when_the_graph_ends_early() -> None:
    g = graph([(0, 1), (1, 2)], 3)
    assert g.layers(0, 1) == ({0, 1}, {1})
    assert g.layers(0, 3) == ({0, 1, 2}, set())
    assert g.extend({0, 1}, {1}) == {0, 1, 2}


def test_befriend_and_unfriend_are_no_ops_when_nothing_changes() -> None:
    g = graph([(0, 1)], 2)
    assert not g.befriend(1, 0)
    assert g.unfriend(0, 1) and not g.unfriend(0, 1)
    assert g.adj == [set(), set()]
