"""``make robust`` draws its seeds afresh unless a draw is replayed (``bench/robust.py``)."""

import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("robust", Path(__file__).parents[2] / "bench" / "robust.py")
robust = importlib.util.module_from_spec(spec)
spec.loader.exec_module(robust)


def test_fresh_draws_differ_and_hold_five_different_seeds():
    draws = [robust.draw_seeds(None)[0] for _ in range(3)]
    for seeds in draws:
        assert len(seeds) == len(set(seeds)) == robust.N_SEEDS
        assert all(0 <= s < robust.SEED_RANGE for s in seeds)
    assert len({tuple(d) for d in draws}) == 3  # a fixed set would repeat


def test_a_draw_replays():
    assert robust.draw_seeds("812, 33,4051,7,96") == ([812, 33, 4051, 7, 96], "replayed (ROBUST_SEEDS)")


@pytest.mark.parametrize("bad", ["1,2,3", "1,2,3,4,x", "1,1,2,3,4", "-1,2,3,4,5"])
def test_a_bad_replay_is_named(bad):
    with pytest.raises(ValueError, match="ROBUST_SEEDS"):
        robust.draw_seeds(bad)


def test_every_draw_is_listed_newest_first():
    chapter = {"notebook": "03.ipynb", "seeds": [1], "seconds": 1.0, "failures": []}
    failing = {**chapter, "failures": ["AssertionError: claim not supported: a | b"]}
    old = {"date": "old", "seeds": [1], "source": "s", "threads": "1", "machine": "m", "chapters": [chapter]}
    new = {**old, "date": "new", "chapters": [failing]}
    text = robust.markdown([old, new])
    assert text.index("## new") < text.index("## old")
    assert "**failed**: AssertionError: claim not supported: a \\| b" in text
