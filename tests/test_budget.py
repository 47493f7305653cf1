"""Training budget recipe keys (training/budget.py through training.run.train): a clock that survives resumes,
a minutes budget, cosine schedules over steps or minutes, snapshots, warm starts."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from audiogen_tf.errors import ConfigError
from test_fault_tolerance import write_tiny_corpus, write_tiny_recipe
from training import budget
from training.recipes import load_recipe
from training.run import train


def _recipe(tmp_path, **changes):
    return load_recipe(write_tiny_recipe(tmp_path / "tiny.yaml", deterministic="false", **changes))


def test_cosine_scale_ends_at_the_final_fraction():
    assert budget.cosine_scale(0.0, 0.05) == 1.0
    assert budget.cosine_scale(1.0, 0.05) == pytest.approx(0.05)
    assert budget.cosine_scale(0.5, 0.0) == pytest.approx(0.5)
    assert budget.cosine_scale(7.0, 0.1) == pytest.approx(0.1)


def test_cosine_over_steps_anneals_both_players_and_resumes_on_schedule(tmp_path):
    data = write_tiny_corpus(tmp_path / "data", n=2)
    run = str(tmp_path / "run")
    recipe = _recipe(tmp_path, steps=8)
    recipe = type(recipe)(**{**recipe.to_dict(), "lr_schedule": "cosine", "schedule_over": "steps",
                             "lr_final_fraction": 0.1, "steps": 4, "schedule_length": 8})
    seen = []

    class Rates(budget.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append([float(o.learning_rate.numpy()) for o in (self.model.g_optimizer, self.model.d_optimizer)])

    train(recipe, data=data, out=run, verbose=0, callbacks=[Rates()])
    assert seen[0][0] == pytest.approx(recipe.learning_rate, rel=1e-5)  # step 0: the base rate
    assert all(g < 1e-3 for g, _ in seen[1:])  # annealing
    # resume to step 8: the schedule continues from step 4, not from the start
    recipe = type(recipe)(**{**recipe.to_dict(), "steps": 8})
    seen.clear()
    train(recipe, data=data, out=run, verbose=0, callbacks=[Rates()])
    expected = recipe.learning_rate * budget.cosine_scale(4 / 8, 0.1)
    assert seen[0][0] == pytest.approx(expected, rel=1e-4)
    assert seen[-1][0] < seen[0][0]


def test_minutes_budget_stops_and_the_clock_survives_a_resume(tmp_path):
    data = write_tiny_corpus(tmp_path / "data", n=2)
    run = str(tmp_path / "run")
    recipe = _recipe(tmp_path, steps=100000)
    recipe = type(recipe)(**{**recipe.to_dict(), "minutes": 0.02, "snapshot_minutes": 0.01})
    result = train(recipe, data=data, out=run, verbose=0)
    clock = json.load(open(os.path.join(run, "clock.json")))
    assert clock["sessions"] == 1 and clock["train_seconds"] >= 1.2
    assert 1 < result.step < 100000
    snapshots = json.load(open(os.path.join(run, "snapshots", "snapshots.json")))
    assert snapshots and all(0 < step <= result.step for step in snapshots.values())  # minute -> step
    assert len(os.listdir(os.path.join(run, "snapshots"))) == len(snapshots) + 1
    # a rerun with the budget spent trains (at most) one more batch, and the clock counts a second session
    again = train(recipe, data=data, out=run, verbose=0)
    assert again.step <= result.step + 1
    assert json.load(open(os.path.join(run, "clock.json")))["sessions"] == 2


def test_warm_start_copies_matching_weights_and_reports(tmp_path):
    data = write_tiny_corpus(tmp_path / "data", n=2)
    first = train(_recipe(tmp_path, steps=2), data=data, out=str(tmp_path / "a"), verbose=0)
    recipe = _recipe(tmp_path, steps=1)
    recipe = type(recipe)(**{**recipe.to_dict(), "init_from": first.run_dir, "seed": 5, "learning_rate": 1e-12})
    second = train(recipe, data=data, out=str(tmp_path / "b"), verbose=0)
    from training.run import load_run

    _, a = load_run(first.run_dir)
    _, b = load_run(second.run_dir)
    for va, vb in zip(a.weights, b.weights):
        np.testing.assert_allclose(va.numpy(), vb.numpy(), atol=1e-6)


def test_warm_start_from_an_unrelated_source_is_one_clear_error(tmp_path):
    from zoo.hifigan import HiFiGANGenerator

    model = HiFiGANGenerator.from_preset("hifigan_tiny")
    with pytest.raises(ConfigError, match="not a run folder, a .keras / .weights.h5 file or a preset"):
        budget.warm_start(model, "no_such_thing")


@pytest.mark.parametrize("changes, key", [({"lr_schedule": "linear"}, "lr_schedule"),
                                          ({"schedule_over": "epochs"}, "schedule_over"),
                                          ({"lr_schedule": "cosine", "schedule_over": "minutes"}, "schedule_length"),
                                          ({"minutes": -1}, "minutes"), ({"lr_final_fraction": 2}, "lr_final_fraction")])
def test_bad_budget_keys_name_the_key(tmp_path, changes, key):
    text = open(write_tiny_recipe(tmp_path / "t.yaml")).read()
    text += "".join(f"\n{k}: {v}" for k, v in changes.items())
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ConfigError, match=key):
        load_recipe(str(tmp_path / "bad.yaml"))


def test_a_recipe_includes_a_base_and_overrides_it(tmp_path):
    base = write_tiny_recipe(tmp_path / "base.yaml")
    (tmp_path / "stage2.yaml").write_text("include: base.yaml\nsteps: 12\nmel: {n_mels: 8}\nlearning_rate: 5.0e-4\n")
    recipe = load_recipe(str(tmp_path / "stage2.yaml"))
    base_recipe = load_recipe(base)
    assert recipe.steps == 12 and recipe.learning_rate == 5e-4 and recipe.mel["n_mels"] == 8
    assert recipe.mel["hop_length"] == base_recipe.mel["hop_length"]  # mappings merge key by key
    assert recipe.generator_preset == base_recipe.generator_preset and recipe.name == "stage2"
    (tmp_path / "loop.yaml").write_text("include: loop.yaml\n")
    with pytest.raises(ConfigError, match="includes itself"):
        load_recipe(str(tmp_path / "loop.yaml"))
    (tmp_path / "missing.yaml").write_text("include: nowhere.yaml\n")
    with pytest.raises(ConfigError, match="include 'nowhere.yaml'"):
        load_recipe(str(tmp_path / "missing.yaml"))
    bundled = tmp_path / "b.yaml"
    bundled.write_text("include: istft_vocoder\nsteps: 7\n")
    assert load_recipe(str(bundled)).generator_preset == "istft_vocoder_small"


def test_data_from_several_manifests_and_one_split(tmp_path):
    from audiogen_tf.manifest import write_manifest
    from training.run import recipe_entries

    data = write_tiny_corpus(tmp_path / "data", n=4)
    a = write_manifest([{"path": os.path.join(data, f"tone{i}.wav"), "split": s} for i, s in
                        enumerate(["train", "test"])], str(tmp_path / "a.csv"))
    b = write_manifest([{"path": os.path.join(data, f"tone{i}.wav"), "split": s} for i, s in
                        ((2, "train"), (3, "valid"))], str(tmp_path / "b.csv"))
    recipe = _recipe(tmp_path, steps=2)
    both = type(recipe)(**{**recipe.to_dict(), "data": [a, b], "data_split": "train"})
    assert [os.path.basename(e["path"]) for e in recipe_entries(both, both.data)] == ["tone0.wav", "tone2.wav"]
    result = train(both, out=str(tmp_path / "run"), verbose=0)
    assert result.step == 2
    with pytest.raises(ConfigError, match="no entry .* has split 'dev'"):
        recipe_entries(type(recipe)(**{**both.to_dict(), "data_split": "dev"}), both.data)
