"""``dossier corpus -o DIR`` into a folder that already holds something.

An older corpus's files must not stay behind (``dossier check DIR`` reads every .xml
below the folder), yet nothing the corpus does not own may be deleted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.dossiers import corpus as corpus_module
from harness.dossiers.corpus import CorpusEntry, write_corpus
from harness.errors import ConfigError


def _entries(*names: str) -> list[CorpusEntry]:
    return [CorpusEntry(n, n.split("/")[0], None, (), f"<{n}/>".encode()) for n in names]


def _xml(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.xml")}


def _listed(folder: Path) -> set[str]:
    rows = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {row["file"] for row in rows}


def test_a_rewrite_removes_the_old_corpus_files_and_keeps_everything_else(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    write_corpus(_entries("600/valid-0000", "600/valid-0001", "601/valid-0000"), folder)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    (folder / "600" / "hand-made.xml").write_text("<mine/>", encoding="utf-8")

    write_corpus(_entries("600/valid-0000", "604/valid-0000"), folder)

    assert _xml(folder) == {"600/valid-0000.xml", "604/valid-0000.xml", "600/hand-made.xml"}
    assert _listed(folder) == {"600/valid-0000.xml", "604/valid-0000.xml"}
    assert not (folder / "601").exists()  # emptied by the rewrite, so removed
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (folder / "manifest.json.partial").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", "a user's file"),
        ("manifest.json", '{"recipe_sha256": "a PKI folder, not a corpus"}'),
        ("manifest.json", "not JSON"),
    ],
)
def test_a_folder_that_holds_no_corpus_is_refused(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="new or empty folder"):
        write_corpus(_entries("600/valid-0000"), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_text(encoding="utf-8") == content


def test_an_empty_folder_or_one_with_only_hidden_files_is_fine(tmp_path: Path) -> None:
    (tmp_path / ".gitkeep").touch()
    write_corpus(_entries("600/valid-0000"), tmp_path)
    assert _xml(tmp_path) == {"600/valid-0000.xml"} and (tmp_path / ".gitkeep").exists()


def test_a_manifest_cannot_lead_the_rewrite_outside_the_folder(tmp_path: Path) -> None:
    folder, outside = tmp_path / "corpus", tmp_path / "outside"
    write_corpus(_entries("600/valid-0000"), folder)
    outside.mkdir()
    (outside / "x.xml").write_text("<keep/>", encoding="utf-8")
    (folder / "link").symlink_to(outside, target_is_directory=True)
    rows = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    rows += [{"file": f} for f in ("../outside/x.xml", str(outside / "x.xml"), "link/x.xml")]
    (folder / "manifest.json").write_text(json.dumps(rows), encoding="utf-8")

    write_corpus(_entries("601/valid-0000"), folder)

    assert (outside / "x.xml").read_text(encoding="utf-8") == "<keep/>"
    assert _listed(folder) == {"601/valid-0000.xml"}


def test_a_rewrite_stopped_halfway_leaves_the_old_files_owned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after writing the new files, before removing the old ones: the manifest
    still names both, so the next rewrite removes the old ones."""
    write_corpus(_entries("600/valid-0000", "601/valid-0000"), tmp_path)

    def stop(_directory: Path, _names: list[str]) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(corpus_module, "_remove", stop)
        with pytest.raises(KeyboardInterrupt):
            write_corpus(_entries("604/valid-0000"), tmp_path)
    assert _listed(tmp_path) == {"600/valid-0000.xml", "601/valid-0000.xml", "604/valid-0000.xml"}

    write_corpus(_entries("604/valid-0000"), tmp_path)
    assert _xml(tmp_path) == {"604/valid-0000.xml"} == _listed(tmp_path)
