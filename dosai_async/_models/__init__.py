"""The data: wire types, request parameters, the converter and its generated hooks.

Owns the frozen attrs models (``_types``), the parameter ``TypedDict`` s (``_params``), the
one configured cattrs converter (``_converter``, the only cattrs and orjson importer) and the
hook generator behind it (``_codegen``).

May import: ``_core``, the standard library, attrs, cattrs and orjson (``_converter`` only).
"""
