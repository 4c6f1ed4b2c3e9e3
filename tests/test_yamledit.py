"""Editing YAML text in place: only the target value changes, every other byte is kept."""

from __future__ import annotations

import random
import textwrap

import pytest
import yaml

from gitops.deploy.yamledit import Select, parse_path, scalar_text, set_values
from gitops.yamlfile import YamlFileError

ISVC = textwrap.dedent(
    """\
    ---
    # InferenceService for the churn model.  Argo CD syncs this file;
    # gitops updates storageUri when a version reaches prod.
    apiVersion: "serving.kserve.io/v1beta1"
    kind:   InferenceService
    metadata:
      name: churn          # keep in sync with the registry
      annotations:
        serving.kserve.io/deploymentMode: 'RawDeployment'

    spec:
      predictor:
        minReplicas: 2
        model:
          modelFormat: { name: sklearn, version: "1" }
          # where the model lives:
          storageUri: 's3://models/churn/v1.0.0'   # set by gitops
          resources:
            limits: {cpu: "1", memory: 2Gi}
        containers:
          - name: kserve-container
            image: "kserve/sklearnserver:v0.11.0"
          - name: sidecar
            image: busybox
    ...
    """
)


def test_kserve_storage_uri_changes_and_nothing_else() -> None:
    result = set_values(
        ISVC, {"spec.predictor.model.storageUri": "s3://models/churn/v1.2.0"}, file="isvc.yaml"
    )
    want = ISVC.replace("'s3://models/churn/v1.0.0'", "'s3://models/churn/v1.2.0'")
    assert result.text == want
    assert result.changed
    [change] = result.changes
    assert (change.old, change.new, change.line) == (
        "s3://models/churn/v1.0.0",
        "s3://models/churn/v1.2.0",
        17,
    )


def test_list_items_by_index_and_by_selector() -> None:
    result = set_values(
        ISVC,
        {
            "spec.predictor.containers[name=kserve-container].image": "kserve/sklearnserver:v0.12",
            "spec.predictor.containers.1.image": "busybox:1.36",
        },
    )
    want = ISVC.replace('"kserve/sklearnserver:v0.11.0"', '"kserve/sklearnserver:v0.12"')
    want = want.replace("image: busybox\n", "image: busybox:1.36\n")
    assert result.text == want


def test_quoted_key_with_dots_and_flow_mappings() -> None:
    result = set_values(
        ISVC,
        {
            'metadata.annotations."serving.kserve.io/deploymentMode"': "Serverless",
            "spec.predictor.model.modelFormat.version": "2",
            "spec.predictor.model.resources.limits.memory": "4Gi",
        },
    )
    want = ISVC.replace("'RawDeployment'", "'Serverless'")
    want = want.replace('version: "1" }', 'version: "2" }').replace("2Gi}", "4Gi}")
    assert result.text == want


def test_unchanged_value_is_not_a_change() -> None:
    result = set_values(ISVC, {"spec.predictor.model.storageUri": "s3://models/churn/v1.0.0"})
    assert not result.changed and result.text is ISVC


def test_a_typed_value_equal_as_text_is_rewritten_as_a_string() -> None:
    result = set_values("replicas: 2\ntag: '2'\n", {"replicas": "2", "tag": "2"})
    assert result.text == "replicas: \"2\"\ntag: '2'\n"
    assert [c.path for c in result.changes] == ["replicas"]


HELM = textwrap.dedent(
    """\
    # Default values for churn-serving.
    replicaCount: 1

    image:
      repository: ghcr.io/acme/churn-serving
      # Overrides the image tag whose default is the chart appVersion.
      tag: ""
      pullPolicy: IfNotPresent

    model:
      uri: gs://acme-models/churn/v1.0.0
      # version: set by gitops

    podAnnotations: {}
    env:
    """
)


def test_helm_values_set_and_create() -> None:
    result = set_values(
        HELM,
        {"image.tag": "v1.2.0", "model.version": "v1.2.0", "env.MODEL_VERSION": "v1.2.0"},
        create=True,
    )
    want = HELM.replace('tag: ""', 'tag: "v1.2.0"')
    want = want.replace(
        "  uri: gs://acme-models/churn/v1.0.0\n",
        "  uri: gs://acme-models/churn/v1.0.0\n  version: v1.2.0\n",
    )
    want = want.replace("env:\n", "env:\n  MODEL_VERSION: v1.2.0\n")
    assert result.text == want
    assert [c.old for c in result.changes] == ["", None, None]
    assert yaml.safe_load(result.text)["model"] == {
        "uri": "gs://acme-models/churn/v1.0.0",
        "version": "v1.2.0",
    }


def test_helm_nested_keys_created_at_the_end_of_the_file() -> None:
    result = set_values("a: 1\nb:\n  c: 2", {"b.d.e": "x"}, create=True)
    assert result.text == "a: 1\nb:\n  c: 2\n  d:\n    e: x\n"


def test_missing_key_is_an_error_with_the_line_unless_created() -> None:
    with pytest.raises(YamlFileError) as caught:
        set_values(HELM, {"image.tags": "v1"}, file="values.yaml")
    assert (caught.value.file, caught.value.line) == ("values.yaml", 4)
    assert "image has no 'tags'" in str(caught.value) and "create: true" in str(caught.value)
    with pytest.raises(YamlFileError) as caught:
        set_values(HELM, {"podAnnotations.x": "y"}, create=True)
    assert caught.value.line == 14 and "cannot add" in str(caught.value)


@pytest.mark.parametrize(
    "path, line, words",
    [
        ("spec.predictor.containers.5.image", 20, "has 2 item(s), no 5"),
        ("spec.predictor.containers[name=nope].image", 20, "no item"),
        ("spec.predictor.model", 14, "is a mapping, not a single value"),
        ("spec.predictor.containers", 20, "is a list"),
        ("kind.x", 5, "is a single value"),
        ("spec.predictor.containers.image", 20, "is a list, not a mapping"),
    ],
)
def test_bad_targets_name_file_and_line(path: str, line: int, words: str) -> None:
    with pytest.raises(YamlFileError) as caught:
        set_values(ISVC, {path: "x"}, file="isvc.yaml")
    assert caught.value.line == line, str(caught.value)
    assert words in str(caught.value)


KUSTOMIZATION = textwrap.dedent(
    """\
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources:
      - deployment.yaml   # the serving deployment
    images:
      - name: ghcr.io/acme/churn-serving
        newTag: v1.0.0
      - name: ghcr.io/acme/feature-store
        newTag: "2024.01"
    """
)


def test_kustomize_new_tag() -> None:
    path = "images[name=ghcr.io/acme/churn-serving].newTag"
    result = set_values(KUSTOMIZATION, {path: "v1.2.0"})
    assert result.text == KUSTOMIZATION.replace("newTag: v1.0.0", "newTag: v1.2.0")
    result = set_values(KUSTOMIZATION, {"images[name=ghcr.io/acme/feature-store].newTag": "2025"})
    assert result.text == KUSTOMIZATION.replace('"2024.01"', '"2025"')


MULTI = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Service
    metadata: {name: churn}
    spec:
      image: not-this-one
    ---
    # the model server
    apiVersion: serving.kserve.io/v1beta1
    kind: InferenceService
    metadata:
      name: churn
    spec:
      image: old
    """
)


def test_multi_document_by_index_and_by_kind_and_name() -> None:
    want = MULTI.replace("image: old", "image: new")
    assert set_values(MULTI, {"spec.image": "new"}, document=1).text == want
    assert set_values(MULTI, {"spec.image": "new"}, document="InferenceService/churn").text == want
    assert set_values(MULTI, {"spec.image": "new"}, document="InferenceService").text == want
    first = set_values(MULTI, {"spec.image": "new"}).text
    assert first == MULTI.replace("image: not-this-one", "image: new")
    with pytest.raises(YamlFileError, match="no index 2"):
        set_values(MULTI, {"spec.image": "new"}, document=2)
    with pytest.raises(YamlFileError, match="no document with kind/name 'Deployment/churn'"):
        set_values(MULTI, {"spec.image": "new"}, document="Deployment/churn")


def test_block_scalar_as_the_old_value_keeps_what_follows() -> None:
    text = "a:\n  note: |\n    line one\n    line two\n\n  # next\n  b: 1\n"
    result = set_values(text, {"a.note": "short"})
    assert result.text == "a:\n  note: short\n\n  # next\n  b: 1\n"


def test_empty_value_multiline_plain_and_tagged_scalars() -> None:
    text = "a:   # empty for now\nb: first\n  second\nc: !!str 7\n"
    result = set_values(text, {"a": "x", "b": "yy", "c": "8"})
    assert result.text == 'a: x   # empty for now\nb: yy\nc: !!str "8"\n'


def test_crlf_and_bom_are_kept() -> None:
    text = "\ufeff# c\r\nimage:\r\n  tag: v1\r\n"
    result = set_values(text, {"image.tag": "v2", "image.digest": "sha256:abc"}, create=True)
    assert result.text == "\ufeff# c\r\nimage:\r\n  tag: v2\r\n  digest: sha256:abc\r\n"


def test_aliases_and_anchors_are_refused() -> None:
    text = "base: &b v1\ncopy: *b\n"
    with pytest.raises(YamlFileError, match="alias"):
        set_values(text, {"copy": "v2"})
    with pytest.raises(YamlFileError, match="anchor"):
        set_values(text, {"base": "v2"})


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(YamlFileError) as caught:
        set_values("a: 1\nb: [unclosed\n", {"a": "2"}, file="bad.yaml")
    assert caught.value.file == "bad.yaml" and caught.value.line == 3


DANGEROUS = [
    "a\nb: injected",
    "x # not a comment",
    "- item",
    "*alias",
    "&anchor",
    "!tag",
    "",
    " leading space",
    "trailing space ",
    "key: value",
    "{a: 1}",
    "[1, 2]",
    "'single'",
    '"double"',
    "yes",
    "Off",
    "null",
    "~",
    "y",
    "0o17",
    "1e3",
    "0x1F",
    "012",
    "1.0",
    ".inf",
    "2024-01-01",
    "1:20",
    "<<",
    "%TAG",
    "@at",
    "`tick",
    "a,b",
    "?",
    ":",
    "-",
    "back\\slash",
    "tab\there",
    "\r\n",
    "line\u2028sep",
    "\x85next",
    "\x7fdel",
    "\ufeffbom",
    "\x00nul",
    "é ü 😀",
    "---",
    "...",
    "s3://bucket/path:with:colons",
    "v1.2.0+build.7",
]
CONTEXTS = {
    "plain": ("k: old\nz: 1\n", "k"),
    "single": ("k: 'old'\nz: 1\n", "k"),
    "double": ('k: "old"\nz: 1\n', "k"),
    "flow map": ("m: {k: old, z: 1}\n", "m.k"),
    "flow list": ("l: [old, 1]\n", "l.0"),
    "block list": ("l:\n  - old\n  - 1\n", "l.0"),
    "block scalar": ("k: |\n  old\nz: 1\n", "k"),
}


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("value", DANGEROUS, ids=repr)
def test_dangerous_values_round_trip_and_add_no_structure(value: str, context: str) -> None:
    text, path = CONTEXTS[context]
    result = set_values(text, {path: value})
    data, before = yaml.safe_load(result.text), yaml.safe_load(text)
    steps = parse_path(path)
    node = data
    for step in steps[:-1]:
        node, before = node[step], before[step]
    last = int(steps[-1]) if isinstance(node, list) else steps[-1]
    assert node[last] == value
    before[last] = value  # everything else is as it was
    assert node == before
    if "\n" not in value:
        assert len(result.text.splitlines()) <= len(text.splitlines())


def test_random_values_round_trip() -> None:
    rng = random.Random(5)
    alphabet = "ab01 :#-,[]{}&*!|>'\"%@`?\\/\t\n.~=+é\u2028\x85"
    for _ in range(120):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        for text, path in CONTEXTS.values():
            result = set_values(text, {path: value})
            loaded = yaml.safe_load(result.text)
            got = loaded["k"] if path == "k" else loaded["m"]["k"] if path == "m.k" else None
            got = loaded["l"][0] if path == "l.0" else got
            assert got == value, (value, result.text)


def test_plain_only_when_unambiguous() -> None:
    assert scalar_text("s3://models/churn/v1.2.0") == "s3://models/churn/v1.2.0"
    assert scalar_text("v1.2.0") == "v1.2.0"
    assert scalar_text("1.2.0") == "1.2.0"
    assert scalar_text("1.2") == '"1.2"'
    assert scalar_text("true") == '"true"'
    assert scalar_text("s3://x", in_flow=True) == '"s3://x"'
    assert scalar_text("it's", "'") == "'it''s'"
    assert scalar_text("a\nb", "'") == '"a\\nb"'


def test_paths() -> None:
    assert parse_path("spec.predictor.model.storageUri") == (
        "spec",
        "predictor",
        "model",
        "storageUri",
    )
    assert parse_path("a[0].b.1") == ("a", 0, "b", "1")
    assert parse_path('x."a.b/c".y') == ("x", "a.b/c", "y")
    assert parse_path("images[name=ghcr.io/a/b].newTag") == (
        "images",
        Select("name", "ghcr.io/a/b"),
        "newTag",
    )
    for bad in ("", "a..b", ".a", "a.", "a[", "a[x]", 'a."b'):
        with pytest.raises(ValueError, match="bad path"):
            parse_path(bad)
