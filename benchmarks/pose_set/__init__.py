"""A labelled set of recorded poses for the gesture accuracy benchmark: kinematic recordings
of an articulated body (:mod:`benchmarks.pose_set.kinematics`)."""
