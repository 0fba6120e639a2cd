"""The reader fuzz suite: mutants of every format's seeds (``tests/fuzz/run.py``) and property
tests (hypothesis) of random bytes and random JSON through every reader.

Default run: 25 mutants per format and 25 hypothesis examples per property, about
30 s. ``-m fuzz``: 1,000 mutants per format through workers under a 1 GiB address-space limit
and a 10 s time limit, the per-format table printed, and 500 examples per property."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .oracle import read_one
from .run import run, table
from .seeds import FORMATS, SUFFIX, make_seeds

BAD = ("traceback", "hang", "overcap", "garbage", "badline")


@pytest.fixture(scope="module")
def small_run():
    res = run(25, seed=7)
    print("\n" + table(res))
    return res


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutants_end_in_a_result_or_the_one_line_error(small_run, fmt):
    t = small_run[fmt]
    assert sum(t.counts.values()) == 25
    assert {k: t.counts[k] for k in BAD if t.counts[k]} == {}, t.examples
    assert t.info_bad == 0, t.examples.get("info")


@pytest.mark.fuzz
@pytest.mark.timeout(3600)  # ~10 min here
def test_long_run_1000_mutants_per_format():
    res = run(1000, seed=1)
    print("\n" + table(res))
    for fmt in FORMATS:
        t = res[fmt]
        assert sum(t.counts.values()) >= 1000
        assert {k: t.counts[k] for k in BAD if t.counts[k]} == {}, (fmt, t.examples)
        assert t.info_bad == 0, (fmt, t.examples.get("info"))


# --- properties -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return make_seeds(tmp_path_factory.mktemp("seeds"))


def _examples(n_default: int):
    return settings(
        max_examples=n_default,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def _check(path: Path, fmt: str) -> None:
    r = read_one(path, fmt, trace=False)
    assert r.outcome in ("ok", "error"), (fmt, r.outcome, r.detail)


@pytest.mark.parametrize("fmt", FORMATS)
@_examples(25)
@given(data=st.binary(max_size=2048))
def test_random_bytes_never_escape_the_error_family(tmp_path_factory, fmt, data):
    path = tmp_path_factory.mktemp("bytes") / f"x{SUFFIX[fmt]}"
    path.write_bytes(data)
    _check(path, fmt)


@pytest.mark.parametrize("fmt", ["project", "smplx_amass", "signspark"])
@_examples(25)
@given(data=st.binary(max_size=512), at=st.integers(0, 10**6))
def test_random_bytes_spliced_into_a_seed(seeds, tmp_path_factory, fmt, data, at):
    seed = seeds[fmt][0].read_bytes()
    i = at % len(seed)
    path = tmp_path_factory.mktemp("splice") / f"x{SUFFIX[fmt]}"
    path.write_bytes(seed[:i] + data + seed[i + len(data) :])
    _check(path, fmt)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
    max_leaves=20,
)
PROJECT_KEYS = [
    "fps",
    "n_frames",
    "version",
    "keyframes",
    "glosses",
    "skeleton",
    "arrays",
    "meta",
    "editor",
    "text",
    "media",
]


@_examples(40)
@given(key=st.sampled_from(PROJECT_KEYS), value=JSON)
def test_any_json_value_in_a_project_is_read_or_refused_cleanly(seeds, tmp_path_factory, key, value):
    src = seeds["project"][2]
    with zipfile.ZipFile(src) as z:
        doc = json.loads(z.read("project.json"))
        frames = z.read("frames.npz")
    doc[key] = value
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as w:
        w.writestr("project.json", json.dumps(doc))
        w.writestr("frames.npz", frames)
    path = tmp_path_factory.mktemp("json") / "x.signframe"
    path.write_bytes(buf.getvalue())
    _check(path, "project")


BVH_WORDS = st.sampled_from(
    [
        "HIERARCHY",
        "ROOT",
        "JOINT",
        "End",
        "Site",
        "{",
        "}",
        "OFFSET",
        "CHANNELS",
        "3",
        "6",
        "Xrotation",
        "Yposition",
        "MOTION",
        "Frames:",
        "Frame",
        "Time:",
        "0.04",
        "1e-320",
        "1e300",
        "nan",
        "-1",
        "0",
        "\n",
    ]
)


@_examples(40)
@given(words=st.lists(BVH_WORDS, max_size=200))
def test_bvh_token_soup(tmp_path_factory, words):
    path = tmp_path_factory.mktemp("bvh") / "x.bvh"
    path.write_text("HIERARCHY\n" + " ".join(words))
    _check(path, "bvh")
