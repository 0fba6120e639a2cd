"""SMPL-X parameter files: both layouts, every accepted key shape, round trips, smplx agreement."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.io import FormatError, project, registry, smplx_npz
from core.kinematics.fk import joint_positions
from core.model.skeleton import JOINT_INDEX, LEFT_HAND, RIGHT_HAND, SMPLX_INDEX
from core.model.template import TEMPLATE
from tests.core.fake_smplx import write_fake_smplx
from tests.core.helpers_io import random_sequence

RNG = np.random.default_rng(7)


def _aa(t: int, k: int, seed: int) -> np.ndarray:
    """(t, k, 3) random axis-angle with angles below pi (unique representation)."""
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=(t, k, 3))
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    return axis * rng.uniform(0, 3.0, size=(t, k, 1))


def _mat(aa: np.ndarray) -> np.ndarray:
    return Rotation.from_rotvec(aa.reshape(-1, 3)).as_matrix().reshape(aa.shape[:-1] + (3, 3))


def _amass_file(path, t=12, seed=0, fps=120.0):
    aa = _aa(t, 55, seed)
    trans = np.random.default_rng(seed).normal(size=(t, 3))
    np.savez(
        path,
        poses=aa.reshape(t, 165),
        trans=trans,
        betas=np.arange(16) * 0.1,
        mocap_frame_rate=np.array(fps),
        gender=np.array("male"),
        surface_model_type=np.array("smplx"),
    )
    return aa, trans


@pytest.mark.parametrize("layout", ["amass", "parts"])
def test_sequence_round_trip_both_layouts(tmp_path, layout):
    seq = random_sequence(30, seed=3)
    path = tmp_path / "x.npz"
    smplx_npz.write(path, seq, layout=layout)
    back = smplx_npz.read(path)
    np.testing.assert_allclose(back.rotations, seq.rotations, atol=1e-6, rtol=0)
    np.testing.assert_array_equal(back.translation, seq.translation)
    assert back.fps == seq.fps
    for name in ("jaw", "left_eye", "right_eye"):
        np.testing.assert_allclose(back.extra_frames[name], seq.extra_frames[name], atol=1e-6, rtol=0)
    np.testing.assert_array_equal(back.extra_frames["expression"], seq.extra_frames["expression"])
    assert back.meta["betas"] == pytest.approx(seq.meta["betas"], abs=1e-6)
    assert back.meta["gender"] == "female"
    assert back.meta["smplx_layout"] == layout


def test_default_layout_follows_the_extension(tmp_path):
    seq = random_sequence(5, seed=1)
    registry.write(tmp_path / "a.npz", seq)
    registry.write(tmp_path / "b.smplx.npz", seq)
    assert "poses" in np.load(tmp_path / "a.npz").files
    keys = set(np.load(tmp_path / "b.smplx.npz").files)
    assert {"global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "transl"} <= keys
    assert "poses" not in keys


def test_amass_joint_order_is_smplx(tmp_path):
    """poses slices as AMASS documents them land on the right joints."""
    path = tmp_path / "amass.npz"
    aa, trans = _amass_file(path)
    seq = smplx_npz.read(path)
    m = _mat(aa)
    assert seq.fps == 120.0 and seq.meta["gender"] == "male" and len(seq.meta["betas"]) == 16
    np.testing.assert_allclose(seq.translation, trans, atol=1e-6)
    checks = {
        "pelvis": 0,
        "left_hip": 1,
        "neck": 12,
        "right_wrist": 21,
        "left_index1": 25,
        "left_thumb3": 39,
        "right_index1": 40,
        "right_thumb3": 54,
    }
    for name, j in checks.items():
        np.testing.assert_allclose(seq.rotations[:, JOINT_INDEX[name]], m[:, j], atol=1e-6, err_msg=name)
    # the flat poses vector: left hand 75:120, jaw 66:69, eyes 69:75
    np.testing.assert_allclose(
        seq.rotations[:, LEFT_HAND], _mat(aa.reshape(-1, 165)[:, 75:120].reshape(-1, 15, 3)), atol=1e-6
    )
    np.testing.assert_allclose(seq.extra_frames["jaw"], _mat(aa.reshape(-1, 165)[:, 66:69]), atol=1e-6)
    np.testing.assert_allclose(seq.extra_frames["right_eye"], _mat(aa.reshape(-1, 165)[:, 72:75]), atol=1e-6)
    assert seq.valid.all()


def test_amass_split_keys_equal_poses(tmp_path):
    t = 9
    aa = _aa(t, 55, 5).reshape(t, 165)
    np.savez(
        tmp_path / "split.npz",
        root_orient=aa[:, :3],
        pose_body=aa[:, 3:66],
        pose_jaw=aa[:, 66:69],
        pose_eye=aa[:, 69:75],
        pose_hand=aa[:, 75:165],
        trans=np.zeros((t, 3)),
        mocap_framerate=60,
    )
    np.savez(tmp_path / "flat.npz", poses=aa, trans=np.zeros((t, 3)), mocap_framerate=60)
    a, b = smplx_npz.read(tmp_path / "split.npz"), smplx_npz.read(tmp_path / "flat.npz")
    np.testing.assert_array_equal(a.rotations, b.rotations)
    np.testing.assert_array_equal(a.extra_frames["left_eye"], b.extra_frames["left_eye"])
    assert a.fps == 60.0 and a.meta["smplx_layout"] == "amass_split"


def test_smplh_width_156(tmp_path):
    t = 4
    aa = _aa(t, 52, 6)
    np.savez(tmp_path / "h.npz", poses=aa.reshape(t, 156), trans=np.zeros((t, 3)), mocap_framerate=120.0)
    seq = smplx_npz.read(tmp_path / "h.npz")
    m = _mat(aa)
    np.testing.assert_allclose(seq.rotations[:, JOINT_INDEX["left_index1"]], m[:, 22], atol=1e-6)
    np.testing.assert_allclose(seq.rotations[:, JOINT_INDEX["right_thumb3"]], m[:, 51], atol=1e-6)
    assert "jaw" not in seq.extra_frames


@pytest.mark.parametrize("form", ["flat", "joints", "matrices", "flat_matrices", "batch1"])
def test_parts_accepts_every_rotation_form(tmp_path, form):
    t = 7
    parts = {k: _aa(t, s.stop - s.start, i) for i, (k, s) in enumerate(smplx_npz.PARTS.items())}

    def shape(a):
        k = a.shape[1]
        return {
            "flat": a.reshape(t, 3 * k),
            "joints": a,
            "matrices": _mat(a),
            "flat_matrices": _mat(a).reshape(t, 9 * k),
            "batch1": a.reshape(1, t, 3 * k),
        }[form]

    np.savez(
        tmp_path / "p.npz",
        **{k: shape(a) for k, a in parts.items()},
        transl=np.ones((1, t, 3)) if form == "batch1" else np.ones((t, 3)),
        fps=np.array(24.0),
        expression=np.zeros((t, 10)),
        betas=np.zeros((1, 10)),
    )
    seq = smplx_npz.read(tmp_path / "p.npz")
    assert seq.n_frames == t and seq.fps == 24.0
    np.testing.assert_allclose(seq.rotations[:, 1:22], _mat(parts["body_pose"]), atol=1e-6)
    np.testing.assert_allclose(seq.rotations[:, RIGHT_HAND], _mat(parts["right_hand_pose"]), atol=1e-6)
    np.testing.assert_allclose(seq.rotations[:, 0], _mat(parts["global_orient"])[:, 0], atol=1e-6)
    np.testing.assert_allclose(seq.extra_frames["left_eye"], _mat(parts["leye_pose"])[:, 0], atol=1e-6)
    np.testing.assert_array_equal(seq.translation, np.ones((t, 3)))


def test_missing_hands_are_marked_not_valid(tmp_path):
    t = 3
    np.savez(tmp_path / "body.npz", global_orient=np.zeros((t, 3)), body_pose=np.zeros((t, 63)))
    seq = smplx_npz.read(tmp_path / "body.npz")
    assert not seq.valid[:, LEFT_HAND].any() and not seq.valid[:, RIGHT_HAND].any()
    assert seq.valid[:, :22].all()
    assert seq.fps == smplx_npz.DEFAULT_FPS and seq.meta["fps_assumed"] is True
    assert smplx_npz.read(tmp_path / "body.npz", default_fps=50).fps == 50.0


def test_pca_hands_are_refused_with_a_hint(tmp_path):
    np.savez(
        tmp_path / "pca.npz",
        global_orient=np.zeros((2, 3)),
        body_pose=np.zeros((2, 63)),
        left_hand_pose=np.zeros((2, 12)),
    )
    with pytest.raises(FormatError, match="PCA"):
        smplx_npz.read(tmp_path / "pca.npz")


def test_unknown_keys_survive_and_object_arrays_are_skipped(tmp_path):
    t = 6
    obj = np.empty(1, dtype=object)
    obj[0] = {"a": 1}
    np.savez(
        tmp_path / "u.npz",
        poses=np.zeros((t, 165)),
        trans=np.zeros((t, 3)),
        mocap_framerate=30,
        dmpls=np.arange(t * 8, dtype=np.float64).reshape(t, 8),
        num_betas=np.array(16),
        markers_latent_vids=obj,
        vertices=np.zeros((t, 1000, 3)),
    )
    seq = smplx_npz.read(tmp_path / "u.npz")  # never unpickles the object array
    assert set(seq.meta["skipped_keys"]) == {"markers_latent_vids", "vertices"}
    assert seq.meta["npz"] == {"num_betas": 16}
    smplx_npz.write(tmp_path / "back.npz", seq)
    back = np.load(tmp_path / "back.npz", allow_pickle=False)
    np.testing.assert_array_equal(back["dmpls"], np.arange(t * 8).reshape(t, 8))
    assert int(back["num_betas"]) == 16


def test_written_file_has_the_documented_amass_keys(tmp_path):
    seq = random_sequence(8, seed=2, fps=25.0)
    smplx_npz.write(tmp_path / "o.npz", seq, layout="amass")
    d = np.load(tmp_path / "o.npz", allow_pickle=False)
    assert d["poses"].shape == (8, 165) and d["trans"].shape == (8, 3)
    assert float(d["mocap_frame_rate"]) == 25.0 and float(d["mocap_framerate"]) == 25.0
    np.testing.assert_array_equal(d["root_orient"], d["poses"][:, :3])
    np.testing.assert_array_equal(d["pose_hand"], d["poses"][:, 75:])
    # the left hand is stored as is (SMPL-X true-left convention), no flip
    np.testing.assert_allclose(_mat(d["poses"][:, 75:78]), seq.rotations[:, LEFT_HAND.start], atol=1e-6)


def test_smplx_npz_project_round_trip_keeps_everything(tmp_path):
    src = tmp_path / "amass.npz"
    _amass_file(src, t=10, seed=11)
    seq = registry.read(src)
    registry.write(tmp_path / "p.signframe", seq)
    registry.write(tmp_path / "again.npz", project.read(tmp_path / "p.signframe"))
    a, b = np.load(src), np.load(tmp_path / "again.npz")
    for key in a.files:
        if a[key].dtype.kind == "f":
            np.testing.assert_allclose(b[key], a[key], atol=1e-6, err_msg=key)
        else:
            assert a[key] == b[key], key


@pytest.mark.parametrize("layout", ["amass", "parts"])
def test_written_parameters_drive_smplx_like_our_fk(tmp_path, layout):
    """The smplx package, fed the keys of our file, puts the joints where our FK does."""
    smplx = pytest.importorskip("smplx")
    torch = pytest.importorskip("torch")
    rest = TEMPLATE.rest_positions()
    j55 = np.zeros((55, 3))
    j55[SMPLX_INDEX] = rest
    j55[22:25] = rest[TEMPLATE.index("head")] + 0.05
    model_path = write_fake_smplx(tmp_path, j55)
    t = 5
    seq = random_sequence(t, seed=21)
    smplx_npz.write(tmp_path / "o.npz", seq, layout=layout)
    d = np.load(tmp_path / "o.npz", allow_pickle=False)
    f32 = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    if layout == "amass":
        p = d["poses"]
        kw = dict(
            global_orient=p[:, :3],
            body_pose=p[:, 3:66],
            jaw_pose=p[:, 66:69],
            leye_pose=p[:, 69:72],
            reye_pose=p[:, 72:75],
            left_hand_pose=p[:, 75:120],
            right_hand_pose=p[:, 120:165],
            transl=d["trans"],
        )
    else:
        kw = {
            k: d[k]
            for k in (
                "global_orient",
                "body_pose",
                "jaw_pose",
                "leye_pose",
                "reye_pose",
                "left_hand_pose",
                "right_hand_pose",
                "transl",
            )
        }
    model = smplx.SMPLX(str(model_path), ext="npz", use_pca=False, flat_hand_mean=True, batch_size=t)
    out = model(**{k: f32(v) for k, v in kw.items()})
    theirs = out.joints[:, :55].detach().numpy()[:, SMPLX_INDEX]
    back = smplx_npz.read(tmp_path / "o.npz")
    ours = joint_positions(TEMPLATE, back.rotations, back.translation)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


# --- up axis: Z-up (AMASS) files are stood up in our Y-up world ----------------------------

Y_TO_Z = Rotation.from_euler("x", 90, degrees=True)  # independent of the reader's matrix: +Y -> +Z


def upright_y_up(t: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A standing Y-up body: (t, 55, 3) axis-angle (root: any yaw, a little tilt; joints: small
    bends) and (t, 3) translation, metres."""
    rng = np.random.default_rng(seed)
    aa = _aa(t, 55, seed) * 0.08  # at most 0.24 rad per joint: the spine stays upright
    yaw = Rotation.from_euler("y", rng.uniform(-np.pi, np.pi, (t, 1)))
    aa[:, 0] = (yaw * Rotation.from_rotvec(aa[:, 0])).as_rotvec()
    trans = rng.normal(scale=0.3, size=(t, 3)) + [0.0, 0.9, 0.0]
    return aa, trans


def y_up_positions(aa: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """(t, 52, 3) world joints of the Y-up body on our skeleton."""
    return joint_positions(TEMPLATE, _mat(aa)[:, SMPLX_INDEX], trans)


def write_z_up_amass(path, t: int = 20, seed: int = 0, layout: str = "amass") -> tuple[np.ndarray, np.ndarray]:
    """The upright body turned Z-up about its root joint (as SMPL-X turns it) and saved like AMASS
    (or per-part, float32). Returns the Y-up (aa, trans) it came from."""
    aa, trans = upright_y_up(t, seed)
    z_aa = aa.copy()
    z_aa[:, 0] = (Y_TO_Z * Rotation.from_rotvec(aa[:, 0])).as_rotvec()
    j0 = TEMPLATE.offsets[0]
    z_trans = Y_TO_Z.apply(trans + j0) - j0
    if layout == "amass":
        np.savez(
            path,
            poses=z_aa.reshape(t, 165),
            trans=z_trans,
            betas=np.zeros(16),
            gender=np.array("neutral"),
            mocap_frame_rate=np.array(60.0),
            surface_model_type=np.array("smplx"),
        )
    else:
        parts = {k: z_aa[:, s].reshape(t, -1).astype(np.float32) for k, s in smplx_npz.PARTS.items()}
        np.savez(path, **parts, transl=z_trans.astype(np.float32), betas=np.zeros(10, np.float32), fps=np.array(30.0))
    return aa, trans


@pytest.mark.parametrize("how", ["registry auto", "auto", "z"])
def test_z_up_file_reads_upright(tmp_path, how):
    """What the editor gets from registry.read: the body stands along +Y where it stood in Y-up."""
    path = tmp_path / "amass.npz"
    aa, trans = write_z_up_amass(path)
    seq = registry.read(path) if how == "registry auto" else smplx_npz.read(path, up_axis=how)
    assert seq.meta["up_axis_source"] == "z"
    pos = joint_positions(TEMPLATE, seq.rotations, seq.translation)
    head, pelvis = pos[:, JOINT_INDEX["head"]], pos[:, JOINT_INDEX["pelvis"]]
    assert (head[:, 1] - pelvis[:, 1] > 0.4).all()
    np.testing.assert_allclose(pos, y_up_positions(aa, trans), atol=1e-5, rtol=0)


def test_y_option_keeps_the_file_as_stored(tmp_path):
    path = tmp_path / "amass.npz"
    write_z_up_amass(path)
    d = np.load(path)
    seq = smplx_npz.read(path, up_axis="y")
    assert seq.meta["up_axis_source"] == "y"
    np.testing.assert_allclose(seq.rotations[:, 0], _mat(d["poses"][:, :3]), atol=1e-6)
    np.testing.assert_allclose(seq.translation, d["trans"], atol=1e-6)
    pos = joint_positions(TEMPLATE, seq.rotations, seq.translation)
    assert (pos[:, JOINT_INDEX["head"], 2] - pos[:, JOINT_INDEX["pelvis"], 2] > 0.4).all()  # lying along Z


def test_auto_leaves_y_up_files_alone(tmp_path):
    """A Y-up file (no up_axis key: detected) and random root rotations both read as stored."""
    t = 20
    aa, trans = upright_y_up(t, seed=3)
    np.savez(tmp_path / "y.npz", poses=aa.reshape(t, 165), trans=trans)
    seq = smplx_npz.read(tmp_path / "y.npz")
    assert seq.meta["up_axis_source"] == "y"
    np.testing.assert_allclose(seq.rotations, _mat(aa)[:, SMPLX_INDEX], atol=1e-6)
    np.testing.assert_allclose(seq.translation, trans, atol=1e-6)
    rng = np.random.default_rng(4)
    rand = Rotation.random(60 * 55, random_state=rng).as_rotvec().reshape(60, 165)
    np.savez(tmp_path / "r.npz", poses=rand, trans=np.zeros((60, 3)))
    assert smplx_npz.read(tmp_path / "r.npz").meta["up_axis_source"] == "y"


def test_auto_follows_the_files_up_axis_key(tmp_path):
    """Signframe writes ``up_axis``; auto trusts it over detection (short random clips can look Z-up)."""
    t = 20
    aa, trans = upright_y_up(t, seed=5)
    np.savez(tmp_path / "k.npz", poses=aa.reshape(t, 165), trans=trans, up_axis=np.array("z"))
    seq = smplx_npz.read(tmp_path / "k.npz")
    assert seq.meta["up_axis_source"] == "z"
    expected = Rotation.from_euler("x", -90, degrees=True).as_matrix() @ _mat(aa[:, 0])
    np.testing.assert_allclose(seq.rotations[:, 0], expected, atol=1e-6)
    assert smplx_npz.read(tmp_path / "k.npz", up_axis="y").meta["up_axis_source"] == "y"
    for seed in range(8):  # our own files read back as written whatever their root rotations
        seq = random_sequence(2, seed=seed)
        smplx_npz.write(tmp_path / "s.npz", seq)
        np.testing.assert_allclose(smplx_npz.read(tmp_path / "s.npz").rotations, seq.rotations, atol=1e-6)


@pytest.mark.parametrize("layout", ["amass", "parts"])
def test_z_up_file_round_trips_through_read_write_and_project(tmp_path, layout):
    src = tmp_path / "in.npz"
    write_z_up_amass(src, t=15, seed=8, layout=layout)
    seq = smplx_npz.read(src)
    smplx_npz.write(tmp_path / "out.npz", seq, layout=layout)
    registry.write(tmp_path / "p.signframe", seq)
    registry.write(tmp_path / "again.npz", project.read(tmp_path / "p.signframe"), layout=layout)
    a = np.load(src)
    for out in ("out.npz", "again.npz"):
        b = np.load(tmp_path / out)
        assert str(b["up_axis"]) == "z"
        for key in a.files:
            if a[key].dtype.kind == "f":
                np.testing.assert_allclose(b[key], a[key], atol=1e-6, rtol=0, err_msg=f"{out} {key}")
            else:
                assert a[key] == b[key], key


def test_writer_takes_an_explicit_up_axis(tmp_path):
    src = tmp_path / "in.npz"
    aa, trans = write_z_up_amass(src, seed=9)
    seq = smplx_npz.read(src)
    smplx_npz.write(tmp_path / "y.npz", seq, up_axis="y")  # normalise an AMASS file to Y-up
    d = np.load(tmp_path / "y.npz")
    assert str(d["up_axis"]) == "y"
    np.testing.assert_allclose(_mat(d["poses"].reshape(-1, 55, 3))[:, SMPLX_INDEX], _mat(aa)[:, SMPLX_INDEX], atol=1e-6)
    np.testing.assert_allclose(d["trans"], trans, atol=1e-6)
    ours = random_sequence(6, seed=10)  # a Signframe sequence (no source axis) written Z-up
    smplx_npz.write(tmp_path / "z.npz", ours, up_axis="z")
    d = np.load(tmp_path / "z.npz")
    np.testing.assert_allclose(_mat(d["root_orient"]), Y_TO_Z.as_matrix() @ ours.rotations[:, 0], atol=1e-6)
    np.testing.assert_allclose(smplx_npz.read(tmp_path / "z.npz").rotations, ours.rotations, atol=1e-6)


def test_invalid_up_axis_is_a_clear_error(tmp_path):
    path = tmp_path / "amass.npz"
    write_z_up_amass(path, t=4)
    with pytest.raises(FormatError, match=r"amass\.npz: unknown up_axis 'x'; expected auto, y or z"):
        smplx_npz.read(path, up_axis="x")
    with pytest.raises(FormatError, match=r"amass\.npz: unknown up_axis"):
        registry.read(path, up_axis="up")
    with pytest.raises(FormatError, match=r"o\.npz: unknown up axis 'q'"):
        smplx_npz.write(tmp_path / "o.npz", smplx_npz.read(path), up_axis="q")
    assert not (tmp_path / "o.npz").exists()
    np.savez(tmp_path / "k.npz", poses=np.zeros((3, 165)), up_axis=np.array("sideways"))
    with pytest.raises(FormatError, match=r"k\.npz: key 'up_axis' is 'sideways'"):
        smplx_npz.read(tmp_path / "k.npz")
    assert smplx_npz.read(tmp_path / "k.npz", up_axis="y").n_frames == 3


def test_smplx_turns_the_body_about_the_root_joint_like_our_reader(tmp_path):
    """smplx on a Z-up file = our FK of what we read, turned back; and the reader's translation
    rule turns smplx's body rigidly about a pelvis that is not at the origin."""
    smplx = pytest.importorskip("smplx")
    torch = pytest.importorskip("torch")
    t = 6
    rest = TEMPLATE.rest_positions()
    j55 = np.zeros((55, 3))
    j55[SMPLX_INDEX] = rest
    j55[22:25] = rest[TEMPLATE.index("head")] + 0.05

    def smplx_joints(folder, joints, aa, trans):
        folder.mkdir()
        model = smplx.SMPLX(
            str(write_fake_smplx(folder, joints)), ext="npz", use_pca=False, flat_hand_mean=True, batch_size=t
        )
        f32 = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
        kw = {k: f32(aa[:, s].reshape(t, -1)) for k, s in smplx_npz.PARTS.items()}
        return model(**kw, transl=f32(trans)).joints[:, :55].detach().numpy().astype(np.float64)

    path = tmp_path / "amass.npz"
    write_z_up_amass(path, t=t, seed=12)
    d = np.load(path)
    theirs = smplx_joints(tmp_path / "m0", j55, d["poses"].reshape(t, 55, 3), d["trans"])
    seq = registry.read(path)
    ours = joint_positions(TEMPLATE, seq.rotations, seq.translation)
    np.testing.assert_allclose(
        ours, Y_TO_Z.inv().apply(theirs.reshape(-1, 3)).reshape(t, 55, 3)[:, SMPLX_INDEX], atol=1e-5
    )
    # a model whose pelvis sits off the origin (other betas): rotating about j0 is rigid for smplx too
    j0 = np.array([0.003, -0.35, 0.012])
    aa, trans = upright_y_up(t, seed=13)
    root, moved = smplx_npz._rotate_body(_mat(aa[:, 0]), trans, Y_TO_Z.as_matrix(), j0)
    turned = aa.copy()
    turned[:, 0] = Rotation.from_matrix(root).as_rotvec()
    a = smplx_joints(tmp_path / "m1", j55 + j0, aa, trans)
    b = smplx_joints(tmp_path / "m2", j55 + j0, turned, moved)
    np.testing.assert_allclose(b, Y_TO_Z.apply(a.reshape(-1, 3)).reshape(t, 55, 3), atol=1e-5)
