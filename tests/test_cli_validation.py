"""Values that used to escape the CLI's checks (issue 22 item 8): each fails at the edge with exit
code 2 and one line naming the flag the user typed, before any training starts; and a model too large
for the machine is refused, with a figure, before it is built."""

from __future__ import annotations

import numpy as np
import pytest

from core.cli import main
from core.config import ConfigError, DataConfig, ModelConfig, TrainConfig
from core.data.datasets import load_dataset
from core.models.methods import AUTOENCODERS, default_model_config


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if any model starts training or is built for real."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr("core.models.autoencoder_reducer.train", refuse)
    monkeypatch.setattr("core.models.autoencoder_reducer.build_model", refuse)


def run_main(args: list[str], capsys) -> tuple[int, str]:
    """Exit code and everything printed, whether the parser exits or ``main`` returns."""
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.err + captured.out


@pytest.mark.parametrize("args, flag", [
    (["--time-budget", "nan"], "--time-budget"),
    (["--time-budget", "inf"], "--time-budget"),
    (["--time-budget", "1e308"], "--time-budget"),
    (["--time-budget", "0"], "--time-budget"),
    (["--epochs", "1e22"], "--epochs"),
    (["--epochs", str(10 ** 22)], "--epochs"),
    (["--epochs", "0"], "--epochs"),
    (["--seed", str(10 ** 23)], "--seed"),
    (["--seed", "-1"], "--seed"),
    (["--dataset", "folder:"], "--dataset"),
    (["--dataset", "folder:  "], "--dataset"),
    (["--latent-dim", "0"], "--latent-dim"),
    (["--latent-dim", str(10 ** 22)], "--latent-dim"),
    (["--dataset", "folder:/nowhere", "--image-size", "2"], "--image-size"),
    (["--limit", "3"], "--limit"),
    (["--batch-size", "0"], "--batch-size"),
    (["--model", "conv", "--channels", str(10 ** 30)], "--channels"),
])
def test_bad_value_exits_2_naming_the_flag_before_training(args, flag, tmp_path, capsys, no_training):
    code, output = run_main(["train", *args, "--checkpoints", str(tmp_path)], capsys)
    lines = output.strip().splitlines()
    assert code == 2, output
    assert len(lines) == 1 and lines[0].startswith("error: ") and flag in lines[0], output
    assert "Traceback" not in output
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith(".")]  # nothing saved, nothing begun


@pytest.mark.parametrize("args, fragment", [
    (["--time-budget", "nan"], "--time-budget must be a finite number of seconds above 0 and at most 604800 (7 days), got nan"),
    (["--epochs", str(10 ** 22)], "--epochs must be a whole number from 1 to 100000, got"),
    (["--seed", str(10 ** 23)], "--seed must be a whole number from 0 to 4294967295"),
    (["--dataset", "folder:"], "--dataset 'folder:' names no folder"),
])
def test_the_message_says_what_is_allowed(args, fragment, tmp_path, capsys, no_training):
    assert fragment in run_main(["train", *args, "--checkpoints", str(tmp_path)], capsys)[1]


def test_config_errors_name_the_field_outside_the_cli():
    """The dashboard shows ConfigError's own words: the field's name, not a CLI flag."""
    with pytest.raises(ConfigError, match=r"^time_budget must be a finite number of seconds") as caught:
        TrainConfig(time_budget=float("inf"))
    assert caught.value.field == "time_budget"
    assert caught.value.named("Time budget").startswith("Time budget must be a finite number")
    with pytest.raises(ConfigError, match="^dataset 'folder:' names no folder"):
        DataConfig("folder:")
    with pytest.raises(ConfigError, match="names no folder"):  # every loader goes through DataConfig
        load_dataset("folder:")
    with pytest.raises(ConfigError, match="^epochs must be a whole number from 1 to 100000"):
        TrainConfig(epochs=10 ** 22)


@pytest.mark.parametrize("family", AUTOENCODERS)
def test_memory_estimate_counts_exactly_the_parameters_of_the_real_model(family):
    from core.models import build_model
    from core.models.memory import estimate_memory
    from core.models.summary import parameter_count

    config = default_model_config(family, 16)
    estimate = estimate_memory(config, (1, 28, 28))
    assert estimate.parameters == parameter_count(build_model(config, (1, 28, 28)))
    # float32 weights, their gradients and AdamW's two moments
    assert estimate.training_bytes == 16 * estimate.parameters


def test_a_model_larger_than_the_machine_allows_is_refused_with_figures():
    from core.models.memory import check_memory

    huge = ModelConfig(family="conv", latent_dim=2, channels=(100_000, 100_000))
    with pytest.raises(ConfigError, match=r"about [\d,]+ GB .* this machine has 24 GB") as caught:
        check_memory(huge, (1, 8, 8), total_bytes=24 * 10 ** 9)
    assert caught.value.field == "channels"
    small = default_model_config("conv", 2)
    assert check_memory(small, (1, 28, 28), total_bytes=24 * 10 ** 9).parameters > 0
    # a machine whose memory is unknown refuses nothing
    assert check_memory(huge, (1, 8, 8), total_bytes=None).parameters > 10 ** 11


def test_fit_refuses_a_too_large_model_before_building_it(no_training):
    """Every way to train (the CLI, the dashboard's jobs) goes through fit."""
    from core.models.autoencoder_reducer import AutoencoderReducer

    huge = ModelConfig(family="conv", latent_dim=2, channels=(100_000, 100_000))
    with pytest.raises(ConfigError, match="GB"):
        AutoencoderReducer(huge, TrainConfig(epochs=1)).fit(np.zeros((20, 1, 8, 8), np.float32))


def test_huge_channels_on_the_command_line_are_refused_with_a_figure(tmp_path, capsys, no_training):
    code, output = run_main(["train", "--model", "conv", "--channels", "100000,100000", "--epochs", "1",
                             "--checkpoints", str(tmp_path)], capsys)
    assert code == 2, output
    assert "GB" in output and "--channels" in output and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


def test_the_dashboards_training_job_reports_the_refusal(small_digits, tmp_path, no_training):
    """The Train page trains through a job: the job fails with the figure, in the dashboard's words."""
    from core.store.checkpoints import CheckpointStore
    from core.store.jobs import TrainingJobs

    huge = ModelConfig(family="conv", latent_dim=2, channels=(100_000, 100_000))
    jobs = TrainingJobs()
    job = jobs.submit(small_digits, huge, TrainConfig(epochs=1), CheckpointStore(tmp_path))
    assert jobs.wait(timeout=60) and job.state == "failed"
    assert "GB" in job.message and "use smaller channels" in job.message
