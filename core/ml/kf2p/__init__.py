"""KF2P, the in-betweener: the editor's model (``inbetween``: samplers over the refiner or an
official checkpoint), its training (``data``, ``loss``, ``train``, ``adapt``), evaluation
(``eval``, ``metrics``, ``realcal``) and benchmark. Shares ``core.ml.flow``, ``solver`` and
``checkpoint`` with the rest of ``core.ml``. Imports nothing at package import (no torch)."""
