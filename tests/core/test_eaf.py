"""ELAN .eaf interchange: segments out and back, per-hand tiers, schema validity, errors.

The official EAF 3.0 schema (EAFv3.0.xsd, published by the MPI for Psycholinguistics with ELAN)
is not shipped by any package installable here (checked: pympi-ling, speach, bela, elanwriter,
texttaglib) and cannot be downloaded at run time. ``EAF_SCHEMA`` below is therefore our own
XSD, written for this test from the published EAF 3.0 structure, covering the elements and
attributes our writer emits and those ELAN requires: document attributes (AUTHOR, DATE as
xsd:dateTime, VERSION, FORMAT), element order (LICENSE*, HEADER, TIME_ORDER, TIER*,
LINGUISTIC_TYPE*, LOCALE*, LANGUAGE*, CONSTRAINT*, CONTROLLED_VOCABULARY*, LEXICON_REF*,
EXTERNAL_REF*), TIME_UNITS values, time slots with non-negative integer times, ID / IDREF links
from annotations to time slots, and key references from tiers to linguistic types and parent
tiers and from linguistic types to constraint stereotypes. It is a subset, not the official
file: validating against it shows structural soundness, not certified ELAN compatibility.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.io import eaf
from core.io.errors import FormatError
from core.model.rotations import identity
from core.model.sequence import Segment, labels_from_segments, new_sequence

xmlschema = pytest.importorskip("xmlschema")

EAF_SCHEMA = """<?xml version="1.0" encoding="UTF-8"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <xsd:element name="ANNOTATION_DOCUMENT">
    <xsd:complexType>
      <xsd:sequence>
        <xsd:element name="LICENSE" type="licenseType" minOccurs="0" maxOccurs="unbounded"/>
        <xsd:element name="HEADER" type="headType"/>
        <xsd:element name="TIME_ORDER" type="timeType"/>
        <xsd:element name="TIER" type="tierType" minOccurs="0" maxOccurs="unbounded"/>
        <xsd:element name="LINGUISTIC_TYPE" type="lingType" minOccurs="0" maxOccurs="unbounded"/>
        <xsd:element name="LOCALE" type="localeType" minOccurs="0" maxOccurs="unbounded"/>
        <xsd:element name="LANGUAGE" type="langType" minOccurs="0" maxOccurs="unbounded"/>
        <xsd:element name="CONSTRAINT" type="constraintType" minOccurs="0" maxOccurs="4"/>
        <xsd:element name="CONTROLLED_VOCABULARY" type="xsd:anyType" minOccurs="0" maxOccurs="unbounded"/>
        <xsd:element name="LEXICON_REF" type="xsd:anyType" minOccurs="0" maxOccurs="unbounded"/>
        <xsd:element name="EXTERNAL_REF" type="xsd:anyType" minOccurs="0" maxOccurs="unbounded"/>
      </xsd:sequence>
      <xsd:attribute name="DATE" type="xsd:dateTime" use="required"/>
      <xsd:attribute name="AUTHOR" type="xsd:string" use="required"/>
      <xsd:attribute name="VERSION" type="xsd:string" use="required"/>
      <xsd:attribute name="FORMAT" type="xsd:string" default="3.0"/>
    </xsd:complexType>
    <xsd:key name="tierNameKey"><xsd:selector xpath="TIER"/><xsd:field xpath="@TIER_ID"/></xsd:key>
    <xsd:keyref name="parentTierRef" refer="tierNameKey">
      <xsd:selector xpath="TIER"/><xsd:field xpath="@PARENT_REF"/></xsd:keyref>
    <xsd:key name="lingTypeNameKey">
      <xsd:selector xpath="LINGUISTIC_TYPE"/><xsd:field xpath="@LINGUISTIC_TYPE_ID"/></xsd:key>
    <xsd:keyref name="lingTypeRef" refer="lingTypeNameKey">
      <xsd:selector xpath="TIER"/><xsd:field xpath="@LINGUISTIC_TYPE_REF"/></xsd:keyref>
    <xsd:key name="constraintKey"><xsd:selector xpath="CONSTRAINT"/><xsd:field xpath="@STEREOTYPE"/></xsd:key>
    <xsd:keyref name="constraintRef" refer="constraintKey">
      <xsd:selector xpath="LINGUISTIC_TYPE"/><xsd:field xpath="@CONSTRAINTS"/></xsd:keyref>
  </xsd:element>
  <xsd:complexType name="licenseType">
    <xsd:simpleContent><xsd:extension base="xsd:string">
      <xsd:attribute name="LICENSE_URL" type="xsd:anyURI" use="optional"/>
    </xsd:extension></xsd:simpleContent>
  </xsd:complexType>
  <xsd:complexType name="headType">
    <xsd:sequence>
      <xsd:element name="MEDIA_DESCRIPTOR" minOccurs="0" maxOccurs="unbounded">
        <xsd:complexType>
          <xsd:attribute name="MEDIA_URL" type="xsd:anyURI" use="required"/>
          <xsd:attribute name="RELATIVE_MEDIA_URL" type="xsd:anyURI" use="optional"/>
          <xsd:attribute name="MIME_TYPE" type="xsd:string" use="required"/>
          <xsd:attribute name="TIME_ORIGIN" type="xsd:long" use="optional"/>
          <xsd:attribute name="EXTRACTED_FROM" type="xsd:anyURI" use="optional"/>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="LINKED_FILE_DESCRIPTOR" type="xsd:anyType" minOccurs="0" maxOccurs="unbounded"/>
      <xsd:element name="PROPERTY" minOccurs="0" maxOccurs="unbounded">
        <xsd:complexType><xsd:simpleContent><xsd:extension base="xsd:string">
          <xsd:attribute name="NAME" type="xsd:string" use="optional"/>
        </xsd:extension></xsd:simpleContent></xsd:complexType>
      </xsd:element>
    </xsd:sequence>
    <xsd:attribute name="MEDIA_FILE" type="xsd:string" use="optional"/>
    <xsd:attribute name="TIME_UNITS" use="optional" default="milliseconds">
      <xsd:simpleType><xsd:restriction base="xsd:string">
        <xsd:enumeration value="NTSC-frames"/><xsd:enumeration value="PAL-frames"/>
        <xsd:enumeration value="milliseconds"/>
      </xsd:restriction></xsd:simpleType>
    </xsd:attribute>
  </xsd:complexType>
  <xsd:complexType name="timeType">
    <xsd:sequence>
      <xsd:element name="TIME_SLOT" minOccurs="0" maxOccurs="unbounded">
        <xsd:complexType>
          <xsd:attribute name="TIME_SLOT_ID" type="xsd:ID" use="required"/>
          <xsd:attribute name="TIME_VALUE" type="xsd:unsignedInt" use="optional"/>
        </xsd:complexType>
      </xsd:element>
    </xsd:sequence>
  </xsd:complexType>
  <xsd:complexType name="tierType">
    <xsd:sequence>
      <xsd:element name="ANNOTATION" minOccurs="0" maxOccurs="unbounded">
        <xsd:complexType>
          <xsd:choice>
            <xsd:element name="ALIGNABLE_ANNOTATION">
              <xsd:complexType>
                <xsd:sequence><xsd:element name="ANNOTATION_VALUE" type="xsd:string"/></xsd:sequence>
                <xsd:attribute name="ANNOTATION_ID" type="xsd:ID" use="required"/>
                <xsd:attribute name="EXT_REF" type="xsd:IDREFS" use="optional"/>
                <xsd:attribute name="LANG_REF" type="xsd:IDREF" use="optional"/>
                <xsd:attribute name="CVE_REF" type="xsd:string" use="optional"/>
                <xsd:attribute name="TIME_SLOT_REF1" type="xsd:IDREF" use="required"/>
                <xsd:attribute name="TIME_SLOT_REF2" type="xsd:IDREF" use="required"/>
                <xsd:attribute name="SVG_REF" type="xsd:string" use="optional"/>
              </xsd:complexType>
            </xsd:element>
            <xsd:element name="REF_ANNOTATION">
              <xsd:complexType>
                <xsd:sequence><xsd:element name="ANNOTATION_VALUE" type="xsd:string"/></xsd:sequence>
                <xsd:attribute name="ANNOTATION_ID" type="xsd:ID" use="required"/>
                <xsd:attribute name="ANNOTATION_REF" type="xsd:IDREF" use="required"/>
                <xsd:attribute name="PREVIOUS_ANNOTATION" type="xsd:IDREF" use="optional"/>
                <xsd:attribute name="EXT_REF" type="xsd:IDREFS" use="optional"/>
                <xsd:attribute name="LANG_REF" type="xsd:IDREF" use="optional"/>
                <xsd:attribute name="CVE_REF" type="xsd:string" use="optional"/>
              </xsd:complexType>
            </xsd:element>
          </xsd:choice>
        </xsd:complexType>
      </xsd:element>
    </xsd:sequence>
    <xsd:attribute name="TIER_ID" type="xsd:string" use="required"/>
    <xsd:attribute name="PARTICIPANT" type="xsd:string" use="optional"/>
    <xsd:attribute name="ANNOTATOR" type="xsd:string" use="optional"/>
    <xsd:attribute name="LINGUISTIC_TYPE_REF" type="xsd:string" use="required"/>
    <xsd:attribute name="DEFAULT_LOCALE" type="xsd:string" use="optional"/>
    <xsd:attribute name="PARENT_REF" type="xsd:string" use="optional"/>
    <xsd:attribute name="EXT_REF" type="xsd:string" use="optional"/>
    <xsd:attribute name="LANG_REF" type="xsd:string" use="optional"/>
  </xsd:complexType>
  <xsd:complexType name="lingType">
    <xsd:attribute name="LINGUISTIC_TYPE_ID" type="xsd:string" use="required"/>
    <xsd:attribute name="TIME_ALIGNABLE" type="xsd:boolean" use="optional"/>
    <xsd:attribute name="CONSTRAINTS" type="xsd:string" use="optional"/>
    <xsd:attribute name="GRAPHIC_REFERENCES" type="xsd:boolean" use="optional"/>
    <xsd:attribute name="CONTROLLED_VOCABULARY_REF" type="xsd:string" use="optional"/>
    <xsd:attribute name="EXT_REF" type="xsd:string" use="optional"/>
    <xsd:attribute name="LEXICON_REF" type="xsd:string" use="optional"/>
  </xsd:complexType>
  <xsd:complexType name="localeType">
    <xsd:attribute name="LANGUAGE_CODE" type="xsd:string" use="required"/>
    <xsd:attribute name="COUNTRY_CODE" type="xsd:string" use="optional"/>
    <xsd:attribute name="VARIANT" type="xsd:string" use="optional"/>
  </xsd:complexType>
  <xsd:complexType name="langType">
    <xsd:attribute name="LANG_ID" type="xsd:ID" use="required"/>
    <xsd:attribute name="LANG_DEF" type="xsd:anyURI" use="optional"/>
    <xsd:attribute name="LANG_LABEL" type="xsd:string" use="optional"/>
  </xsd:complexType>
  <xsd:complexType name="constraintType">
    <xsd:attribute name="STEREOTYPE" use="required">
      <xsd:simpleType><xsd:restriction base="xsd:string">
        <xsd:enumeration value="Time_Subdivision"/><xsd:enumeration value="Symbolic_Subdivision"/>
        <xsd:enumeration value="Symbolic_Association"/><xsd:enumeration value="Included_In"/>
      </xsd:restriction></xsd:simpleType>
    </xsd:attribute>
    <xsd:attribute name="DESCRIPTION" type="xsd:string" use="optional"/>
  </xsd:complexType>
</xsd:schema>
"""


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(EAF_SCHEMA)


def _check_times(path):
    """What the schema cannot say: each annotation ends after it starts, on a tier whose
    annotations do not overlap."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    slots = {s.get("TIME_SLOT_ID"): int(s.get("TIME_VALUE")) for s in root.iter("TIME_SLOT")}
    for tier in root.iter("TIER"):
        spans = sorted(
            (slots[a.get("TIME_SLOT_REF1")], slots[a.get("TIME_SLOT_REF2")]) for a in tier.iter("ALIGNABLE_ANNOTATION")
        )
        for a, b in spans:
            assert b > a
        for (_, e1), (s2, _) in zip(spans, spans[1:]):
            assert s2 >= e1


def test_schema_rejects_what_elan_would_reject(schema, tmp_path):
    """The schema is strict enough to fail: dangling time slot, unknown type, bad date."""
    p = tmp_path / "a.eaf"
    eaf.write_segments(p, [Segment(2, 5)], 25.0)
    good = p.read_text()
    assert schema.is_valid(good)
    assert not schema.is_valid(good.replace('TIME_SLOT_REF2="', 'TIME_SLOT_REF2="x'))
    assert not schema.is_valid(good.replace('LINGUISTIC_TYPE_REF="gloss"', 'LINGUISTIC_TYPE_REF="nope"'))
    assert not schema.is_valid(good.replace('DATE="', 'DATE="yesterday'))
    assert not schema.is_valid(
        good.replace("<TIME_ORDER>", "<TIME_ORDER><TIER TIER_ID='x' LINGUISTIC_TYPE_REF='gloss'/>")
    )


@pytest.mark.parametrize("fps", [25.0, 29.97, 50.0, 24.0])
def test_segments_round_trip_and_file_is_schema_valid(schema, tmp_path, fps):
    segs = [Segment(0, 4, "HELLO"), Segment(7, 19), Segment(20, 33, "WORLD ñ"), Segment(40, 40)]
    p = tmp_path / "x.eaf"
    eaf.write_segments(p, segs, fps)
    schema.validate(str(p))
    _check_times(p)
    assert eaf.read_segments(p) == segs  # fps from the header property
    assert eaf.read_segments(p, fps=fps) == segs
    tiers = eaf.read_tiers(p)
    assert list(tiers) == ["sign"]


def test_times_are_milliseconds(tmp_path):
    p = tmp_path / "t.eaf"
    eaf.write_segments(p, [Segment(25, 49)], 25.0)
    import xml.etree.ElementTree as ET

    values = sorted(int(s.get("TIME_VALUE")) for s in ET.parse(p).getroot().iter("TIME_SLOT"))
    assert values == [1000, 2000]


def test_hand_tiers_only_where_the_hands_differ(schema, tmp_path):
    both = [Segment(2, 9, "A"), Segment(12, 20, "B")]
    p = tmp_path / "same.eaf"
    eaf.write_segments(p, both, 25.0, left=[Segment(2, 9), Segment(12, 20)], right=[Segment(2, 9), Segment(12, 20)])
    assert list(eaf.read_tiers(p)) == ["sign"]
    q = tmp_path / "diff.eaf"
    eaf.write_segments(q, both, 25.0, left=[Segment(2, 9)], right=[Segment(3, 9), Segment(12, 20)])
    schema.validate(str(q))
    tiers = eaf.read_tiers(q)
    assert tiers["sign_left"] == [Segment(2, 9)] and tiers["sign_right"] == [Segment(3, 9), Segment(12, 20)]


def test_write_sequence_uses_labels_and_glosses_and_per_hand_labels(schema, tmp_path):
    t = 40
    labels = labels_from_segments([Segment(3, 10), Segment(15, 30)], t)
    left = labels_from_segments([Segment(3, 10)], t)
    seq = new_sequence(
        identity((t, 52)),
        25.0,
        labels=labels,
        glosses=[Segment(14, 29, "TREE")],
        extra_frames={"labels_left": left, "labels_right": labels},
    )
    p = tmp_path / "s.eaf"
    eaf.write(p, seq)
    schema.validate(str(p))
    tiers = eaf.read_tiers(p)
    assert tiers["sign"] == [Segment(3, 10), Segment(15, 30, "TREE")]
    assert tiers["sign_left"] == [Segment(3, 10)]
    np.testing.assert_array_equal(eaf.read_labels(p, t), labels)


def test_read_labels_clips_and_picks_a_gloss_tier(tmp_path):
    p = tmp_path / "g.eaf"
    eaf.write_segments(p, [Segment(5, 8), Segment(30, 60)], 25.0)
    lab = eaf.read_labels(p, 40)
    assert lab.tolist()[4:10] == [0, 2, 1, 1, 1, 0] and lab[30] == 2 and lab[39] == 1


def test_eaf_read_and_bad_files_give_one_line_errors(tmp_path):
    p = tmp_path / "x.eaf"
    eaf.write_segments(p, [Segment(1, 3)], 25.0)
    with pytest.raises(FormatError, match="segments only"):
        eaf.read(p)
    from core.io import registry

    with pytest.raises(FormatError, match="segments only"):
        registry.read(p)
    bad = tmp_path / "bad.eaf"
    bad.write_text("<ANNOTATION_DOCUMENT><HEADER>")
    with pytest.raises(FormatError) as e:
        eaf.read_segments(bad, fps=25)
    assert "\n" not in str(e.value)
    with pytest.raises(FormatError, match="overlap"):
        eaf.write_segments(tmp_path / "o.eaf", [Segment(1, 5), Segment(4, 8)], 25.0)
    with pytest.raises(FormatError, match="frame rate"):
        eaf.write_segments(tmp_path / "f.eaf", [Segment(1, 5)], 0.0)
    assert not (tmp_path / "o.eaf").exists() and not (tmp_path / "f.eaf").exists()


def test_an_elan_style_file_without_our_property_needs_fps(tmp_path):
    p = tmp_path / "x.eaf"
    eaf.write_segments(p, [Segment(10, 19, "GLOSS")], 25.0)
    text = p.read_text().replace('<PROPERTY NAME="signframe:fps">25.0</PROPERTY>', "")
    text = text.replace('TIER_ID="sign"', 'TIER_ID="Gloss RH"')
    p.write_text(text)
    with pytest.raises(FormatError, match="frame rate"):
        eaf.read_segments(p)
    assert eaf.read_segments(p, fps=50.0) == [Segment(20, 39, "GLOSS")]
