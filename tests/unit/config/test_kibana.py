"""The shipped Kibana saved objects are importable and point at fields the template maps."""

import json

from pipeline.index.documents import ClusterFeatures, index_template
from pipeline.settings import CONFIG_DIR, ElasticsearchSettings

OBJECTS = CONFIG_DIR / "kibana" / "newsflow-saved-objects.ndjson"


def _objects() -> list[dict]:
    return [json.loads(line) for line in OBJECTS.read_text(encoding="utf-8").splitlines() if line]


def _mapped_fields() -> set[str]:
    props = index_template(ElasticsearchSettings(), ClusterFeatures(False, False))[
        "template"]["mappings"]["properties"]  # type: ignore[index]
    names: set[str] = set()

    def walk(prefix: str, tree: dict) -> None:
        for name, spec in tree.items():
            names.add(prefix + name)
            walk(prefix + name + ".", spec.get("properties", {}))
            walk(prefix + name + ".", spec.get("fields", {}))
    walk("", props)
    return names


def test_every_reference_resolves_inside_the_file() -> None:
    objects = _objects()
    ids = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, f"{obj['id']} -> {ref}"


def test_data_view_targets_the_alias_and_a_mapped_time_field() -> None:
    (view,) = [o for o in _objects() if o["type"] == "index-pattern"]
    assert view["attributes"]["title"] == ElasticsearchSettings().index_alias
    assert view["attributes"]["timeFieldName"] in _mapped_fields()


def test_columns_and_aggregation_fields_are_mapped() -> None:
    fields = _mapped_fields()
    for obj in _objects():
        attrs = obj["attributes"]
        for column in attrs.get("columns", []):
            assert column in fields, column
        if "visState" in attrs:
            for agg in json.loads(attrs["visState"])["aggs"]:
                if "field" in agg["params"]:
                    assert agg["params"]["field"] in fields
