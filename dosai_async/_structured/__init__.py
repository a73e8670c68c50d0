"""Structured outputs and tools: JSON schemas from Python types, parsing, the tool loop.

Owns schema generation (``_schema`` with its pieces in ``_schema_nodes``, ``_docstrings``),
the data normalizer (``_normalize``), ``parse``/``stream_parse`` (``_output``) and
``run_tools`` (``_tools``, its results and errors in ``_tool_results``). Pure functions
around a ``create`` callable: nothing here sees a client, a resource or a connection.

May import: ``_core``, ``_models``, ``_streaming``, the standard library and attrs.
"""
