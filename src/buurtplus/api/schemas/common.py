import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


def _check_encodable(value: Any, where: str) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{where} holds text that is not valid Unicode") from exc
        if "\x00" in value:
            raise ValueError(f"{where} holds a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_encodable(key, where)
            _check_encodable(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_encodable(item, f"{where}.{index}")


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def refuse_broken_unicode(cls, data: Any) -> Any:
        # Lone surrogates and NUL survive JSON decoding; databases cannot store them.
        _check_encodable(data, "body")
        return data


class PatchModel(InputModel):
    """Partial update: only the fields sent change. Null only clears fields in `nullable`."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def refuse_null_for_required(self) -> Self:
        for name in self.model_fields_set - self.nullable:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep its value")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


# An e-mail address; checked for shape only, so local domains (demo.local) work too.
Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    Field(examples=["vrijwilliger@example.nl"]),
]

# One line of visible text (no line breaks or other control characters, which would break
# calendar feeds and log lines); the value is stored and returned verbatim.
ONE_LINE = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=ONE_LINE)]


def _iso_8601_only(value: Any) -> Any:
    # Pydantic would also read "0.5" or the number 999999999 as a Unix time; the contract says
    # a string in ISO 8601.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}T", value):
        raise ValueError("an ISO 8601 date-time with zone, e.g. 2026-03-02T09:30:00+01:00")
    return value


def _plausible_year(value: datetime) -> datetime:
    # Far-off years overflow date arithmetic and some databases; nobody means them.
    if not 2000 <= value.year <= 2200:
        raise ValueError("a date-time between the years 2000 and 2200")
    return value


# A moment as clients send it: ISO 8601 with a zone, in a plausible year.
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_8601_only), AfterValidator(_plausible_year)]

# The version of a record others change too: raised on every change.
Version = Annotated[int, Field(description="Also the ETag; send it as If-Match when changing")]
