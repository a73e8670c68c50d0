"""Batches: bounded, paced, ordered fan-out of many requests, and JSONL batch files.

Owns ``Batch`` (``_fanout``), one item's retry loop (``_item``), the adaptive pacer
(``_pacer``), the Batch API line format (``_jsonl``) and ``run_batch_file`` (``_files``).
Requests go out through a ``create`` callable; nothing here sees a client or a resource.

May import: ``_core``, ``_models``, the standard library and attrs.
"""
