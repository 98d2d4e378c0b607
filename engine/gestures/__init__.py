"""Gestures: pose landmark sequences, taught templates and their matching.

A gesture is a sequence of :data:`~engine.gestures.sequence.SEQUENCE_FRAMES` frames (about a
second) of the 33 MediaPipe pose landmarks of one person, normalised so that where the person
stands and how large they appear do not matter (:mod:`engine.gestures.sequence`). Taught
examples become templates; a new sequence is matched against all of them by dynamic time
warping with a band and LB_Keogh pruning, and a match's confidence is calibrated on the
gesture's own examples (:mod:`engine.gestures.dtw`).
"""
