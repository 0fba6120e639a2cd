"""Exports stand the avatar on the floor (the lowest rest point at height 0) unless the pelvis
is kept at the origin: the BVH / FBX writers' ``origin`` option and ``convert --origin``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from core.io import bvh, fbx, project
from core.io.errors import FormatError
from core.io.export_prep import floor_lift
from core.kinematics.fk import forward_kinematics
from core.model.template import TEMPLATE
from tests.core.helpers_io import ROOT, random_sequence


def lowest_point(seq) -> float:
    """Height (metres, Y up) of the lowest joint or end site over all frames, by our FK."""
    wr, wp = forward_kinematics(seq.skeleton, seq.rotations, seq.translation)
    tips = wp + np.einsum("tjab,jb->tja", wr, seq.skeleton.tips)
    return float(min(wp[..., 1].min(), tips[..., 1].min()))


def rest_like(t: int = 5):
    seq = random_sequence(t=t, seed=3)
    return seq.replace(
        rotations=np.broadcast_to(np.eye(3, dtype=np.float32), seq.rotations.shape).copy(),
        translation=np.zeros_like(seq.translation),
    )


def test_floor_lift_puts_the_soles_at_zero():
    lift = floor_lift(TEMPLATE)
    assert lift[0] == 0 and lift[2] == 0 and 0.7 < lift[1] < 1.2  # the pelvis is ~1 m up
    rest = TEMPLATE.rest_positions()
    assert abs(min((rest + lift)[:, 1].min(), (rest + TEMPLATE.tips + lift)[:, 1].min())) < 1e-12


@pytest.mark.parametrize("origin", ["floor", "pelvis"])
def test_bvh_export_stands_on_the_floor_or_keeps_the_origin(tmp_path, origin):
    seq = rest_like()
    path = tmp_path / "a.bvh"
    bvh.write(path, seq, origin=origin)
    back = bvh.read(path)
    low = lowest_point(back)
    if origin == "floor":
        assert abs(low) < 1e-5
    else:
        assert low < -0.7  # the legs hang below the origin, as in our world
        np.testing.assert_allclose(back.translation, seq.translation, atol=1e-6)


def test_fbx_export_lifts_the_root_by_the_floor_height(tmp_path):
    seq = random_sequence(t=4, seed=1)
    nodes = {
        o: fbx.build(tmp_path / "x.fbx", seq, up="y", unit="m", mesh=False, order="XYZ", origin=o)
        for o in ("floor", "pelvis")
    }
    a, b = fbx.fb.encode(nodes["floor"]), fbx.fb.encode(nodes["pelvis"])
    assert a != b
    with pytest.raises(FormatError) as e:
        fbx.write(tmp_path / "y.fbx", seq, origin="ceiling")
    assert "origin" in str(e.value) and "y.fbx" in str(e.value)


def test_convert_stands_on_the_floor_by_default_and_origin_pelvis_keeps_it(tmp_path):
    seq = rest_like()
    src = tmp_path / "in.signframe"
    project.write(src, seq)
    for extra, want_floor in (([], True), (["--origin", "pelvis"], False)):
        out = tmp_path / f"out{len(extra)}.bvh"
        r = subprocess.run(
            [sys.executable, "-m", "core", "convert", str(src), str(out), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        low = lowest_point(bvh.read(out))
        assert (abs(low) < 1e-5) if want_floor else (low < -0.7)
    r = subprocess.run(
        [sys.executable, "-m", "core", "convert", str(src), str(tmp_path / "o.signframe"), "--origin", "floor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "--origin does not apply" in r.stderr and "Traceback" not in r.stderr
