"""The book's general figures: where samples are drawn, which band a curve carries, fitted power laws."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import torch

from helpers.claims import mean_interval
from helpers.metrics import log_log_fit
from helpers.plotting import plot_answers_along_path, plot_mean_spread, plot_power_laws, plot_signals


def test_plot_signals_draws_each_sample_at_its_input_position():
    fig = plot_signals([torch.ones(8), torch.ones(4)], ["x", "pooled"], positions=[None, [0.5, 2.5, 4.5, 6.5]])
    lines = [line for line in fig.axes[0].lines if line.get_marker() == "o"]
    assert lines[0].get_xdata().tolist() == list(range(8))
    assert lines[1].get_xdata().tolist() == [0.5, 2.5, 4.5, 6.5]
    with pytest.raises(ValueError, match="positions"):
        plot_signals([torch.ones(4)], ["x"], positions=[[0, 1]])


def test_plot_mean_spread_band_is_the_95_percent_interval_of_the_mean():
    runs = np.array([[0.1, 0.9], [0.2, 0.95], [0.3, 1.0], [0.2, 0.9], [0.25, 1.0]])
    fig = plot_mean_spread([1, 2], {"a": runs}, "x", "y", within=(0, 1))
    band = fig.axes[0].collections[0].get_paths()[0].vertices[:, 1]
    first = mean_interval(runs[:, 0])
    assert band.min() == pytest.approx(first.low) and np.isclose(band, first.high).any()
    assert band.max() <= 1.0  # cut to the values a fraction can take


def test_log_log_fit_recovers_a_power_law_and_names_bad_input():
    slope, intercept = log_log_fit([16, 32, 64, 128], [3.0 * n**-0.5 for n in [16, 32, 64, 128]])
    assert slope == pytest.approx(-0.5) and np.exp(intercept) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="positive"):
        log_log_fit([1, 2], [0.0, 1.0])
    with pytest.raises(ValueError, match="same number"):
        log_log_fit([1, 2, 3], [1.0, 2.0])
    fig = plot_power_laws([16, 32, 64], {"share": [0.5, 0.25, 0.125]}, "n")
    assert "slope -1.00" in fig.axes[0].get_legend().get_texts()[1].get_text()


def test_plot_answers_along_path_crosses_the_steps_with_another_answer():
    probs = torch.tensor([[0.1, 0.9], [0.6, 0.4], [0.2, 0.8]])  # class 1 is true; step 0.5 answers 0
    fig = plot_answers_along_path([0, 0.5, 1], {"net": probs}, 1, {"centred": torch.zeros(4, 4)})
    line, crosses = fig.axes[0].lines[:2]
    assert line.get_ydata().tolist() == pytest.approx([0.9, 0.4, 0.8])
    assert crosses.get_marker() == "x" and crosses.get_xdata().tolist() == [0.5]
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "centred"
    with pytest.raises(ValueError, match="probabilities must be"):
        plot_answers_along_path([0, 1], {"net": probs}, 1, {"centred": torch.zeros(4, 4)})
    with pytest.raises(ValueError, match="at least one entry"):
        plot_answers_along_path([0, 0.5, 1], {"net": probs}, 1, {})

