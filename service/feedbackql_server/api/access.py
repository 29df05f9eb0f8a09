"""Loading what a request names, through the policy: the one way resolvers reach documents.

Each helper loads through the request's DataLoaders and answers ``NOT_FOUND`` for what the
caller may not see, ``FORBIDDEN`` for what they see but may not change.
"""

from __future__ import annotations

from typing import Any

from feedbackql_server.api.context import Context
from feedbackql_server.errors import NotFound
from feedbackql_server.ids import parse_id
from feedbackql_server.policy import datasets, records, workspaces

Doc = dict[str, Any]


async def workspace(ctx: Context, ref: str, *, manage: bool = False) -> Doc:
    doc = await ctx.loaders.workspaces.load(parse_id(ref, "workspace"))
    check = workspaces.manageable if manage else workspaces.readable
    return check(ctx.caller, doc, ref)


async def dataset(ctx: Context, ref: str, *, manage: bool = False) -> Doc:
    doc = await ctx.loaders.datasets.load(parse_id(ref, "dataset"))
    check = datasets.manageable if manage else datasets.readable
    return check(ctx.caller, doc, ref)


async def record(ctx: Context, ref: str) -> tuple[Doc, Doc]:
    """The record and its dataset."""
    doc = await ctx.loaders.records.load(parse_id(ref, "record"))
    dataset_doc = await ctx.loaders.datasets.load(doc["dataset_id"]) if doc else None
    return records.readable(ctx.caller, doc, dataset_doc, ref)



def present(doc: Doc | None, what: str) -> Doc:
    """A related document; it may vanish between two reads when its parent is deleted."""
    if doc is None:
        raise NotFound(f"the {what} was deleted")
    return doc
