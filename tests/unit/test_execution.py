"""Knobs that the build, the benchmark and ``make robust`` turn: parameters, threads, progress
bars, and the count of figures a notebook shows."""

from __future__ import annotations

import nbformat
import pytest
import torch

from helpers.execution import _inject, parameter_defaults, shown_figures
from helpers.repro import THREADS, default_threads, setup
from helpers.training import progress_wanted, train


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import torch"),
        nbformat.v4.new_code_cell("SEEDS = [0, 1, 2]  # seeds\nEPOCHS = 6", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(SEEDS)"),
    ]
    return nb


def test_parameters_are_read_and_overridden_after_the_parameters_cell():
    nb = _notebook()
    assert parameter_defaults(nb) == {"SEEDS": [0, 1, 2], "EPOCHS": 6}
    _inject(nb, {"SEEDS": [100, 101, 102]})
    assert nb.cells[2].source == "SEEDS = [100, 101, 102]"
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]
    with pytest.raises(ValueError, match="unknown"):
        _inject(_notebook(), {"SEED": [1]})
    no_parameters = nbformat.v4.new_notebook()
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        _inject(no_parameters, {"SEEDS": [1]})


def _output(data: dict) -> dict:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def test_shown_figures_counts_images_and_sliders_but_not_hidden_cells():
    cell = {"cell_type": "code", "metadata": {}, "outputs": [
        _output({"image/png": "...", "text/plain": "<Figure>"}),
        _output({"text/html": '<figure class="frame-slider" id="fs-1"><img src="data:..."></figure>'}),
        _output({"text/plain": "a number"}),
    ]}
    hidden = {"cell_type": "code", "metadata": {"tags": ["remove-output"]}, "outputs": [_output({"image/png": "."})]}
    assert shown_figures({"cells": [cell, hidden]}) == 2


def test_threads_come_from_the_environment_when_set(monkeypatch):
    monkeypatch.delenv("HELPERS_THREADS", raising=False)
    assert default_threads() == THREADS
    monkeypatch.setenv("HELPERS_THREADS", "1")
    assert default_threads() == 1
    before = torch.get_num_threads()
    try:
        setup(0)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("HELPERS_THREADS", bad)
        with pytest.raises(ValueError, match="HELPERS_THREADS must be a positive integer"):
            default_threads()


def test_progress_bars_follow_the_environment(monkeypatch, capsys):
    model = torch.nn.Linear(3, 2)
    x, y = torch.randn(8, 3), torch.tensor([0, 1] * 4)
    monkeypatch.delenv("HELPERS_PROGRESS", raising=False)
    assert progress_wanted()
    train(model, x, y, epochs=1, desc="visible")
    assert "visible" in capsys.readouterr().out
    monkeypatch.setenv("HELPERS_PROGRESS", "0")
    assert not progress_wanted()
    train(model, x, y, epochs=1, desc="hidden")
    assert "hidden" not in capsys.readouterr().out
    train(model, x, y, epochs=1, desc="asked for", progress=True)  # an explicit wish wins
    assert "asked for" in capsys.readouterr().out
