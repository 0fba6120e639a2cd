"""Reference media beside the motion: video frames and audio, headless (no Qt).

- ``timemap``: document time <-> media time and video frame (the offset rule);
- ``video``: decoding with PyAV, frame-accurate by presentation time, with a frame cache;
- ``index_video``: videos whose frames carry their index as black / white blocks (tests, benches);
- ``audio``: WAV / FLAC / a video's audio track -> float32 samples;
- ``waveform``: min / max peaks per bucket for drawing a waveform at any zoom;
- ``render``: the audio a player outputs for a playhead position: varispeed or pitch kept (WSOLA);
- ``links``: media links of a document (relative paths in project files), the file found beside a
  motion file, ELAN media descriptors.
"""
