"""Which changes between two versions of the contract break clients, and whether the version
says so (semantic versioning: a breaking change raises the major version, any change at least
the minor one).

Breaking, for a client built on the old contract: a removed path, operation or field; a
renamed operation id; a new required parameter, body or request field; a changed type; a type
no longer accepted in a request (an enum value or null); a response field that may now be
missing or null; a response value of a type the client does not know. Enums in responses are
open (`anyOf [Enum, string]`): new values there are not breaking, and neither is a new event
type in a discriminated union (readers skip or filter types they do not know).
"""

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["request", "response"]
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")


@dataclass(frozen=True, order=True)
class Break:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def semver(version: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", version)
    if not match:
        raise ValueError(f"info.version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def version_problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What is wrong with the new document's version, given the old document; [] when fine."""
    old_version, new_version = semver(old["info"]["version"]), semver(new["info"]["version"])
    breaks = breaking_changes(old, new)
    if breaks and new_version[0] <= old_version[0]:
        listed = "\n".join(f"  - {b}" for b in breaks)
        return [
            f"breaking changes need a new major version (now {new['info']['version']}, "
            f"was {old['info']['version']}):\n{listed}"
        ]
    if _without_version(old) != _without_version(new) and new_version <= old_version:
        return [
            f"the contract changed but info.version did not go up from {old['info']['version']}"
        ]
    return []


def _without_version(document: dict[str, Any]) -> str:
    copy = json.loads(json.dumps(document))
    copy["info"].pop("version", None)
    return json.dumps(copy, sort_keys=True)


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Break]:
    checker = _Checker(old, new)
    for path, old_item in old.get("paths", {}).items():
        new_item = new.get("paths", {}).get(path)
        if new_item is None:
            checker.add(path, "path removed")
            continue
        for method in HTTP_METHODS:
            if method in old_item:
                where = f"{method.upper()} {path}"
                if method not in new_item:
                    checker.add(where, "operation removed")
                else:
                    checker.operation(where, old_item[method], new_item[method])
    for name, old_item in old.get("webhooks", {}).items():
        new_item = new.get("webhooks", {}).get(name)
        for method in HTTP_METHODS:
            if method not in old_item:
                continue
            where = f"webhook {name}"
            if new_item is None or method not in new_item:
                checker.add(where, "webhook removed")
                continue
            # A webhook body is what the partner reads: the response direction.
            checker.body(where, old_item[method], new_item[method], "response")
    return sorted(set(checker.breaks))


class _Checker:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.breaks: list[Break] = []
        self._seen: set[tuple[str, str, Direction]] = set()

    def add(self, where: str, what: str) -> None:
        self.breaks.append(Break(where, what))

    # --- operations ------------------------------------------------------------------------

    def operation(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old.get("operationId") != new.get("operationId"):
            self.add(where, f"operationId {old.get('operationId')} became {new.get('operationId')}")
        old_params = {(p["in"], p["name"].lower()): p for p in self._params(self.old, old)}
        new_params = {(p["in"], p["name"].lower()): p for p in self._params(self.new, new)}
        for key, param in new_params.items():
            label = f"{where} {key[0]} parameter {param['name']}"
            previous = old_params.get(key)
            if previous is None:
                if param.get("required"):
                    self.add(label, "new required parameter")
                continue
            if param.get("required") and not previous.get("required"):
                self.add(label, "parameter became required")
            self.schema(label, previous.get("schema", {}), param.get("schema", {}), "request")
        for key, param in old_params.items():
            if key not in new_params:
                self.add(f"{where} {key[0]} parameter {param['name']}", "parameter removed")
        self.body(where, old, new, "request")
        old_ok = {c: r for c, r in old.get("responses", {}).items() if c.startswith("2")}
        new_ok = {c: r for c, r in new.get("responses", {}).items() if c.startswith("2")}
        for code, response in old_ok.items():
            if code not in new_ok:
                self.add(f"{where} response {code}", "success response removed")
                continue
            for media, content in response.get("content", {}).items():
                new_content = new_ok[code].get("content", {}).get(media)
                if new_content is None:
                    self.add(f"{where} response {code} {media}", "media type removed")
                else:
                    self.schema(
                        f"{where} response {code}",
                        content.get("schema", {}),
                        new_content.get("schema", {}),
                        "response",
                    )

    def _params(self, document: dict[str, Any], operation: dict[str, Any]) -> list[Any]:
        return [_resolve(document, p) for p in operation.get("parameters", [])]

    def body(
        self, where: str, old: dict[str, Any], new: dict[str, Any], direction: Direction
    ) -> None:
        old_body = _resolve(self.old, old.get("requestBody", {}))
        new_body = _resolve(self.new, new.get("requestBody", {}))
        if not new_body:
            if old_body:
                self.add(where, "request body removed")
            return
        if new_body.get("required") and not (old_body and old_body.get("required")):
            self.add(where, "request body became required")
        for media, content in (old_body or {}).get("content", {}).items():
            new_content = new_body.get("content", {}).get(media)
            if new_content is None:
                self.add(f"{where} body {media}", "media type removed")
            else:
                self.schema(
                    f"{where} body",
                    content.get("schema", {}),
                    new_content.get("schema", {}),
                    direction,
                )

    # --- schemas ---------------------------------------------------------------------------

    def schema(self, where: str, old: Any, new: Any, direction: Direction) -> None:
        if _ref_name(old) and _ref_name(new):
            # A shared schema is compared once (also what keeps a recursive schema finite).
            memo = (old["$ref"], new["$ref"], direction)
            if memo in self._seen:
                return
            self._seen.add(memo)
        old_s, new_s = _resolve(self.old, old), _resolve(self.new, new)
        old_variants, new_variants = _variants(self.old, old_s), _variants(self.new, new_s)
        old_null = any(_is_null(v) for v in old_variants)
        new_null = any(_is_null(v) for v in new_variants)
        if direction == "request" and old_null and not new_null:
            self.add(where, "null no longer accepted")
        if direction == "response" and new_null and not old_null:
            self.add(where, "may now be null")
        old_kinds = [v for v in old_variants if not _is_null(v)]
        new_kinds = [v for v in new_variants if not _is_null(v)]
        old_open, new_open = _is_open(old_kinds), _is_open(new_kinds)
        old_kinds = [v for v in old_kinds if not _is_plain_string(v)] if old_open else old_kinds
        new_kinds = [v for v in new_kinds if not _is_plain_string(v)] if new_open else new_kinds
        if direction == "response" and old_open and not new_open:
            self.add(where, "an open enum was closed")
        if len(old_kinds) == 1 and len(new_kinds) == 1:
            self._single(where, old_kinds[0], new_kinds[0], direction, new_open)
            return
        # Unions: each member the client sends (request) or reads (response) must still match.
        if direction == "request":
            for variant in old_kinds:
                if not any(_same_kind(variant, n) for n in new_kinds):
                    self.add(where, f"a {_describe(variant)} is no longer accepted")
        elif not _discriminated(old_s) or not _discriminated(new_s):
            for variant in new_kinds:
                if not any(_same_kind(o, variant) for o in old_kinds):
                    self.add(where, f"may now be a {_describe(variant)}")
        for old_variant in old_kinds:
            for new_variant in new_kinds:
                if _ref_name(old_variant) and _ref_name(old_variant) == _ref_name(new_variant):
                    self.schema(where, old_variant, new_variant, direction)

    def _single(
        self,
        where: str,
        old: dict[str, Any],
        new: dict[str, Any],
        direction: Direction,
        new_open: bool,
    ) -> None:
        old = _merged(self.old, _resolve(self.old, old))
        new = _merged(self.new, _resolve(self.new, new))
        old_types, new_types = _types(old), _types(new)
        if old_types and new_types and old_types != new_types:
            lost = old_types - new_types if direction == "request" else new_types - old_types
            widened = {"number"} >= lost and "integer" in old_types and "number" in new_types
            if lost and not (direction == "request" and widened):
                self.add(where, f"type {sorted(old_types)} became {sorted(new_types)}")
                return
        old_enum, new_enum = _enum(old), _enum(new)
        if direction == "request" and new_enum is not None:
            removed = (old_enum or set()) - new_enum if old_enum is not None else None
            if removed is None:
                self.add(where, "enum narrowed: only some values are accepted now")
            elif removed:
                self.add(where, f"enum narrowed: {sorted(removed)} no longer accepted")
        if direction == "response" and new_enum is not None and not new_open:
            added = new_enum - (old_enum if old_enum is not None else new_enum)
            if added:
                self.add(where, f"closed enum gained {sorted(added)}")
        if "object" in (old_types | new_types) or "properties" in old or "properties" in new:
            self._object(where, old, new, direction)
        if "items" in old and "items" in new:
            self.schema(f"{where}[]", old["items"], new["items"], direction)

    def _object(
        self, where: str, old: dict[str, Any], new: dict[str, Any], direction: Direction
    ) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        if direction == "request":
            for name in sorted(new_req - old_req):
                self.add(f"{where}.{name}", "new required request field")
            for name in sorted(set(old_props) - set(new_props)):
                self.add(f"{where}.{name}", "request field removed")
        else:
            for name in sorted(set(old_props) - set(new_props)):
                self.add(f"{where}.{name}", "response field removed")
            for name in sorted((old_req - new_req) & set(new_props)):
                self.add(f"{where}.{name}", "response field may now be missing")
        for name in sorted(set(old_props) & set(new_props)):
            self.schema(f"{where}.{name}", old_props[name], new_props[name], direction)


def _resolve(document: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 50:
        parts = node["$ref"].removeprefix("#/").split("/")
        target: Any = document
        for part in parts:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
        seen += 1
    return node


def _ref_name(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, dict) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _variants(document: dict[str, Any], node: Any) -> list[Any]:
    if not isinstance(node, dict):
        return [node]
    for key in ("anyOf", "oneOf"):
        if key in node:
            found: list[Any] = []
            for variant in node[key]:
                resolved = _resolve(document, variant)
                if isinstance(resolved, dict) and ("anyOf" in resolved or "oneOf" in resolved):
                    found.extend(_variants(document, resolved))
                else:
                    found.append(variant)
            return found
    types = node.get("type")
    if isinstance(types, list) and "null" in types and len(types) > 1:
        rest = [t for t in types if t != "null"]
        return [{**node, "type": rest[0] if len(rest) == 1 else rest}, {"type": "null"}]
    return [node]


def _is_null(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") == "null" and len(node) <= 2


def _is_plain_string(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and node.get("type") == "string"
        and not ({"enum", "const", "format", "pattern"} & node.keys())
    )


def _is_open(kinds: list[Any]) -> bool:
    return len(kinds) == 2 and any(_is_plain_string(k) for k in kinds)


def _discriminated(node: Any) -> bool:
    return isinstance(node, dict) and "discriminator" in node


def _merged(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """An allOf folded into one object schema (properties and required of every part)."""
    if "allOf" not in node:
        return node
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    for part in node["allOf"]:
        part = _merged(document, _resolve(document, part))
        merged.setdefault("type", part.get("type"))
        merged["properties"] = {**part.get("properties", {}), **merged.get("properties", {})}
        merged["required"] = sorted(set(merged.get("required", [])) | set(part.get("required", [])))
    return merged


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return set(kind)
    if "const" in node:
        return {type(node["const"]).__name__.replace("str", "string")}
    if "properties" in node:
        return {"object"}
    return set()


def _enum(node: dict[str, Any]) -> set[Any] | None:
    if "enum" in node:
        return set(map(json.dumps, node["enum"]))
    if "const" in node:
        return {json.dumps(node["const"])}
    return None


def _same_kind(old: Any, new: Any) -> bool:
    if _ref_name(old) or _ref_name(new):
        return _ref_name(old) == _ref_name(new)
    return isinstance(old, dict) and isinstance(new, dict) and _types(old) == _types(new)


def _describe(node: Any) -> str:
    return _ref_name(node) or "/".join(sorted(_types(node))) or "value"
