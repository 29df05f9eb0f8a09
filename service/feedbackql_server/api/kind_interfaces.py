"""The GraphQL interfaces that plugin kinds implement.

Every installed kind contributes one object type per interface it takes part in (generated in
``kind_types``); the rest of the schema names only these interfaces, so it can be written as
ordinary module-level classes. Clients select a kind's fields with fragments
(``... on RatingQuestionSettings { min max }``), exactly as they did on the former unions.
"""

from __future__ import annotations

import strawberry


@strawberry.interface(description="A field's settings: one implementation per installed field kind.")
class FieldSettings:
    kind: str = strawberry.field(description="The field kind these settings belong to.")


@strawberry.interface(description="A question's settings: one implementation per installed question kind.")
class QuestionSettings:
    kind: str = strawberry.field(description="The question kind these settings belong to.")


@strawberry.interface(description="An answer or suggestion: one implementation per installed question kind.")
class Value:
    kind: str = strawberry.field(description="The question kind of this value.")


@strawberry.type(description="Settings of a kind this server cannot use now (its plugin is not "
                             "installed, or cannot read them); `settingsJson` has them as stored.")
class UnavailableKindSettings(FieldSettings, QuestionSettings):
    reason: str


@strawberry.type(description="A value of a kind this server cannot read now; `json` has it as stored.")
class UnavailableValue(Value):
    reason: str
