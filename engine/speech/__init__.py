"""Speech: people named when they introduce themselves ("Hi, I'm John").

``audio`` reads files and resamples to 16 kHz mono int16, ``vad`` cuts streams into
utterances, ``recognise`` runs Whisper (faster-whisper; base or tiny.en, shipped), ``names``
finds the introduced name in a transcript, ``service`` runs it all on a thread and publishes
``speech.name_heard``. Nothing here imports faster-whisper at import time.
"""
