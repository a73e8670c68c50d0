"""The environment variables the package reads: their names, in one place.

``AsyncDosAI`` reads them for its defaults and the ``dosai`` command names them in its
messages; both import them from here (the one private module ``cli/`` may import).
"""

#: The API key when ``AsyncDosAI(api_key=...)`` is not given.
API_KEY_ENV = "DOS_AI_API_KEY"
#: The base URL when ``AsyncDosAI(base_url=...)`` is not given.
BASE_URL_ENV = "DOS_AI_BASE_URL"
#: ``debug`` or ``info``: log each attempt (and retries) to stderr, as ``OPENAI_LOG`` does.
LOG_ENV = "DOS_AI_LOG"
