"""Small charts written into tmp dirs for packaging tests."""

from __future__ import annotations

DEMO = {
    "chart/Chart.yaml": "# demo chart\napiVersion: v2\nname: demo\ndescription: A demo\n"
                        "version: 0.1.0\nappVersion: \"0.1.0\"\n"
                        "dependencies:\n  - name: sub\n    version: 0.2.0\n",
    "chart/values.yaml": "replicas: 1\nimage: {repository: demo, tag: \"\"}\n",
    "chart/values.schema.json": '{"$schema": "https://json-schema.org/draft-07/schema#", "type": "object"}\n',
    "chart/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\n"
        "data:\n  version: {{ .Chart.Version | quote }}\n  app: {{ .Chart.AppVersion | quote }}\n"
    ),
    "chart/templates/_helpers.tpl": "{{- define \"demo.name\" -}}demo{{- end -}}\n",
    "chart/templates/NOTES.txt": "Installed {{ .Chart.Name }}.\n",
    "chart/crds/demo.example.io.yaml": (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  name: demos.example.io\nspec:\n  group: example.io\n  names: {kind: Demo, plural: demos}\n"
        "  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n"
        "    schema:\n      openAPIV3Schema: {type: object}\n"
    ),
    "chart/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.2.0\n",
    "chart/charts/sub/values.yaml": "enabled: true\n",
    "chart/charts/sub/templates/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sub\n",
    "chart/README.md": "# demo\n",
    "chart/.helmignore": "# editor files\n*.swp\n*.bak\n.git/\nci/\n",
    "chart/ci/test-values.yaml": "replicas: 2\n",
    "chart/templates/.hidden.yaml": "not: a template\n",
    "chart/notes.bak": "ignored\n",
}
