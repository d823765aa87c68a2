"""The floor: a bare FastAPI app on the same interpreter, uvicorn and settings as the service,
that validates the same JSON body an intake takes and echoes it. Every HTTP figure of
`make bench` is read as a share of this app's throughput, measured in the same run."""

from fastapi import FastAPI
from pydantic import BaseModel, Field


class Location(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Report(BaseModel):
    category: str = Field(max_length=40)
    description: str | None = Field(default=None, max_length=4000)
    location: Location | None = None
    buurt_code: str | None = Field(default=None, max_length=10)


app = FastAPI()


@app.post("/echo")
def echo(report: Report) -> Report:
    return report
