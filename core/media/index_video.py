"""Videos whose frames carry their own index (tests and benchmarks generate them).

Frame i shows i in binary as a row of ``BITS`` square blocks (white = 1, black = 0) on a mid-grey
ground, so the index survives lossy compression: ``read_index`` thresholds each block's centre.
The rest of the picture is flat, so a 10-minute 720p file stays small and encodes fast.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

BITS = 16
GREY = 96


def _layout(width: int, height: int) -> tuple[int, int, int]:
    """(block size, x0, y0) of the bit row, centred."""
    block = max(4, min(width // (BITS + 2), height // 3))
    x0 = (width - BITS * block) // 2
    y0 = (height - block) // 2
    return block, x0, y0


def index_image(i: int, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 showing ``i`` (mod 2**BITS) as blocks."""
    img = np.full((height, width, 3), GREY, np.uint8)
    block, x0, y0 = _layout(width, height)
    for b in range(BITS):
        if (int(i) >> b) & 1:
            img[y0 : y0 + block, x0 + b * block : x0 + (b + 1) * block] = 255
        else:
            img[y0 : y0 + block, x0 + b * block : x0 + (b + 1) * block] = 0
    return img


def read_index(img: np.ndarray) -> int:
    """The index an ``index_image`` (possibly scaled and compressed) shows."""
    h, w = img.shape[:2]
    block, x0, y0 = _layout(w, h)
    q = max(1, block // 4)
    value = 0
    for b in range(BITS):
        cx, cy = x0 + b * block + block // 2, y0 + block // 2
        if img[cy - q : cy + q, cx - q : cx + q].mean() > 128:
            value |= 1 << b
    return value


def write_index_video(
    path: str | Path,
    n_frames: int,
    fps: float | Fraction,
    width: int = 320,
    height: int = 180,
    *,
    gop: int = 25,
    codec: str = "libx264",
    audio_tone_hz: float | None = None,
    audio_rate: int = 48000,
    audio_delay_s: float = 0.0,
) -> Path:
    """Write ``n_frames`` index frames at ``fps`` (an mp4 with H.264 by default, B-frames on).

    ``audio_tone_hz``: also write an AAC audio track of that tone, as long as the video, starting
    ``audio_delay_s`` after the first frame (its first sample's presentation time)."""
    import av

    path = Path(path)
    rate = Fraction(fps).limit_denominator(100000)
    with av.open(str(path), "w") as out:
        vs: Any = out.add_stream(codec, rate=rate)
        vs.width, vs.height = width, height
        vs.pix_fmt = "yuv420p"
        vs.codec_context.gop_size = gop
        if codec == "libx264":
            vs.options = {"preset": "ultrafast", "tune": "zerolatency" if gop <= 1 else "fastdecode", "bf": "2"}
        aus: Any = None
        if audio_tone_hz is not None:
            aus = out.add_stream("aac", rate=audio_rate)
            aus.layout = "mono"
        # straight into YUV 4:2:0 (grey chroma): no colour conversion per frame
        block, x0, y0 = _layout(width, height)
        plane = np.full((height * 3 // 2, width), 128, np.uint8)
        plane[:height] = GREY
        for i in range(n_frames):
            for b in range(BITS):
                plane[y0 : y0 + block, x0 + b * block : x0 + (b + 1) * block] = 255 if (i >> b) & 1 else 0
            frame = av.VideoFrame.from_ndarray(plane, format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1) / rate
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
        if aus is not None and audio_tone_hz is not None:
            n = int(round(n_frames / float(rate) * audio_rate))
            t = np.arange(n) / audio_rate
            samples = (0.3 * np.sin(2 * np.pi * audio_tone_hz * t)).astype(np.float32)
            step = 1024
            for s in range(0, n, step):
                chunk = samples[s : s + step][None, :]
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="mono")
                af.sample_rate = audio_rate
                af.pts = s + int(round(audio_delay_s * audio_rate))
                af.time_base = Fraction(1, audio_rate)
                for pkt in aus.encode(af):
                    out.mux(pkt)
            for pkt in aus.encode():
                out.mux(pkt)
    return path
