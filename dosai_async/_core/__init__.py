"""The core: configuration, errors, deadlines, the aiohttp transport and the retry loop.

Owns ``Timeout``/``RetryPolicy`` (``_config``), the environment variable names (``_env``), the
error tree (``_exceptions``), ``Deadline`` (``_deadline``), the only aiohttp importer
(``_transport``) and the only tenacity importer (``_retry``).

May import: the standard library, attrs, aiohttp (``_transport`` only) and tenacity
(``_retry`` only). Nothing else in the package.
"""
