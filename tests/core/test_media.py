"""Reference media (core.media): frame-accurate video, audio loading, waveform peaks, the audio
renderer, media links in project files and sidecars, ELAN descriptors. Every test generates its
own media."""

from __future__ import annotations

import json
import math
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

from core.io.errors import FormatError  # noqa: E402
from core.media.index_video import read_index, write_index_video  # noqa: E402
from core.media.links import (  # noqa: E402
    MediaLink,
    elan_descriptors,
    find_links,
    links_to_json,
    parse_links,
    write_sidecar,
)
from core.media.timemap import video_frame_at, video_frame_for_doc_frame  # noqa: E402
from core.media.video import VideoReader  # noqa: E402


@pytest.fixture(scope="module")
def clip25(tmp_path_factory) -> Path:
    """120 index frames at 25 fps, H.264 with B-frames, a keyframe every 12 frames."""
    return write_index_video(tmp_path_factory.mktemp("v") / "clip.mp4", 120, 25, 256, 144, gop=12)


def test_the_index_pattern_reads_back_exactly():
    from core.media.index_video import index_image

    for i in (0, 1, 2, 255, 1000, 65535):
        assert read_index(index_image(i, 256, 144)) == i


@pytest.mark.parametrize("fps", [25, Fraction(30000, 1001)])
def test_the_frame_shown_at_t_is_round_t_times_fps(tmp_path, fps):
    path = write_index_video(tmp_path / "c.mp4", 90, fps, 256, 144, gop=10)
    rng = np.random.default_rng(1)
    with VideoReader(path) as r:
        assert r.n_frames == 90 and abs(r.fps - float(fps)) < 1e-9
        # random times, times just either side of a rounding boundary, backwards and forwards
        f = float(fps)
        times = list(rng.uniform(0, 90 / f, 60)) + [(k + 0.5) / f - 1e-4 for k in range(0, 89, 7)]
        times += [(k + 0.5) / f + 1e-4 for k in range(88, 0, -9)]
        for t in times:
            i, img = r.frame_at_time(t)
            assert i == int(math.floor(t * f + 0.5))
            assert read_index(img) == i, (t, i)
        assert r.seeks > 1  # the test did exercise seeking, not only decoding on


def test_playing_forwards_decodes_on_without_seeking_and_scrubbing_back_hits_the_cache(clip25):
    with VideoReader(clip25) as r:
        for i in range(60):
            assert read_index(r.frame(i)) == i
        assert r.seeks == 1
        decoded = r.decoded
        for i in range(59, 30, -1):
            assert read_index(r.frame(i)) == i
        assert r.decoded == decoded and r.hits >= 29


def test_a_scaled_reader_gives_the_same_frames(clip25):
    with VideoReader(clip25, width=128) as r:
        assert (r.width, r.height) == (128, 72)
        for i in (5, 77, 3, 119):
            img = r.frame(i)
            assert img.shape == (72, 128, 3) and read_index(img) == i


def test_frames_are_clamped_to_the_file(clip25):
    with VideoReader(clip25) as r:
        assert read_index(r.frame(500)) == 119 and read_index(r.frame(-3)) == 0
        assert video_frame_at(-1.0, 25.0, 120) == 0 and video_frame_at(100.0, 25.0, 120) == 119


def test_document_frames_map_through_the_offset():
    # 30 fps motion, 25 fps video starting 2 s before the motion
    assert video_frame_for_doc_frame(0, 30.0, 25.0, 2.0) == 50
    assert video_frame_for_doc_frame(30, 30.0, 25.0, 2.0) == 75
    assert video_frame_for_doc_frame(3, 30.0, 25.0, -1.0) == 0  # before the video: its first frame


def test_bad_video_is_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(FormatError) as e:
        VideoReader(bad)
    assert "broken.mp4" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(FormatError, match="no such file"):
        VideoReader(tmp_path / "missing.mp4")


# --- audio ---------------------------------------------------------------------------------------


def _tone(rate: int, seconds: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * rate / len(x))


def _write_flac(path: Path, x: np.ndarray, rate: int) -> Path:
    import av

    with av.open(str(path), "w") as out:
        st = out.add_stream("flac", rate=rate)
        st.layout = "mono"
        for s in range(0, len(x), 4096):
            pcm = np.round(x[None, s : s + 4096] * 32767).astype(np.int16)
            fr = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            fr.sample_rate = rate
            fr.pts = s
            for p in st.encode(fr):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


def test_wav_flac_and_a_video_audio_track_load(tmp_path):
    from core.media.audio import load_audio, write_wav

    x = _tone(22050, 1.5)
    wav = load_audio(write_wav(tmp_path / "a.wav", np.stack([x, -x], 1), 22050))
    assert wav.rate == 22050 and wav.channels == 2 and wav.n_samples == len(x)
    assert np.abs(wav.samples[:, 0] - x).max() < 1e-4 and np.abs(wav.samples[:, 1] + x).max() < 1e-4
    flac = load_audio(_write_flac(tmp_path / "a.flac", x, 22050), rate=48000)
    assert flac.rate == 48000 and abs(flac.duration - 1.5) < 0.01
    assert abs(_peak_hz(flac.mono()[4800:-4800], 48000) - 440) < 2
    vid = write_index_video(tmp_path / "v.mp4", 50, 25, 128, 72, audio_tone_hz=1000.0)
    track = load_audio(vid)
    assert abs(track.duration - 2.0) < 0.1
    assert abs(_peak_hz(track.mono()[4800:-4800], track.rate) - 1000) < 3
    with pytest.raises(FormatError, match="no audio track"):
        load_audio(write_index_video(tmp_path / "silent.mp4", 5, 25, 64, 36))


def test_waveform_envelope_is_the_min_and_max_per_bucket():
    from core.media.waveform import Waveform

    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 100_000).astype(np.float32)
    w = Waveform(x, 10_000)
    times, lo, hi = w.envelope(2.0, 6.0, 100)
    assert 0 < len(times) <= 200
    b = int(round((times[1] - times[0]) * 10_000))
    for k in (0, len(times) // 2, len(times) - 2):
        i0 = int(round(times[k] * 10_000 - b / 2))
        assert lo[k] == x[i0 : i0 + b].min() and hi[k] == x[i0 : i0 + b].max()


# --- the renderer --------------------------------------------------------------------------------


def test_varispeed_changes_pitch_and_keeps_time():
    from core.media.render import Renderer

    r = Renderer(_tone(48000, 4.0), 48000)
    r.set_speed(0.5, keep_pitch=False)
    r.start(1.0)
    y = np.concatenate([r.render(1000) for _ in range(48)])[:, 0]
    assert abs(_peak_hz(y, 48000) - 220) < 2
    assert r.time == pytest.approx(1.0 + 48 * 1000 * 0.5 / 48000)


@pytest.mark.parametrize("speed", [0.25, 0.5, 1.5, 2.0])
def test_pitch_kept_stretch_stays_on_the_nominal_time(speed):
    """A ramp whose value is its own time: every output sample's content time is within the WSOLA
    tolerance (plus the half window the overlap shifts) of where the stream says it is."""
    from core.media.render import FRAME, TOLERANCE, Renderer

    rate = 8000
    ramp = (np.arange(rate * 40) / rate).astype(np.float32)
    tone = _tone(rate, 40.0, 300.0)
    r = Renderer(np.stack([ramp, tone], 1), rate)
    r.set_speed(speed, keep_pitch=True)
    r.start(3.0)
    worst = 0.0
    for _ in range(200):
        t0 = r.time
        y = r.render(256)
        nominal = t0 + np.arange(256) * speed / rate
        worst = max(worst, float(np.abs(y[:, 0] - nominal)[16:].max()))
    assert worst <= (TOLERANCE + FRAME / 2) / rate
    out = np.concatenate([r.render(256) for _ in range(64)])[:, 1]
    assert abs(_peak_hz(out, rate) - 300) < 3  # the pitch is kept
    assert np.sqrt((out**2).mean()) > 0.3  # no holes: the windows overlap-add to full level


# --- links, project files, sidecars, ELAN --------------------------------------------------------


def test_links_are_stored_relative_and_resolved_against_the_project(tmp_path):
    (tmp_path / "media").mkdir()
    links = (MediaLink("video", tmp_path / "media" / "a.mp4", 1.25), MediaLink("audio", tmp_path / "n.wav", -0.5))
    js = links_to_json(links, tmp_path / "proj.signframe")
    assert [e["path"] for e in js] == ["media/a.mp4", "n.wav"]
    moved = tmp_path / "elsewhere"
    back = parse_links(js, moved / "proj.signframe")
    assert back[0].path == moved / "media" / "a.mp4" and back[0].offset_s == 1.25 and back[1].offset_s == -0.5


@pytest.mark.parametrize(
    "raw, why",
    [
        ({"kind": "video"}, "must be a list"),
        (["x"], "not an object"),
        ([{"kind": "subtitle", "path": "a"}], "unknown kind"),
        ([{"kind": "video", "path": 3}], "path"),
        ([{"kind": "video", "path": "a\x00b"}], "path"),
        ([{"kind": "video", "path": "a" * 5000}], "path"),
        ([{"kind": "video", "path": "a", "offset_s": float("nan")}], "not finite"),
        ([{"kind": "video", "path": "a", "offset_s": 1e9}], "not finite or beyond"),
        ([{"kind": "video", "path": "a", "offset_s": "2"}], "must be a number"),
        ([{"kind": "video", "path": "a", "offset_s": True}], "must be a number"),
        ([{"kind": "audio", "path": "a"}] * 17, "more than"),
    ],
)
def test_bad_media_fields_are_refused(raw, why):
    with pytest.raises(ValueError, match=why):
        parse_links(raw, "/p/x.signframe")


def _seq():
    from editor.demo import demo_sequence

    return demo_sequence()


def test_project_round_trips_media_and_old_projects_still_open(tmp_path):
    from core.io.project import read_media, read_project, write

    seq = _seq()
    video = tmp_path / "clip.mp4"
    write(tmp_path / "p.signframe", seq, {"playhead": 3}, media=[MediaLink("video", video, 0.4)])
    doc = json.loads(zipfile.ZipFile(tmp_path / "p.signframe").read("project.json"))
    assert doc["media"] == [{"kind": "video", "path": "clip.mp4", "offset_s": 0.4}]
    got, editor = read_project(tmp_path / "p.signframe")
    assert got.n_frames == seq.n_frames and editor == {"playhead": 3}
    assert read_media(tmp_path / "p.signframe") == (MediaLink("video", video, 0.4),)
    write(tmp_path / "old.signframe", seq)  # no media: no field at all, as older builds wrote
    assert "media" not in json.loads(zipfile.ZipFile(tmp_path / "old.signframe").read("project.json"))
    assert read_media(tmp_path / "old.signframe") == ()


def test_a_project_with_bad_media_is_refused_in_one_line(tmp_path):
    from core.io.project import read_project, write

    write(tmp_path / "p.signframe", _seq(), media=[MediaLink("video", tmp_path / "a.mp4", 0.0)])
    with zipfile.ZipFile(tmp_path / "p.signframe") as z:
        doc = json.loads(z.read("project.json"))
        frames = z.read("frames.npz")
    doc["media"][0]["offset_s"] = "soon"
    with zipfile.ZipFile(tmp_path / "bad.signframe", "w") as z:
        z.writestr("project.json", json.dumps(doc))
        z.writestr("frames.npz", frames)
    with pytest.raises(FormatError) as e:
        read_project(tmp_path / "bad.signframe")
    assert "bad.signframe" in str(e.value) and "media" in str(e.value) and "\n" not in str(e.value)
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "core", "info", str(tmp_path / "bad.signframe")]
    p = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "bad media links" in p.stderr


def test_a_video_beside_the_pose_or_a_sidecar_links_it(tmp_path):
    (tmp_path / "clip.pose").write_bytes(b"")
    assert find_links(tmp_path / "clip.pose") == ()
    (tmp_path / "clip.mp4").write_bytes(b"")
    assert find_links(tmp_path / "clip.pose") == (MediaLink("video", (tmp_path / "clip.mp4").resolve(), 0.0),)
    (tmp_path / "v").mkdir()
    other = tmp_path / "v" / "recording.mov"
    write_sidecar(tmp_path / "clip.pose", [MediaLink("video", other, 0.0)])
    assert find_links(tmp_path / "clip.pose") == (MediaLink("video", other, 0.0),)
    (tmp_path / "clip.pose.media.json").write_text("{oops")
    with pytest.raises(ValueError, match="clip.pose.media.json"):
        find_links(tmp_path / "clip.pose")


def test_elan_descriptors_are_relative_to_the_eaf(tmp_path):
    links = [MediaLink("video", tmp_path / "media" / "s.mp4", 1.5), MediaLink("audio", tmp_path / "n.wav", -2.0)]
    d = elan_descriptors(links, tmp_path / "out" / "x.eaf")
    assert d[0].url == (tmp_path / "media" / "s.mp4").resolve().as_uri() and d[0].url.startswith("file:///")
    assert d[0].relative_url == "../media/s.mp4" and d[0].mime_type == "video/mp4" and d[0].time_origin_ms == 1500
    assert d[1].relative_url == "../n.wav" and d[1].mime_type == "audio/x-wav" and d[1].time_origin_ms is None
    same = elan_descriptors(links[:1], tmp_path / "media" / "x.eaf")
    assert same[0].relative_url == "./s.mp4"


def test_track_keeps_the_video_link(tmp_path):
    """``python -m core track`` with a stand-in tracker: the .pose gets a sidecar naming the video,
    relative to the pose, and the editor's lookup finds it."""
    import subprocess
    import sys

    t = 10
    z = np.zeros
    np.savez(
        tmp_path / "raw.npz",
        fps=np.float64(25.0),
        width=np.int64(64),
        height=np.int64(36),
        pose=z((t, 33, 3), np.float32) + 0.5,
        pose_conf=np.ones((t, 33), np.float32),
        face=z((t, 478, 3), np.float32),
        left_hand=z((t, 21, 3), np.float32),
        right_hand=z((t, 21, 3), np.float32),
        pose_seen=np.ones(t, bool),
        face_seen=np.ones(t, bool),
        left_hand_seen=np.zeros(t, bool),
        right_hand_seen=np.zeros(t, bool),
    )
    fake = tmp_path / "fake_python"
    fake.write_text(f'#!/bin/sh\ncp "{tmp_path / "raw.npz"}" "$3"\n')
    fake.chmod(0o755)
    (tmp_path / "rec").mkdir()
    video = write_index_video(tmp_path / "rec" / "signing.mp4", 10, 25, 64, 36)
    out = tmp_path / "poses" / "signing.pose"
    out.parent.mkdir()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "core", "track", str(video), "--out", str(out), "--python", str(fake)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    side = json.loads((tmp_path / "poses" / "signing.pose.media.json").read_text())
    assert side["media"] == [{"kind": "video", "path": "../rec/signing.mp4", "offset_s": 0.0}]
    assert find_links(out) == (MediaLink("video", video.resolve(), 0.0),)


def test_the_overlay_camera_is_recovered_from_landmarks():
    from core.media.overlay import Camera, fit_camera, frame_camera

    rng = np.random.default_rng(5)
    joints = rng.normal(0, 0.3, (20, 6, 3))
    truth = Camera(410.0, 320.0, 600.0)
    px = truth.project(joints) + rng.normal(0, 0.5, (20, 6, 2))
    ok = rng.random((20, 6)) > 0.3
    px[~ok] = 1e4  # unobserved landmarks carry junk, which must not count
    cam = fit_camera(joints, px, ok)
    assert cam is not None and abs(cam.s - 410) < 2 and abs(cam.tx - 320) < 1 and abs(cam.ty - 600) < 1
    assert fit_camera(joints, px, np.zeros((20, 6), bool)) is None
    from core.media.overlay import fit_error

    e = fit_error(joints, px, ok)  # 0.5 px noise against ~250 px shoulders
    assert e is not None and e["median"] < 0.01 and e["p90"] < 0.02
    bent = px.copy()
    bent[:, 2:4] += 40.0  # elbows drawn 40 px off: the error sees it
    assert fit_error(joints, bent, ok)["p90"] > 0.05
    framed = frame_camera(joints, 640, 480).project(joints)
    assert framed[..., 0].min() >= 0 and framed[..., 0].max() <= 640
    assert framed[..., 1].min() >= 0 and framed[..., 1].max() <= 480


class _Status:
    output_underflow = False


def test_the_output_callback_loops_at_the_exact_sample_and_scrub_snippets_end():
    """The stream callback itself, driven with numpy buffers as PortAudio would (no device)."""
    try:
        import sounddevice as sd
    except OSError:
        pytest.skip("PortAudio (libportaudio2) is not installed")
    from core.media.output import AudioOutput

    rate = 1000
    ramp = (np.arange(rate * 5) / rate).astype(np.float32)
    out = AudioOutput(ramp, rate, pace=False)
    out.loop = (1.0, 1.5)
    out.renderer.start(1.3)
    out._remaining = None
    buf = np.zeros((256, 1), np.float32)
    got = []
    for _ in range(4):
        out._callback(buf, 256, None, _Status())
        got.append(buf[:, 0].copy())
    y = np.concatenate(got)
    # 1.3 .. 1.499 then 1.0 .. 1.499 then 1.0 ...: exact samples, no gap, no repeat
    want = np.concatenate([np.arange(1300, 1500), np.tile(np.arange(1000, 1500), 3)])[: len(y)] / rate
    np.testing.assert_allclose(y, want, atol=1e-6)
    assert out.samples_out == 1024
    # a scrub snippet plays its samples, then silence, then asks the stream to stop
    out.loop = None
    out.renderer.start(2.0)
    out._remaining = 300
    out._callback(buf, 256, None, _Status())
    out._callback(buf, 256, None, _Status())
    assert buf[:44, 0] == pytest.approx(np.arange(2256, 2300) / rate) and not buf[44:].any()
    with pytest.raises(sd.CallbackStop):
        out._callback(buf, 256, None, _Status())


def test_a_sound_track_starting_after_the_picture_stays_in_step(tmp_path):
    from core.media.audio import load_audio

    for delay in (0.0, 0.5):
        p = write_index_video(tmp_path / f"d{delay}.mp4", 50, 25, 128, 72, audio_tone_hz=1000.0, audio_delay_s=delay)
        a = load_audio(p)
        onset = np.flatnonzero(np.abs(a.mono()) > 0.05)[0] / a.rate
        assert abs(onset - delay) < 0.04, (delay, onset)  # within a 25 fps frame


def test_elan_descriptors_make_a_valid_eaf_that_reads_back(tmp_path):
    """Written with pympi (as the ELAN exporter does) and read back; checked against the EAF 3.0
    schema subset of the ELAN tests when that is available."""
    from pympi import Eaf

    (tmp_path / "media").mkdir()
    video = tmp_path / "media" / "my clip.mp4"
    d = elan_descriptors([MediaLink("video", video, 0.75)], tmp_path / "out.eaf")[0]
    assert d.relative_url == "./media/my%20clip.mp4" and d.url.endswith("/media/my%20clip.mp4")
    url, rel, mime, origin = d.url, d.relative_url, d.mime_type, d.time_origin_ms
    eaf = Eaf()
    eaf.add_linked_file(url, relpath=rel, mimetype=mime, time_origin=origin)
    eaf.to_file(str(tmp_path / "out.eaf"))
    back = Eaf(str(tmp_path / "out.eaf")).get_linked_files()
    assert back == [{"MEDIA_URL": url, "RELATIVE_MEDIA_URL": rel, "MIME_TYPE": "video/mp4", "TIME_ORIGIN": "750"}]
    try:
        import xmlschema

        from tests.core.test_eaf import EAF_SCHEMA
    except ImportError:
        return
    xmlschema.XMLSchema(EAF_SCHEMA).validate(str(tmp_path / "out.eaf"))


def test_convert_to_elan_points_at_the_projects_media_and_keeps_a_ranges_times(tmp_path):
    from core.cli import main
    from core.io import eaf
    from core.io.project import write
    from core.model.segments_edit import import_annotations
    from core.model.sequence import Segment

    seq = import_annotations(_seq(), sign=[Segment(50, 99, "HELLO")])[0].sequence
    (tmp_path / "media").mkdir()
    write(tmp_path / "p.signframe", seq, media=[MediaLink("video", tmp_path / "media" / "s.mp4", 1.5)])
    out = tmp_path / "out" / "p.eaf"
    out.parent.mkdir()
    assert main(["convert", str(tmp_path / "p.signframe"), str(out), "--range", "25:200"]) == 0
    doc = eaf.parse(out)
    assert [(m.relative_url, m.time_origin_ms) for m in doc.media] == [("../media/s.mp4", 1500)]
    assert [f.relative_url for f in doc.linked_files] == ["../p.signframe"]
    (hello,) = [a for t in doc.tiers for a in t.annotations if a.value == "HELLO"]
    assert (hello.start_ms, hello.end_ms) == (2000, 4000)  # frames 50..99 at 25 fps, as before the cut
