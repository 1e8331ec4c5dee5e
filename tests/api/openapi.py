"""Validate real responses against the generated OpenAPI document."""

from functools import cache

import jsonschema
from drf_spectacular.generators import SchemaGenerator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SPEC_URI = "urn:incidentops-openapi"


def _as_json_schema(node):
    """OpenAPI 3.0's ``nullable`` is not JSON Schema: turn it into anyOf null."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(
        _as_json_schema(openapi()), default_specification=DRAFT7
    )
    return Registry().with_resource(SPEC_URI, resource)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def assert_conforms(response, path: str, method: str) -> None:
    """The response's JSON body matches what the schema promises for ``path``
    (the template, e.g. ``/api/v1/incidents/{id}/``), ``method`` and its status."""
    operation = openapi()["paths"][path][method.lower()]
    code = str(response.status_code)
    assert code in operation["responses"], f"{code} undocumented for {method} {path}"
    pointer = "/".join(
        _escape(part)
        for part in (
            "paths",
            path,
            method.lower(),
            "responses",
            code,
            "content",
            "application/json",
            "schema",
        )
    )
    validator = jsonschema.Draft7Validator(
        {"$ref": f"{SPEC_URI}#/{pointer}"}, registry=_registry()
    )
    validator.validate(response.json())
