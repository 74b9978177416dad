"""train_runs, one run at a time and all seeds together (helpers.ensemble), and its checks."""

import pytest
import torch
import torch.nn.functional as F

from helpers.data import digits_on_canvas
from helpers.ensemble import train_together
from helpers.models import DilatedCNN, SmallCNN
from helpers.training import Recipe, accuracy, fit_linear_classifier, train_runs

SEEDS = [0, 3, 7]


@pytest.fixture(scope="module")
def digits():
    d = digits_on_canvas("train", canvas_size=16, digit_size=8, seed=0)
    return d.images[:200], d.labels[:200]


def builders():
    return {
        "pool": lambda: SmallCNN(widths=(4, 8), downsample="maxpool", head="gap", init="kaiming"),
        "dilated": lambda: DilatedCNN(widths=(4, 4), dilations=(1, 2), head="flatten", input_size=16,
                                      padding="circular"),
    }


def largest_weight_difference(a, b) -> float:
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_together_follows_the_same_runs_as_one_at_a_time(digits):
    x, y = digits
    options = dict(epochs=3, batch_size=32, lr=5e-3, progress=False)
    alone = train_runs(builders(), SEEDS, x, y, keep_initial=True, **options)
    together = train_runs(builders(), SEEDS, x, y, keep_initial=True, together=True, **options)
    for key, model in alone.models.items():
        # the same start, the same batches and schedule: the same weights up to rounding
        assert largest_weight_difference(alone.initial[key], together.initial[key]) == 0
        assert largest_weight_difference(model, together.models[key]) < 1e-4, key
        assert together.losses[key] == pytest.approx(alone.losses[key], abs=1e-4)
        assert not model.training and not together.models[key].training
    # and the runs differ from one another (each seed has its own initial weights and batches)
    assert largest_weight_difference(together.models["pool", 0], together.models["pool", 3]) > 1e-2


def test_together_applies_each_runs_own_transform(digits):
    x, y = digits
    seen = {}

    def transform_of(seed):
        def transform(batch):
            seen.setdefault(seed, batch.shape)
            return batch * 0  # run `seed` sees blank images only
        return transform if seed == 3 else None

    recipe = Recipe(builders()["dilated"], transform=transform_of)
    runs = train_runs({"net": recipe}, SEEDS, x, y, together=True, epochs=8, batch_size=32, lr=1e-2,
                      progress=False)
    assert set(seen) == {3} and seen[3][0] == 32  # called on that run's (batch, ...) slice only
    blank, others = runs.losses["net", 3][-1], [runs.losses["net", s][-1] for s in (0, 7)]
    assert blank > 2.2 and max(others) < 1.7  # blank images cannot be learned; the others can
    assert accuracy(runs.models["net", 0], x, y) > 0.4  # chance: 0.1


def test_concurrent_runs_do_not_depend_on_how_many_run_at_once(digits):
    x, y = digits
    recipe = Recipe(builders()["pool"], transform=lambda seed: (lambda batch: batch.flip(-1)) if seed == 3 else None,
                    options={"epochs": 2})
    options = dict(epochs=3, batch_size=32, lr=5e-3, progress=False)
    recipes = {"pool": recipe, "dilated": builders()["dilated"]}
    one = train_runs(recipes, SEEDS, x, y, concurrent=1, keep_initial=True, **options)
    two = train_runs(recipes, SEEDS, x, y, concurrent=2, **options)
    alone = train_runs(recipes, SEEDS, x, y, keep_initial=True, **options)
    threads = torch.get_num_threads()
    for key, model in one.models.items():
        # one thread per run, whatever the number of runs at once: the same weights to the bit
        assert largest_weight_difference(model, two.models[key]) == 0, key
        assert one.losses[key] == two.losses[key]
        # and the same runs as one at a time on the default threads, up to rounding
        assert largest_weight_difference(one.initial[key], alone.initial[key]) == 0
        assert largest_weight_difference(model, alone.models[key]) < 1e-4, key
        assert not model.training
    assert [len(one.losses["pool", s]) for s in SEEDS] == [2, 2, 2]  # the recipe's own epochs win
    assert largest_weight_difference(one.models["pool", 3], two.models["pool", 0]) > 1e-2
    assert torch.get_num_threads() == threads  # restored


def test_recipe_hooks_run_after_training_together(digits):
    x, y = digits
    calls = []
    recipe = Recipe(builders()["pool"], options={"epochs": 1}, after=lambda model, seed: calls.append(seed))
    runs = train_runs({"pool": recipe}, SEEDS, x, y, together=True, epochs=9, batch_size=64, progress=False)
    assert calls == SEEDS
    assert all(len(runs.losses["pool", s]) == 1 for s in SEEDS)  # the recipe's own epochs win
    assert all(runs.seconds["pool", s] > 0 for s in SEEDS)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, y: train_together([], x, y, []), "models must be a non-empty"),
        (lambda x, y: train_together([SmallCNN(widths=(4,)), SmallCNN(widths=(8,))], x, y, [0, 1]),
         "models must share one architecture"),
        (lambda x, y: train_together([SmallCNN(widths=(4,))], x, y, [0, 1]), "seeds must hold one seed per model"),
        (lambda x, y: train_together([SmallCNN(widths=(4,))], x, y, [0], transforms=[None, None]),
         "transforms must hold one entry per model"),
        (lambda x, y: train_together([SmallCNN(widths=(4,))], x, y[:5], [0]), "x and y must hold as many"),
        (lambda x, y: train_together([SmallCNN(widths=(4,))], x, y, [-1]), "seeds[0] must be >= 0"),
        (lambda x, y: train_runs({}, [0], x, y, together=True), "recipes must name at least one"),
        (lambda x, y: train_runs({"a": SmallCNN}, [0], x, y, concurrent=0), "concurrent must be >= 1"),
        (lambda x, y: train_runs({"a": SmallCNN}, [0], x, y, concurrent=2, together=True),
         "concurrent must be None with together=True"),
        (lambda x, y: train_runs({"a": Recipe(SmallCNN, after=print)}, [0], x, y, concurrent=2),
         "concurrent must be None when a Recipe has an after hook"),
    ],
)
def test_bad_input_raises_clear_value_error(digits, call, message):
    x, y = digits
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call(x, y)


def test_together_trains_on_the_given_device(digits):
    x, y = digits
    models = [SmallCNN(widths=(4,), head="gap") for _ in SEEDS]
    losses = train_together(models, x, y, SEEDS, epochs=2, batch_size=50, device="cpu")
    assert [len(run) for run in losses] == [2, 2, 2]
    assert all(next(m.parameters()).device == torch.device("cpu") for m in models)


@pytest.mark.parametrize("method", ["blurpool", "aps"])
def test_together_trains_chapter_4s_downsampling_layers_as_one_at_a_time(digits, method):
    # MaxBlurPool's stride-1 max is a custom autograd function and APS gathers per image:
    # both must batch under torch.vmap and give the runs that training one at a time gives
    from helpers.models import anti_aliased_cnn

    x, y = digits
    build = {"net": lambda: anti_aliased_cnn(method, 3, pad_type="circular", widths=(4, 4), padding="circular",
                                             head="gap", init="kaiming")}
    options = dict(epochs=2, batch_size=32, lr=5e-3, progress=False)
    alone = train_runs(build, SEEDS[:2], x, y, **options)
    together = train_runs(build, SEEDS[:2], x, y, together=True, **options)
    for key, model in alone.models.items():
        assert largest_weight_difference(model, together.models[key]) < 1e-4, key


def test_fit_linear_classifier_reaches_the_minimum():
    torch.manual_seed(0)
    features = torch.randn(200, 6)
    labels = (features[:, 0] + 0.3 * torch.randn(200) > 0).long() + 2 * (features[:, 1] > 0).long()
    layer = torch.nn.Linear(6, 4)
    gradient = fit_linear_classifier(layer, features, labels, weight_decay=1e-2)
    assert gradient < 1e-4
    with torch.no_grad():  # a step in any direction only raises the objective: the minimum
        def objective():
            return F.cross_entropy(layer(features), labels) + 1e-2 / 2 * layer.weight.pow(2).sum()

        best = objective()
        for _ in range(5):
            step = [1e-2 * torch.randn_like(p) for p in layer.parameters()]
            for p, d in zip(layer.parameters(), step, strict=True):
                p += d
            assert objective() >= best
            for p, d in zip(layer.parameters(), step, strict=True):
                p -= d
    assert (layer(features).argmax(1) == labels).float().mean() > 0.8
    stronger = torch.nn.Linear(6, 4)
    fit_linear_classifier(stronger, features, labels, weight_decay=1.0)
    assert stronger.weight.norm() < layer.weight.norm()  # more weight decay, smaller weights


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fit_linear_classifier(torch.nn.Conv2d(1, 1, 1), torch.ones(2, 1), torch.zeros(2).long()), "layer"),
        (lambda: fit_linear_classifier(torch.nn.Linear(3, 2), torch.ones(2, 4), torch.zeros(2).long()), "features"),
        (lambda: fit_linear_classifier(torch.nn.Linear(3, 2), torch.ones(2, 3), torch.zeros(2).long(), weight_decay=-1),
         "weight_decay"),
        (lambda: fit_linear_classifier(torch.nn.Linear(3, 2), torch.ones(2, 3), torch.zeros(2).long(), max_iter=0),
         "max_iter"),
    ],
)
def test_fit_linear_classifier_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_loss_curves_stack_every_seeds_epoch_losses_and_the_plot_draws_them(digits):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import plot_loss_curves

    x, y = digits
    runs = train_runs({"pool": builders()["pool"]}, SEEDS, x, y, epochs=2, batch_size=50, progress=False)
    curves = runs.loss_curves("pool")
    assert curves.shape == (len(SEEDS), 2)
    assert curves[1, -1].item() == pytest.approx(runs.losses["pool", SEEDS[1]][-1], rel=1e-6)
    with pytest.raises(ValueError, match="name must be one of"):
        runs.loss_curves("other")
    fig = plot_loss_curves({"pool": curves, "longer": torch.rand(3, 5) + 0.1}, target=0.5)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [len(line.get_xdata()) for line in ax.lines] == [2, 5, 2]  # two curves, then the target line
    assert ax.get_legend() is not None
    plt.close(fig)
    with pytest.raises(ValueError, match="positive losses"):
        plot_loss_curves({"bad": torch.zeros(2, 3)})
    with pytest.raises(ValueError, match="at least one run"):
        plot_loss_curves({})
