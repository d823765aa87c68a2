"""The published OpenAPI contract: FastAPI's document, completed with what integrators need.

What FastAPI derives from the routes stays the source: paths, parameters, bodies, models. This
module adds what it cannot know (the version, servers, tag descriptions, the default problem
response, response headers, the webhooks a partner receives) and applies the contract's rules
for generated clients:

- a request body that may be left out is a plain `$ref`, not `anyOf [X, null]`;
- enums are closed where a client sends them and open where it reads them (`anyOf [Enum,
  string]`), so a value added later does not break an older client;
- an input schema carries no JSON Schema `default` (the server applies it; the description
  says it), so generators do not make such a field required;
- a model that extends another is published as `allOf` of its parent.
"""

from collections.abc import Iterator
from copy import deepcopy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from buurtplus.api.problem_types import RAISES

# Semantic versioning of the contract, not of the package: raise the minor version for every
# compatible change, the major one for a breaking change (`buurtplus.api.contract_check`).
CONTRACT_VERSION = "3.1.0"

DESCRIPTION = """\
Buurtpreventie Plus: the API behind volunteer neighbourhood-prevention teams, and the webhooks
it sends to partner organisations.

**Signing in.** `POST /api/v1/auth/token` with the OAuth2 password grant (people) or the
client-credentials grant (partners' systems; the client's id and secret in the form or as HTTP
Basic). Send the token as `Authorization: Bearer <token>`. Every list and read is scoped by the
caller's role (admin, coordinator, member, partner): what you may not see is answered as if it
did not exist (404).

**Errors** are RFC 9457 `application/problem+json` (`Problem`) with a stable `type`
(`urn:buurtplus:problem:<name>`). Each operation lists the types it can answer in
`x-problem-types`; every operation may also answer the `default` problem (for example
`internal-error`). A 422 names each bad field in `errors`. The token endpoint adds the OAuth2
`error` code.

**Validation is strict** for request bodies: a boolean is `true` or `false` and a number is a
JSON number, never a string or 0/1; unknown fields are refused. Query parameters are strings on
the wire and are read as their declared type.

**Lists** are paged with `limit` and `cursor`; a page has `items` and `next_cursor` (null at
the end). The event feed pages with `after` and always gives a `next_cursor`.

**Versions and ETags.** Every record you can change (a team, a team membership, a user
account, a category, a partner organisation, a webhook endpoint, a routing rule, a signal, a
patrol, an AED) carries a `version`, raised by every change, and reading, creating or
changing one answers with an `ETag`: a strong entity tag that is its `version` in quotes,
e.g. `"3"`. `PATCH` requires `If-Match` with that ETag (`428 precondition-required` without
it; `412` with a stale one, a `stale-...` problem such as `stale-team`; `If-Match: *`
deliberately overwrites whatever is current). On a workflow step (acknowledge, start, close,
...) `If-Match` is optional: with it, the step applies only to the version you read; without
it, the step applies to the current version if the workflow allows it from the current state
(409 otherwise). `DELETE` of an AED takes `If-Match` the same way.

**Retries.** Send `Idempotency-Key` (or a client-chosen `id`) when reporting a signal: a retry
with the same key answers the first result with `Idempotent-Replayed: true`.

**Evolution.** `info.version` follows semantic versioning. Compatible changes (new operations,
new optional request fields, new response fields, new enum values, new event types) raise the
minor version; anything that could break a client that follows these rules (a removed path,
operation or field, a changed type, a new required request field, a narrowed enum) raises the
major version. Enums are closed in requests and open in responses: a response may carry a value
not listed yet (each is published as `anyOf [Enum, string]`), so treat an unknown value as
"other". Ignore response fields you do not know. New webhook event types are opt-in: an
endpoint gets only the types in its `event_types`, and a feed read with `type=` only those
types; a reader without `type=` skips events of a type it does not know.

**Webhooks** (see `webhooks`) follow the Standard Webhooks specification: a `POST` with the
body `{type, timestamp, data}` and the headers `webhook-id`, `webhook-timestamp` and
`webhook-signature`. Answer 2xx to accept; anything else is retried with the same `webhook-id`
(at least once, so deduplicate on it); 410 switches the endpoint off.
"""

SERVERS = [
    {"url": "/", "description": "The server that serves this document"},
    {"url": "http://127.0.0.1:8000", "description": "Local development (`make run`)"},
]

LICENSE = {"name": "MIT", "identifier": "MIT"}

TAGS = [
    {
        "name": "auth",
        "description": "Bearer tokens: the password grant for people, client "
        "credentials for partners' systems.",
    },
    {
        "name": "me",
        "description": "The signed-in person: profile, personal data export, "
        "the personal calendar feed token.",
    },
    {"name": "users", "description": "Accounts and their roles (admin)."},
    {
        "name": "teams",
        "description": "Neighbourhood-prevention teams, their area and members; "
        "coordinators manage their own team.",
    },
    {
        "name": "categories",
        "description": "The signal taxonomy with labels, sensitivity and the "
        "advice shown to the reporter.",
    },
    {
        "name": "signals",
        "description": "Reporting signals, their enforced workflow, history and "
        "feedback, scoped by need-to-know.",
    },
    {
        "name": "partners",
        "description": "Partner organisations, their accounts and system clients.",
    },
    {
        "name": "webhooks",
        "description": "Delivery to partners: webhook endpoints, the attempt "
        "log, redelivery, and the pull feed of the same events. The events themselves are under "
        "`webhooks`.",
    },
    {
        "name": "routing",
        "description": "Routing rules, a dry run that explains a decision, and "
        "the gaps no rule covers.",
    },
    {"name": "audit", "description": "Every write and every read of sensitive content (admin)."},
    {
        "name": "patrols",
        "description": "Planned rounds, sign-ups, the patrol workflow, "
        "observations, the team calendar and figures.",
    },
    {
        "name": "aeds",
        "description": "The AED registry: nearby search, checks on rounds, "
        "maintenance, import and export.",
    },
    {
        "name": "heart-safety",
        "description": "Coverage of a team's area by available AEDs and CPR-trained responders.",
    },
    {"name": "health", "description": "Liveness and readiness for the platform."},
]

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_MEDIA_TYPE = "application/problem+json"

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "required": True,
        "description": 'The record\'s version as a strong entity tag, e.g. `"3"`; send it as '
        "`If-Match` when you change the record",
        "schema": {"type": "string", "pattern": '^"[0-9]+"$', "examples": ['"3"']},
    },
    "Location": {
        "required": True,
        "description": "Where the created record is read",
        "schema": {
            "type": "string",
            "examples": ["/api/v1/signals/5d2c7f0e-8b1a-4c3d-9e2f-1a0b3c4d5e6f"],
        },
    },
    "Idempotent-Replayed": {
        "required": False,
        "description": "`true` when this answers a retry: nothing new was stored",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "required": True,
        "description": "Seconds to wait before trying again",
        "schema": {"type": "string", "pattern": "^[0-9]+$", "examples": ["60"]},
    },
    "X-Request-ID": {
        "required": True,
        "description": "The request's id (yours, if you sent a sane `X-Request-ID`); it is in "
        "our logs, so quote it when you report a problem",
        "schema": {"type": "string"},
    },
}


def sends(status: int, *headers: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entry declaring the headers a route sets on its success answer."""
    return {
        status: {"headers": {name: {"$ref": f"#/components/headers/{name}"} for name in headers}}
    }


def operation_id(route: APIRoute) -> str:
    """camelCase of the endpoint function (`report_signal` -> `reportSignal`): generators turn
    it into `report_signal` or `reportSignal` without repeating the tag."""
    head, *rest = route.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def build_document(app: FastAPI, *, extra_models: tuple[type[Any], ...] = ()) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=CONTRACT_VERSION,
        description=DESCRIPTION,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=TAGS,
        servers=SERVERS,
        license_info=LICENSE,
        separate_input_output_schemas=True,
    )
    components = schema.setdefault("components", {})
    models = components.setdefault("schemas", {})
    for model in extra_models:
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in definition.pop("$defs", {}).items():
            models.setdefault(name, nested)
        models[model.__name__] = definition
    components["headers"] = deepcopy(HEADERS)

    _rename_schemas(schema)
    _plain_optional_bodies(schema)
    _if_match_required_on_patch(schema)
    _request_body_examples(schema)
    _problem_responses(schema)
    _problem_types(schema)
    _webhook_responses(schema)
    _extend_parents(schema)
    _open_response_enums(schema)
    _no_defaults_in_schemas(schema)
    used = reachable(schema, [schema.get("paths", {}), schema.get("webhooks", {})])
    components["schemas"] = {name: models[name] for name in sorted(models) if name in used}
    return schema


# --- walking the document ------------------------------------------------------------------

HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def webhook_operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, item in document.get("webhooks", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield name, item[method]


def refs_in(node: Any) -> Iterator[str]:
    """Names of the component schemas a part of the document refers to, directly."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[1]
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs_in(value)


def reachable(document: dict[str, Any], roots: list[Any]) -> set[str]:
    """Every component schema the roots refer to, through any depth of references."""
    schemas = document["components"]["schemas"]
    seen: set[str] = set()
    todo = [name for root in roots for name in refs_in(root)]
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(refs_in(schemas[name]))
    return seen


def request_roots(document: dict[str, Any]) -> list[Any]:
    roots: list[Any] = []
    for _, _, operation in operations(document):
        roots.append(operation.get("requestBody", {}))
        roots.extend(operation.get("parameters", []))
    return roots


def response_roots(document: dict[str, Any]) -> list[Any]:
    roots: list[Any] = [op.get("responses", {}) for _, _, op in operations(document)]
    # A webhook is a request we send: its body is what a partner reads.
    roots.extend(op.get("requestBody", {}) for _, op in webhook_operations(document))
    return roots


# --- the rules -----------------------------------------------------------------------------


# Names FastAPI makes up for form bodies, as generated clients would otherwise show them.
RENAMES = {"Body_issueToken": "TokenRequest"}
TOKEN_EXAMPLES = [
    {"grant_type": "password", "username": "coordinator@example.nl", "password": "<password>"},
    {"grant_type": "client_credentials", "client_id": "<client id>", "client_secret": "<secret>"},
]


def _rename_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for old, new in RENAMES.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
        _replace_refs(document, f"#/components/schemas/{old}", f"#/components/schemas/{new}")
    schemas["TokenRequest"]["examples"] = TOKEN_EXAMPLES


def _replace_refs(node: Any, old: str, new: str) -> None:
    if isinstance(node, dict):
        if node.get("$ref") == old:
            node["$ref"] = new
        for value in node.values():
            _replace_refs(value, old, new)
    elif isinstance(node, list):
        for value in node:
            _replace_refs(value, old, new)


def _plain_optional_bodies(document: dict[str, Any]) -> None:
    """`anyOf [X, null]` makes generated Python clients send `Unset` as JSON; a body that may
    be left out is an optional request body of type X."""
    for _, _, operation in operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            schema = media["schema"]
            variants = schema.get("anyOf", [])
            refs = [v for v in variants if "$ref" in v]
            if len(variants) == 2 and len(refs) == 1 and {"type": "null"} in variants:
                media["schema"] = refs[0]
                operation["requestBody"]["required"] = False


def _if_match_required_on_patch(document: dict[str, Any]) -> None:
    """A PATCH of a versioned record answers 428 without If-Match: for clients it is required
    (the route reads it as optional only to answer that problem instead of a 422)."""
    for _, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if method == "patch" and parameter["name"] == "If-Match":
                parameter["required"] = True
                parameter["schema"] = {"type": "string", "examples": ['"3"']}


def _request_body_examples(document: dict[str, Any]) -> None:
    """The schema's first example on the request body itself, where tools show it."""
    schemas = document["components"]["schemas"]
    for _, _, operation in operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            ref = media["schema"].get("$ref", "").rsplit("/", 1)[-1]
            examples = schemas.get(ref, {}).get("examples")
            if examples and "example" not in media and "examples" not in media:
                media["example"] = examples[0]


def _problem_responses(document: dict[str, Any]) -> None:
    """A `default` problem on every operation, `X-Request-ID` on every answer, `Retry-After`
    on every 429."""
    for _, _, operation in operations(document):
        responses = operation["responses"]
        responses.setdefault(
            "default",
            {
                "description": "Any other error, e.g. 500 internal-error; always a problem",
                "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
            },
        )
        for code, response in responses.items():
            headers = response.setdefault("headers", {})
            headers["X-Request-ID"] = {"$ref": "#/components/headers/X-Request-ID"}
            if code == "429":
                headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
            response["headers"] = dict(sorted(headers.items()))


# The problem types that come with a status code, whatever the operation.
GENERIC = {
    "401": ("unauthenticated",),
    "413": ("body-too-large",),
    "422": ("validation-error",),
    "428": ("precondition-required",),
    "503": ("not-ready",),
    "default": ("internal-error",),
}
TYPE_PREFIX = "urn:buurtplus:problem:"


def _problem_types(document: dict[str, Any]) -> None:
    for _, _, operation in operations(document):
        names = set(RAISES.get(operation["operationId"], ()))
        for code in operation["responses"]:
            names.update(GENERIC.get(code, ()))
        operation["x-problem-types"] = sorted(TYPE_PREFIX + name for name in names)


def _webhook_responses(document: dict[str, Any]) -> None:
    """What a partner's endpoint answers, and how we take it."""
    for _, operation in webhook_operations(document):
        operation["responses"] = {
            "2XX": {"description": "Accepted: the event is delivered (the body is not read)"},
            "410": {"description": "Gone: the endpoint is switched off and its administrator told"},
            "default": {
                "description": "Anything else, a redirect or no answer within the timeout: "
                "retried with the same webhook-id after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and "
                "10 h (with jitter; a Retry-After is honoured), then given up (dead)"
            },
        }


# Models that extend another, published as `allOf` of the parent and what they add.
EXTENDS = {
    "SignalSubmitted": "SignalRead",
    "ReportedSignalExport": "SignalRead",
    "EndpointIssued": "EndpointRead",
}


def _extend_parents(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for child_name, parent_name in EXTENDS.items():
        child, parent = schemas[child_name], schemas[parent_name]
        own = {k: v for k, v in child["properties"].items() if k not in parent["properties"]}
        assert all(child["properties"][k] == v for k, v in parent["properties"].items()), (
            f"{child_name} changes fields of {parent_name}; it cannot extend it"
        )
        extension: dict[str, Any] = {"type": "object", "properties": own}
        required = [name for name in child.get("required", []) if name in own]
        if required:
            extension["required"] = required
        schemas[child_name] = {
            "allOf": [{"$ref": f"#/components/schemas/{parent_name}"}, extension],
            "title": child.get("title", child_name),
            **({"description": child["description"]} if "description" in child else {}),
        }


def _is_enum_schema(schema: dict[str, Any]) -> bool:
    return "enum" in schema and schema.get("type", "string") == "string"


def _open(node: Any, schemas: dict[str, Any]) -> Any:
    """The same schema with every enum opened: `anyOf [<enum>, {type: string}]`."""
    if isinstance(node, list):
        return [_open(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref", "")
    target = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref.startswith("#/components/") else {}
    if _is_enum_schema(target) or _is_enum_schema(node):
        return {"anyOf": [node, OPEN_STRING]}
    if "anyOf" in node and any(_is_open(v) for v in node["anyOf"]):
        return node
    opened = {key: _open(value, schemas) for key, value in node.items()}
    if "anyOf" in opened:
        # anyOf [anyOf [Enum, string], null] -> anyOf [Enum, string, null]
        flat: list[Any] = []
        for variant in opened["anyOf"]:
            flat.extend(variant["anyOf"] if _is_open(variant) else [variant])
        opened["anyOf"] = flat
    return opened


OPEN_STRING = {"type": "string", "description": "A value added after this version"}


def _is_open(node: Any) -> bool:
    return isinstance(node, dict) and OPEN_STRING in node.get("anyOf", [])


def _open_response_enums(document: dict[str, Any]) -> None:
    """Responses may carry enum values added later: every enum a client reads is open."""
    schemas = document["components"]["schemas"]
    read = reachable(document, response_roots(document))
    sent = reachable(document, request_roots(document))
    for name in sorted(read):
        if _is_enum_schema(schemas[name]):
            continue  # the enum itself stays closed; its uses in responses open it
        assert name not in sent or _open(schemas[name], schemas) == schemas[name], (
            f"{name} is both sent and read and holds an enum: give responses a model of their own"
        )
        schemas[name] = _open(schemas[name], schemas)


def _no_defaults_in_schemas(document: dict[str, Any]) -> None:
    """A property with a JSON Schema `default` is made required by openapi-typescript (its
    default settings): the server applies defaults, the description tells them."""
    for schema in document["components"]["schemas"].values():
        for prop in schema.get("properties", {}).values():
            if "default" not in prop:
                continue
            default = prop.pop("default")
            if default is not None and default != [] and default != "":
                shown = str(default).lower() if isinstance(default, bool) else default
                note = f"Default: `{shown}`."
                prop["description"] = (
                    f"{prop['description']} {note}" if prop.get("description") else note
                )
