"""``make plateau`` doubles every ``*EPOCHS`` parameter; a chapter that trains nothing is skipped."""

import importlib.util
from pathlib import Path

import nbformat

spec = importlib.util.spec_from_file_location("plateau", Path(__file__).parents[2] / "bench" / "plateau.py")
plateau = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plateau)


def test_a_chapter_without_epochs_is_skipped_without_running(tmp_path, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("a chapter that trains nothing was executed")

    monkeypatch.setattr(plateau, "execute", must_not_run)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("SEEDS = [0]\nN_VIEWS = 128", metadata={"tags": ["parameters"]})]
    path = tmp_path / "04b_example.ipynb"
    nbformat.write(nb, path)
    assert plateau.compare(path) == ([], True)


def test_every_training_chapter_has_an_epochs_parameter():
    root = Path(__file__).parents[2] / "chapters"
    paths = [path for prefix in plateau.CHAPTERS for path in root.glob(f"{prefix}_*.ipynb")]
    assert len(paths) == len(plateau.CHAPTERS)  # one notebook per listed chapter, none missed
    for path in paths:
        defaults = plateau.parameter_defaults(nbformat.read(path, as_version=4))
        assert any(name.endswith("EPOCHS") for name in defaults), path.name
