"""The API namespaces: ``client.chat.completions``, ``client.models`` and the rest, one module each.

Owns ``Chat``/``Completions`` (``_chat``), ``Models`` (``_models``), the two callables every
namespace is built from (``_base``) and ``with_raw_response`` / ``with_streaming_response``
(``_raw``: one mechanism for any namespace that keeps its requester as ``_requester``;
``_chat_raw`` declares create's result types for mypy). Resources are thin glue: each method
checks its arguments, merges the call's options with the client's (``CallOptionsFn``) and hands the
request to the client's ``Requester`` (``RequesterFn``). Features (structured outputs, tools,
batches) receive a ``create`` callable built here, never a resource.

May import: every room below it (``_core``, ``_models``, ``_streaming``, ``_structured``,
``_requester``, ``_batch``). Never ``_client`` or the front door.
"""
