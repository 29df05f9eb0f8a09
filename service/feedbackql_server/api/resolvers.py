"""``strawberry.field`` and ``strawberry.mutation`` with keyword arguments, typed for mypy.

Used as ``@strawberry.field(description=...)``, strawberry's overloads return ``Any``, which
strict mypy reports as an untyped decorator. These wrappers keep the decorated resolver's
own signature, so resolvers stay checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

Resolver = TypeVar("Resolver", bound=Callable[..., Any])


def field(*, description: str) -> Callable[[Resolver], Resolver]:
    decorate: Callable[[Resolver], Resolver] = strawberry.field(description=description)
    return decorate


def mutation(*, description: str) -> Callable[[Resolver], Resolver]:
    decorate: Callable[[Resolver], Resolver] = strawberry.mutation(description=description)
    return decorate


def subscription(*, description: str) -> Callable[[Resolver], Resolver]:
    decorate: Callable[[Resolver], Resolver] = strawberry.subscription(description=description)
    return decorate
