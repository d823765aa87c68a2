"""GET /metrics: this process's metrics in the Prometheus text format, for operators only.

Not part of the API contract (not in the OpenAPI document). Answered only to the configured
bearer token (BUURTPLUS_METRICS_TOKEN) or to clients in the configured networks
(BUURTPLUS_METRICS_NETWORKS); with neither configured it does not exist (404)."""

from fastapi import APIRouter, Request, Response

from buurtplus.api.errors import problem_response
from buurtplus.core.metrics import MetricsAccess, render

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    access: MetricsAccess = request.app.state.metrics_access
    if not access.enabled:
        return problem_response(404, "not-found", request=request)
    if not access.allows(
        authorization=request.headers.get("authorization"),
        address=request.client.host if request.client else None,
    ):
        return problem_response(
            403,
            "forbidden",
            "Metrics are read with the metrics token or from a configured network.",
            request=request,
        )
    body, content_type = render(request.app.state.outbox_metrics)
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
