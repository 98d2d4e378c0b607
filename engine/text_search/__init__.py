"""Meaning search over the texts people write and read: incident reports, bookmarks' titles
and notes, and event summaries.

- :mod:`engine.text_search.encoder` turns sentences into vectors with a small offline model
  (all-MiniLM-L6-v2, int8 ONNX, on one onnxruntime thread).
- :mod:`engine.text_search.sources` says which rows are searchable and words each one.
- :mod:`engine.text_search.index` keeps the vectors: a typed store command writes them
  through the store writer, and :class:`~engine.text_search.index.TextIndexer` embeds new
  and old rows on its own named thread.
- :mod:`engine.text_search.matrix` holds every vector in memory and ranks them for a query,
  with exact words counted too.
- :mod:`engine.text_search.search` is the use case: a frozen request the query service, the
  CLI and Ask run, answering with :class:`~engine.text_search.search.TextHit` rows.
"""
