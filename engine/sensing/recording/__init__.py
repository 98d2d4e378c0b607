"""A sensing room's recording (raw frames and node events) and its replay.

- :mod:`~engine.sensing.recording.recorder`: the recorder and the files it writes and reads.
- :mod:`~engine.sensing.recording.replay`: a recording run again through the sensing chain.
"""
