"""Signframe's headless core: representation, kinematics, models, file formats, jobs.

Never imports Qt, vispy or pyqtgraph; torch only inside the modules that run models.
"""

__version__ = "0.1.0"
