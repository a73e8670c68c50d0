"""``AsyncPager``: what ``files.list()`` and ``batches.list()`` return, as in openai.

``await pager`` gives the first page (a ``FileList`` / ``BatchList``); ``async for item in
pager`` walks every page, asking for the next one (``after`` the last id) only when the
current one is used up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["AsyncPager"]


class _Item(Protocol):
    @property
    def id(self) -> str: ...


ItemT = TypeVar("ItemT", bound=_Item)
PageT = TypeVar("PageT", bound="_Page[Any]")
_ItemT_co = TypeVar("_ItemT_co", covariant=True)


class _Page(Protocol[_ItemT_co]):
    @property
    def data(self) -> Sequence[_ItemT_co]: ...

    @property
    def has_more(self) -> bool: ...


class AsyncPager(Generic[ItemT, PageT]):
    """A cursor list: ``await`` it for the first page, ``async for`` it for every item."""

    def __init__(self, fetch: Callable[[str | None], Awaitable[PageT]], after: str | None) -> None:
        self._fetch = fetch
        self._after = after

    def __await__(self) -> Generator[Any, None, PageT]:
        return self._first().__await__()

    async def _first(self) -> PageT:
        return await self._fetch(self._after)

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        after = self._after
        while True:
            page = await self._fetch(after)
            items: Sequence[ItemT] = page.data
            for item in items:
                yield item
            if not page.has_more or not items:
                return
            after = items[-1].id
