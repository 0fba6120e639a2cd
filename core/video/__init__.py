"""Video -> landmarks, through MediaPipe in its own environment (it needs numpy < 2)."""
