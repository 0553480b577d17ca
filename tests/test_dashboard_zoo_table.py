"""Home's zoo table counts a zoo model trained with other settings (e.g. ``--time-budget``) as cached."""

from core.checkpoints import load_or_train
from core.config import TrainConfig
from core.models import default_model_config


def test_a_time_budget_zoo_model_counts_as_cached(small_digits, store, monkeypatch):
    from dashboard import resources

    monkeypatch.setenv("LATENT_LAB_CHECKPOINTS", str(store.root))
    monkeypatch.delenv("LATENT_LAB_EPOCHS", raising=False)
    model = default_model_config("conv", 2)  # has tuple fields (hidden, channels): records hold lists
    load_or_train(small_digits, model, TrainConfig(time_budget=0.5, seed=0), store=store)
    table = resources.zoo_table(small_digits).set_index("model")
    assert bool(table.loc["conv d=2", "cached"])
    assert table.loc["conv d=2", "trained with"] == "time budget 0.5 s"
    assert not bool(table.loc["dense d=2", "cached"])
