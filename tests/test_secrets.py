"""A value that came from the environment never reaches a model card, an exported recipe or a push."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import QUICKSTART_RECIPE, TINY, zoo_error
from tests.helpers import FakeApi, build
from zoo import hub
from zoo.cli import main
from zoo.hub import remote

SECRET = "hf_TopSecretValue0123456789"


@pytest.fixture
def secret_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The quick start with a logger whose name comes from a secret-looking environment variable."""
    monkeypatch.setenv("ZOO_TEST_API_TOKEN", SECRET)
    recipe = yaml.safe_load(Path(QUICKSTART_RECIPE).read_text())
    recipe["trainer"]["logger"] = {
        "class_path": "lightning.pytorch.loggers.CSVLogger",
        "init_args": {"save_dir": str(tmp_path / "run"), "name": "${oc.env:ZOO_TEST_API_TOKEN}"},
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def test_an_environment_secret_is_in_no_exported_or_pushed_file(
    secret_recipe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            "fit",
            "-c",
            str(secret_recipe),
            *TINY,
            "--trainer.max_steps",
            "2",
            "--trainer.default_root_dir",
            str(tmp_path / "run"),
        ]
    )
    config = next((tmp_path / "run").rglob("config.yaml"))
    assert SECRET not in config.read_text()
    assert "${oc.env:ZOO_TEST_API_TOKEN}" in config.read_text()  # the recipe as written
    checkpoint = next((tmp_path / "run").rglob("last.ckpt"))
    main(["export", str(checkpoint), str(tmp_path / "model")])
    for file in (tmp_path / "model").rglob("*"):
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes(), file
    assert "${oc.env:ZOO_TEST_API_TOKEN}" in (tmp_path / "model" / "recipe.yaml").read_text()

    monkeypatch.setattr(remote, "HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    FakeApi.calls, FakeApi.remote = [], {}
    main(["push", str(tmp_path / "model"), "org/name"])
    pushed = dict(FakeApi.calls)["create_commit"]["operations"]
    contents = [op.path_or_fileobj if isinstance(op.path_or_fileobj, bytes) else Path(op.path_or_fileobj).read_bytes()
                for op in pushed]  # fmt: skip
    assert pushed and all(SECRET.encode() not in content for content in contents)


def test_a_secret_pasted_into_a_recipe_is_redacted_on_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value the shell expanded (`--recipe` written by hand) cannot be told from the environment's by its
    form; the values of secret-looking variables are replaced wherever they appear."""
    monkeypatch.setenv("WANDB_API_KEY", "0123456789abcdef0123")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("trainer:\n  logger:\n    init_args:\n      api_key: 0123456789abcdef0123\n")
    folder = hub.save(build("recursive"), tmp_path / "model", recipe=recipe.read_text())
    for name in ("recipe.yaml", "README.md"):
        text = (folder / name).read_text()
        assert "0123456789abcdef0123" not in text and "${oc.env:WANDB_API_KEY}" in text


def test_push_refuses_a_folder_that_holds_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(remote, "HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", "hf_pushTokenValue98765")
    folder = hub.save(build("recursive"), tmp_path / "model")
    (folder / "README.md").write_text((folder / "README.md").read_text() + "\ntoken: hf_pushTokenValue98765\n")
    FakeApi.calls = []
    printed = zoo_error(capsys, "push", str(folder), "org/name")
    assert "README.md holds the value of HF_TOKEN" in printed
    assert "hf_pushTokenValue98765" not in printed
    assert not [call for call in FakeApi.calls if call[0] == "create_commit"]
