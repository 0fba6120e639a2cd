"""FAST, the sign segmenter and keyframe proposer: the network (``net``), its hand features,
inference and decoding (``infer``), training data and training (``data``, ``train``), evaluation
on labelled and real recordings (``eval``, ``real``) and benchmark. Imports nothing at package
import (no torch)."""
