"""The API namespaces: ``client.chat.completions``, ``client.models`` and the rest, one module each.

Owns ``Chat``/``Completions`` (``_chat``), ``Models`` (``_models``) and the two callables every
namespace is built from (``_base``). Resources are thin glue: each method checks its
arguments, merges the call's options with the client's (``CallOptionsFn``) and hands the
request to the client's ``Requester`` (``RequesterFn``). Features (structured outputs, tools,
batches) receive a ``create`` callable built here, never a resource.

May import: every room below it (``_core``, ``_models``, ``_streaming``, ``_structured``,
``_requester``, ``_batch``). Never ``_client`` or the front door.
"""
