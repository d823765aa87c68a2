from typing import Annotated, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class PatchModel(InputModel):
    """Partial update: only the fields sent change. Null only clears fields in `nullable`."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def refuse_null_for_required(self) -> Self:
        for name in self.model_fields_set - self.nullable:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep its value")
        return self

    def changes(self) -> dict[str, object]:
        return self.model_dump(exclude_unset=True)


# One line of visible text; the value is stored and returned verbatim.
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
