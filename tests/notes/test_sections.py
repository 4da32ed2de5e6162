"""The `sections` and `label-sections` settings: order, titles, hidden types, shared sections,
`*`, pull-request labels, and the refusals of bad entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.commits import Change
from release.config import load_settings
from release.contributors import Person
from release.errors import BadInput
from release.render import Renderer


def change(kind: str, subject: str, pr: int | None = None, breaking: bool = False,
           conventional: bool = True) -> Change:
    return Change("f" * 40, kind, None, subject, breaking=breaking,
                  breaking_text=subject if breaking else None, pr=pr, conventional=conventional)


CHANGES = [change("feat", "f1", pr=1), change("fix", "x1", pr=2), change("chore", "c1"),
           change("deps", "d1"), change("style", "s1"), change("Update", "o1", conventional=False),
           change("feat", "b1", breaking=True), change("exp", "e1")]


class Labels:
    def __init__(self, labels: dict[int, tuple[str, ...]]) -> None:
        self.asked: list[int] = []
        self._labels = labels

    def login(self, person: Person) -> str | None:
        return None

    def labels(self, pr: int) -> tuple[str, ...]:
        self.asked.append(pr)
        return self._labels.get(pr, ())


def titles(tmp_path: Path, sections: list[str] | str, **more: object) -> list[tuple[str, list[str]]]:
    s = load_settings(tmp_path, {"sections": sections, **more}, environ={})  # type: ignore[dict-item]
    return [(sec.title, [e.subject for e in sec.entries])
            for sec in Renderer(s).sections(CHANGES)]


def test_default_order(tmp_path: Path) -> None:
    assert [t for t, _ in titles(tmp_path, load_settings(tmp_path, environ={})["sections"])] == [
        "Breaking changes", "Features", "Bug fixes", "Style", "Chores", "Deps", "Exp", "Other"]


def test_titles_order_hidden_and_shared(tmp_path: Path) -> None:
    got = titles(tmp_path, ["breaking: ⚠ Breaking", "fix: Fixes", "feat+style: New and shiny",
                            "*: Everything else"])
    assert got == [("⚠ Breaking", ["b1"]), ("Fixes", ["x1"]), ("New and shiny", ["f1", "s1", "b1"]),
                   ("Everything else", ["c1", "d1", "e1"])]  # "other" not listed: hidden


def test_star_in_the_middle_and_env_style_list(tmp_path: Path) -> None:
    got = titles(tmp_path, "feat: Features,*,other: Misc,chore: Housekeeping")
    assert [t for t, _ in got] == ["Breaking changes", "Features", "Deps", "Exp", "Fix", "Style",
                                   "Misc", "Housekeeping"]


def test_label_sections_move_pull_requests(tmp_path: Path) -> None:
    s = load_settings(tmp_path, {"label-sections": "security: fix,kind: docs: docs"}, environ={})
    lookup = Labels({1: ("security", "enhancement")})
    secs = Renderer(s, lookup).sections(CHANGES)
    assert [e.subject for e in next(x for x in secs if x.key == "fix").entries] == ["f1", "x1"]
    assert lookup.asked == [1, 2]  # only changes with a pull request number
    no_labels = Labels({1: ("security",)})
    Renderer(load_settings(tmp_path, environ={}), no_labels).sections(CHANGES)
    assert no_labels.asked == []  # nothing mapped: no label is read


@pytest.mark.parametrize(("values", "message"), [
    ({"sections": "feat: Features,fix: Bug: fixes?,feat: Again"}, "lists feat twice"),
    ({"sections": "Feat: Features"}, "is not 'type: Title'"),
    ({"sections": "feat: " + "x" * 81}, "is not 'type: Title'"),
    ({"sections": "feat: F,breaking: B"}, "breaking must be first"),
    ({"sections": ",".join(f"t{i}" for i in range(65))}, "keep at most 64"),
    ({"label-sections": "security"}, "is not 'label: section'"),
    ({"label-sections": "security: nope"}, "does not list"),
    ({"label-sections": "security: *"}, "does not list"),
])
def test_bad_entries_are_refused(tmp_path: Path, values: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        load_settings(tmp_path, values, environ={})
