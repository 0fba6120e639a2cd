"""Forward kinematics, in-betweening baselines and inverse kinematics."""
