"""ELAN both ways: files ELAN wrote, onto a motion, edited, written back with nothing lost;
hostile files refused with one line, fast."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.io import eaf, registry
from core.io.errors import FormatError
from core.media.links import elan_links
from core.model import segments_edit as se
from core.model.edits import apply_patch
from core.model.rotations import identity
from core.model.sequence import KeyKind, Segment, new_sequence

ELAN = Path(__file__).resolve().parents[1] / "fixtures" / "elan"
FTO = ELAN / "fto.eaf"  # written by ELAN 4 (EAF 2.7), from pympi-ling's test folder (MIT)


def motion(t: int = 300, fps: float = 25.0):
    return new_sequence(identity((t, 52)), fps)


def _annotations(doc: eaf.EafDocument) -> dict[str, list[tuple[int, int, str]]]:
    return {t.name: [(a.start_ms, a.end_ms, a.value) for a in t.annotations] for t in doc.tiers}


def test_reads_a_file_elan_wrote():
    doc = eaf.parse(FTO)
    assert doc.tier_names == ["default", "a", "b", "fto-ab"]
    ann = _annotations(doc)
    assert ann["a"] == [(0, 1629, "a"), (1790, 2820, "a"), (4280, 5800, "a")]
    assert [v for _, _, v in ann["fto-ab"]] == ["P_a", "O12_a_b", "G21_b_a", "B_a_b", "G12_a_b", "P_b"]
    assert doc.media[0].relative_url.endswith("BC_00L_bre_C.wav") and doc.media[0].mime_type == "audio/x-wav"
    assert doc.fps is None


@pytest.mark.parametrize("fps", [25.0, 29.97, 50.0])
def test_round_trip_keeps_every_annotation_of_an_elan_file(tmp_path, fps):
    """EAF (ELAN) -> Signframe -> EAF: every tier, value and time (within a frame) is kept."""
    seq = motion(int(11 * fps), fps)
    change, report = eaf.import_onto(seq, FTO, tier="fto-ab", right="a", left="b")
    new = change.sequence
    assert report.counts[""] == 6 and report.counts["right"] == 3 and report.counts["left"] == 4
    assert [s.gloss for s in se.lane_segments(new, "")] == ["P_a", "O12_a_b", "G21_b_a", "B_a_b", "G12_a_b", "P_b"]
    assert len(new.keyframes) == 18 and {k.kind for k in new.keyframes} == {KeyKind.ONSET, KeyKind.MID, KeyKind.OFFSET}
    out = tmp_path / "out.eaf"
    eaf.write(out, new, linked_file=eaf.EafLinkedFile("file:///x/clip.pose", "./clip.pose"))
    before, after = eaf.parse(FTO), eaf.parse(out)
    a0, a1 = _annotations(before), _annotations(after)
    assert list(a1) == list(a0)  # no tier lost, none added, same order
    frame_ms = 1000.0 / fps
    for name in a0:
        assert [v for *_, v in a1[name]] == [v for *_, v in a0[name]], name
        for (s0, e0, _), (s1, e1, _) in zip(a0[name], a1[name]):
            assert abs(s1 - s0) <= frame_ms and abs(e1 - e0) <= frame_ms
    assert after.media == before.media
    assert after.linked_files[-1].relative_url == "./clip.pose"
    undone = apply_patch(new, change.inverse).sequence  # undo forgets the file with its glosses
    assert "eaf" not in undone.meta and not undone.glosses and undone.keyframes == seq.keyframes


def test_round_trip_with_edits_and_a_dependent_tier(tmp_path):
    """A corpus-style file: RH / LH gloss tiers, a translation tier referring to the right hand's
    annotations, a media offset. Edits land, the rest is kept, references stay valid."""
    src = tmp_path / "corpus.eaf"
    eaf.write_document(
        src,
        {"RH-IDgloss": [Segment(10, 19, "HOUSE"), Segment(30, 44, "BIG")], "LH-IDgloss": [Segment(12, 19, "HOUSE")]},
        25.0,
        offset_ms=2000.0,
        media=[eaf.EafMedia("file:///v/clip.mp4", "./clip.mp4", "video/mp4", 500)],
    )
    text = src.read_text()
    # add a symbolic-association tier the way ELAN writes one
    rh = eaf.parse(src).tier("RH-IDgloss").annotations
    refs = "".join(
        f'<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="r{i}" ANNOTATION_REF="{a.id}">'
        f"<ANNOTATION_VALUE>tr {a.value}</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>"
        for i, a in enumerate(rh)
    )
    text = text.replace(
        "<LINGUISTIC_TYPE ",
        f'<TIER LINGUISTIC_TYPE_REF="tr" PARENT_REF="RH-IDgloss" TIER_ID="translation">{refs}</TIER>'
        '<LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Association" GRAPHIC_REFERENCES="false" '
        'LINGUISTIC_TYPE_ID="tr" TIME_ALIGNABLE="false"/><LINGUISTIC_TYPE ',
        1,
    ).replace('<PROPERTY NAME="signframe:fps">25.0</PROPERTY>', "")
    src.write_text(text)
    doc = eaf.parse(src)
    assert [(a.start_ms, a.value) for a in doc.tier("translation").annotations] == [
        (2400, "tr HOUSE"),
        (3200, "tr BIG"),
    ]

    change, report = eaf.import_onto(motion(100), src, offset_ms=2000.0)
    seq = change.sequence
    assert [(s.start, s.end, s.gloss) for s in se.lane_segments(seq, "right")] == [(10, 19, "HOUSE"), (30, 44, "BIG")]
    assert [(s.start, s.end, s.gloss) for s in se.lane_segments(seq, "")] == [(10, 19, "HOUSE"), (30, 44, "BIG")]
    seq = se.rename(seq, "right", 30, "LARGE").sequence
    out = tmp_path / "back.eaf"
    eaf.write(out, seq)
    back = eaf.parse(out)
    assert [(a.start_ms, a.end_ms, a.value) for a in back.tier("RH-IDgloss").annotations] == [
        (2400, 2800, "HOUSE"),
        (3200, 3800, "LARGE"),
    ]
    assert [a.value for a in back.tier("translation").annotations] == ["tr HOUSE", "tr BIG"]
    # a boundary moved: the translation stays attached to its sign, with the sign's new times
    moved = se.move_boundary(seq, "right", 30, "end", 49).sequence
    eaf.write(out, moved)
    back = eaf.parse(out)
    assert [(a.start_ms, a.end_ms, a.value) for a in back.tier("translation").annotations] == [
        (2400, 2800, "tr HOUSE"),
        (3200, 4000, "tr BIG"),
    ]
    # merged into one sign: the second sign's translation goes with it, as in ELAN
    merged = se.merge(seq, "right", 10).sequence
    eaf.write(out, merged)
    assert [a.value for a in eaf.parse(out).tier("translation").annotations] == ["tr HOUSE"]
    assert back.media == doc.media
    assert [(a.start_ms, a.value) for a in back.tier("sign").annotations] == [(2400, "HOUSE"), (3200, "BIG")]
    # the schema-level checks of test_eaf: the written file is valid ELAN structure
    from tests.core.test_eaf import EAF_SCHEMA

    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(EAF_SCHEMA).validate(str(out))


def test_segment_edits_are_exact_undo_steps():
    seq = motion(120)
    seq, _ = eaf_free_import(seq)
    for change in (
        se.rename(seq, "", 10, "TREE"),
        se.split(seq, "", 15),
        se.merge(seq, "", 10),
        se.move_boundary(seq, "", 10, "end", 25),
        se.move_boundary(seq, "", 40, "start", 35, move_key=True),
        se.split(seq, "right", 45),
    ):
        back = apply_patch(change.sequence, change.inverse).sequence
        assert back.glosses == seq.glosses and back.keyframes == seq.keyframes
        np.testing.assert_array_equal(back.labels, seq.labels)
    lane = lambda c, h="": [(s.start, s.end, s.gloss) for s in se.lane_segments(c.sequence, h)]  # noqa: E731
    assert lane(se.split(seq, "", 15))[:2] == [(10, 14, "A"), (15, 20, None)]
    assert lane(se.merge(seq, "", 10))[0] == (10, 50, "A B")
    moved = se.move_boundary(seq, "", 10, "end", 25)
    assert lane(moved)[0] == (10, 25, "A") and moved.sequence.keyframes == seq.keyframes  # keys stay
    assert (
        se.move_boundary(seq, "", 10, "end", 60).sequence.labels.tolist()
        == se.move_boundary(seq, "", 10, "end", 39).sequence.labels.tolist()
    )  # clamped before the next sign
    with_key = se.move_boundary(seq, "", 40, "start", 35, move_key=True)
    assert 35 in with_key.sequence.key_frames.tolist() and 40 not in with_key.sequence.key_frames.tolist()
    assert lane(with_key)[1][0] == 35
    assert lane(se.split(seq, "right", 45), "right") == [(10, 20, "A"), (40, 44, "B"), (45, 50, None)]
    assert lane(se.rename(seq, "", 10, "  "))[0] == (10, 20, None)


def eaf_free_import(seq):
    change, report = se.import_annotations(
        seq, right=[Segment(10, 20, "A"), Segment(40, 50, "B")], left=[Segment(12, 20, "A")]
    )
    return change.sequence, report


def test_import_clips_and_reports(tmp_path):
    seq = motion(50)
    change, report = se.import_annotations(
        seq, sign=[Segment(-5, 3, "X"), Segment(2, 10, "Y"), Segment(45, 80, "Z"), Segment(90, 99)]
    )
    assert [(s.start, s.end) for s in se.lane_segments(change.sequence)] == [(0, 3), (4, 10), (45, 49)]
    assert report.clipped == 3 and report.dropped == 1
    with pytest.raises(FormatError, match="offset"):
        p = tmp_path / "far.eaf"
        eaf.write_document(p, {"sign": [Segment(1000, 1010, "X")]}, 25.0)
        eaf.import_onto(seq, p)


HOSTILE = {
    "doctype": b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "yyyy">]><ANNOTATION_DOCUMENT>&x;</ANNOTATION_DOCUMENT>',
    "external": b'<?xml version="1.0"?><!DOCTYPE a SYSTEM "file:///etc/passwd"><ANNOTATION_DOCUMENT/>',
    "undefined entity": b"<ANNOTATION_DOCUMENT>&x;</ANNOTATION_DOCUMENT>",
    "deep": b"<ANNOTATION_DOCUMENT>" + b"<a>" * 100000 + b"</a>" * 100000 + b"</ANNOTATION_DOCUMENT>",
    "not xml": b"\x00\x01garbage",
    "other root": b"<html/>",
    "no time order": b"<ANNOTATION_DOCUMENT><HEADER/></ANNOTATION_DOCUMENT>",
    "absurd time": b'<ANNOTATION_DOCUMENT><TIME_ORDER><TIME_SLOT TIME_SLOT_ID="t" TIME_VALUE="2500000000000"/>'
    b"</TIME_ORDER></ANNOTATION_DOCUMENT>",
    "nan time": b'<ANNOTATION_DOCUMENT><TIME_ORDER><TIME_SLOT TIME_SLOT_ID="t" TIME_VALUE="nan"/>'
    b"</TIME_ORDER></ANNOTATION_DOCUMENT>",
    "missing slot": b'<ANNOTATION_DOCUMENT><TIME_ORDER/><TIER TIER_ID="x"><ANNOTATION><ALIGNABLE_ANNOTATION '
    b'ANNOTATION_ID="a1" TIME_SLOT_REF1="t1" TIME_SLOT_REF2="t2"/></ANNOTATION></TIER></ANNOTATION_DOCUMENT>',
    "cycle": b'<ANNOTATION_DOCUMENT><TIME_ORDER/><TIER TIER_ID="x">'
    + b"".join(
        f'<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="a{i}" ANNOTATION_REF="a{(i + 1) % 5000}"/></ANNOTATION>'.encode()
        for i in range(5000)
    )
    + b"</TIER></ANNOTATION_DOCUMENT>",
    "self reference": b'<ANNOTATION_DOCUMENT><TIME_ORDER/><TIER TIER_ID="x"><ANNOTATION><REF_ANNOTATION '
    b'ANNOTATION_ID="a1" ANNOTATION_REF="a1"/></ANNOTATION></TIER></ANNOTATION_DOCUMENT>',
    "duplicate id": b'<ANNOTATION_DOCUMENT><TIME_ORDER><TIME_SLOT TIME_SLOT_ID="t" TIME_VALUE="1"/></TIME_ORDER>'
    b'<TIER TIER_ID="x"><ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a" TIME_SLOT_REF1="t" TIME_SLOT_REF2="t"/>'
    b'</ANNOTATION><ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a" TIME_SLOT_REF1="t" TIME_SLOT_REF2="t"/>'
    b"</ANNOTATION></TIER></ANNOTATION_DOCUMENT>",
    "seconds": b'<ANNOTATION_DOCUMENT><HEADER TIME_UNITS="PAL-frames"/><TIME_ORDER/></ANNOTATION_DOCUMENT>',
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_give_one_line_errors_fast(tmp_path, name):
    p = tmp_path / "h.eaf"
    p.write_bytes(HOSTILE[name])
    t0 = time.perf_counter()
    with pytest.raises(FormatError) as e:
        eaf.parse(p)
    assert time.perf_counter() - t0 < 5.0  # a loop would hang here, not be slow
    assert "\n" not in str(e.value) and str(p) in str(e.value)


def test_mutated_elan_files_read_or_fail_cleanly():
    """A small mutation run over a file ELAN wrote: a document or a FormatError, nothing else."""
    data = FTO.read_bytes()
    rng = np.random.default_rng(16)
    ok = bad = 0
    for _ in range(300):
        b = bytearray(data)
        for _ in range(int(rng.integers(1, 6))):
            i = int(rng.integers(0, len(b)))
            op = int(rng.integers(0, 3))
            if op == 0:
                b[i] = int(rng.integers(0, 256))
            elif op == 1:
                del b[i : i + int(rng.integers(1, 40))]
            else:
                j = int(rng.integers(0, len(b)))
                b[i:i] = b[j : j + int(rng.integers(1, 40))]
        try:
            doc = eaf.parse_bytes(bytes(b), "m.eaf")
            for t in doc.tiers:
                eaf.tier_segments(doc, t.name, 25.0)
            ok += 1
        except FormatError as e:
            assert "\n" not in str(e)
            bad += 1
    assert ok > 0 and bad > 0


def test_cli_segment_from_eaf(tmp_path):
    mot = tmp_path / "clip.signframe"
    registry.write(mot, motion(300))
    env_py = [sys.executable, "-m", "core", "segment", str(mot), "--from-eaf", str(FTO)]
    r = subprocess.run(env_py + ["--tier", "fto-ab", "--offset", "1000"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["segments"][0] == {"start": 16, "end": 19, "gloss": "P_a"}  # (1630 - 1000) ms at 25 fps
    assert {"frame": 16, "kind": "onset"} in out["keyframes"]
    back = tmp_path / "back.eaf"
    r = subprocess.run(env_py + ["--tier", "fto-ab", "--out", str(back)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert [a.value for a in eaf.parse(back).tier("fto-ab").annotations][:2] == ["P_a", "O12_a_b"]
    assert eaf.parse(back).linked_files[-1].relative_url == "./clip.signframe"
    bad = tmp_path / "bad.eaf"
    bad.write_text("<ANNOTATION_DOCUMENT>")
    for extra in (["--from-eaf", str(bad)], ["--from-eaf", str(FTO), "--tier", "nope"]):
        r = subprocess.run([sys.executable, "-m", "core", "segment", str(mot)] + extra, capture_output=True, text=True)
        assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_fast_label_segments_match_the_reference_reading():
    from core.model.sequence import glossed_segments, segments_from_labels

    rng = np.random.default_rng(3)
    for _ in range(200):
        lab = rng.choice([0, 1, 2], size=int(rng.integers(0, 60)), p=[0.4, 0.45, 0.15]).astype(np.uint8)
        assert se.label_segments(lab) == segments_from_labels(lab)
    seq = motion(100)
    seq = se.import_annotations(seq, sign=[Segment(5, 20, "A"), Segment(30, 40, "B")])[0].sequence
    assert se.sign_segments(seq) == glossed_segments(seq)
    odd = seq.replace(glosses=(Segment(4, 18, "X"),))  # glosses that do not match the signs exactly
    assert se.sign_segments(odd) == glossed_segments(odd)


def test_media_beside_the_motion_and_the_motion_linked(tmp_path):
    (tmp_path / "clip.pose").write_bytes(b"")
    (tmp_path / "clip.mp4").write_bytes(b"")
    out = tmp_path / "elan" / "clip.eaf"
    links = elan_links(tmp_path / "clip.pose", out)
    seq = se.import_annotations(motion(100), sign=[Segment(5, 20, "A")])[0].sequence
    eaf.write(out, seq, **links)
    doc = eaf.parse(out)
    assert [(m.relative_url, m.mime_type) for m in doc.media] == [("../clip.mp4", "video/mp4")]
    assert doc.media[0].url == (tmp_path / "clip.mp4").resolve().as_uri()
    assert [(f.relative_url, f.url) for f in doc.linked_files] == [
        ("../clip.pose", (tmp_path / "clip.pose").resolve().as_uri())
    ]
    text = out.read_text()  # ELAN's attribute names
    for attr in ("MEDIA_URL=", "RELATIVE_MEDIA_URL=", "MIME_TYPE=", "LINK_URL=", "RELATIVE_LINK_URL="):
        assert attr in text
    assert "media" not in elan_links(tmp_path / "other.pose", out)  # no video beside: no media
    # a project made from clip.pose finds the recording's video by the source file's name
    proj = elan_links(tmp_path / "work.signframe", out, source_file="clip.pose")
    assert [m.relative_url for m in proj["media"]] == ["../clip.mp4"]  # type: ignore[attr-defined]


def test_imported_annotations_survive_a_project_file(tmp_path):
    seq = motion(300)
    seq = eaf.import_onto(seq, FTO, tier="fto-ab", right="a", left="b")[0].sequence
    seq = se.rename(seq, "left", se.lane_segments(seq, "left")[0].start, "B-EDITED").sequence
    proj = tmp_path / "p.signframe"
    registry.write(proj, seq)
    back = registry.read(proj)
    assert back.glosses == seq.glosses and back.meta["eaf"]["tiers"] == {"sign": "fto-ab", "right": "a", "left": "b"}
    eaf.write(tmp_path / "a.eaf", seq)
    eaf.write(tmp_path / "b.eaf", back)
    strip = lambda p: _annotations(eaf.parse(p))  # noqa: E731
    assert strip(tmp_path / "a.eaf") == strip(tmp_path / "b.eaf")
    assert strip(tmp_path / "b.eaf")["b"][0][2] == "B-EDITED"


def test_a_range_export_keeps_elan_times(tmp_path):
    from core.kinematics.resample import crop

    seq = eaf.import_onto(motion(300), FTO, tier="fto-ab")[0].sequence
    eaf.write(tmp_path / "cut.eaf", eaf.shifted(crop(seq, 50, 300), 50))
    whole, cut = eaf.parse(FTO).tier("fto-ab").annotations, eaf.parse(tmp_path / "cut.eaf").tier("fto-ab").annotations
    kept = [(a.start_ms, a.end_ms, a.value) for a in whole if a.start_ms >= 2000]
    assert [(a.start_ms, a.end_ms, a.value) for a in cut if a.start_ms >= 2000] == kept


def test_an_independent_reader_sees_what_we_wrote(tmp_path):
    """pympi-ling (not our code) reads the exported file: same tiers, values, times, media."""
    pympi = pytest.importorskip("pympi")
    seq = eaf.import_onto(motion(300), FTO, tier="fto-ab", right="a", left="b")[0].sequence
    seq = se.rename(seq, "", se.lane_segments(seq)[0].start, "EDITED").sequence
    out = tmp_path / "out.eaf"
    eaf.write(out, seq, media=[eaf.EafMedia("file:///v/clip.mp4", "./clip.mp4", "video/mp4", 250)])
    theirs = pympi.Elan.Eaf(str(out), suppress_version_warning=True)
    ours = eaf.parse(out)
    assert sorted(theirs.get_tier_names()) == sorted(ours.tier_names)
    for t in ours.tiers:
        got = sorted((a, b, v) for a, b, v, *_ in theirs.get_annotation_data_for_tier(t.name))
        assert got == sorted((a.start_ms, a.end_ms, a.value) for a in t.annotations), t.name
    assert theirs.media_descriptors[0]["RELATIVE_MEDIA_URL"] == "./clip.mp4"
    assert theirs.media_descriptors[0]["TIME_ORIGIN"] == "250"
    assert "EDITED" in [v for *_, v in theirs.get_annotation_data_for_tier("fto-ab")]
