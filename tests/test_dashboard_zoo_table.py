"""One zoo status (core.store.zoo.zoo_status) for the CLI and Home: a zoo model trained with other settings
(e.g. ``--time-budget``) counts as present, and nothing offers to train it again."""

from core.config import TrainConfig
from core.models.methods import default_model_config
from core.store.trained import load_or_train
from core.store.zoo import default_train_config, zoo_status


def test_a_time_budget_zoo_model_counts_as_present(small_digits, store, monkeypatch):
    monkeypatch.delenv("LATENT_LAB_EPOCHS", raising=False)
    model = default_model_config("conv", 2)  # has tuple fields (hidden, channels): records hold lists
    load_or_train(small_digits, model, TrainConfig(time_budget=0.5, seed=0), store=store)
    status = {z.label: z for z in zoo_status(small_digits.config, store.list().records,
                                             default_train_config(len(small_digits.train)))}
    assert status["conv d=2"].trained and status["conv d=2"].record.trained_with.startswith("time budget 0.5 s: ")
    assert not status["dense d=2"].trained


def test_home_offers_to_train_only_what_is_missing(small_digits, store, monkeypatch):
    """The bug: after a time-budget zoo run Home said "every default model is trained" beside an
    enabled "Train the default models (6 to train)". Both now come from the same status."""
    from dashboard import resources

    monkeypatch.setenv("LATENT_LAB_CHECKPOINTS", str(store.root))
    budget = default_train_config(len(small_digits.train), time_budget=0.3)
    for entry in zoo_status(small_digits.config, [], budget):
        load_or_train(small_digits, entry.model, entry.train, store=store)
    status = resources.zoo(small_digits)  # the standard settings, as Home asks
    assert all(z.trained for z in status)
    assert resources.submit_zoo(small_digits, default_train_config(len(small_digits.train))) == []
