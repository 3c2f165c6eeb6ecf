"""One clear line for every mistake: each bad input below exits with status 2 and one or two lines that name the
bad value and where it came from, with no traceback and no usage dump; `--debug` / ZOO_DEBUG=1 show the traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from tests.conftest import QUICKSTART_RECIPE, REPO, TINY, zoo_error
from tests.helpers import build, write_checkpoint
from zoo import hub
from zoo.cli import main
from zoo.errors import ZooError

SMALL = ["--model.init_args.width", "16", "--model.init_args.expansion", "1.0"]
GRAM_RECIPE = str(REPO / "recipes" / "gram" / "sudoku4-multi-variational.yaml")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files the cases below point at: a tiny quick-start checkpoint and its export, a 4x4 model, an energy model,
    damaged and partial checkpoints, broken recipes."""
    root = tmp_path_factory.mktemp("made")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZOO_CACHE", str(tmp_path_factory.getbasetemp() / "zoo-cache"))
        main(
            [
                "fit",
                "-c",
                QUICKSTART_RECIPE,
                *TINY,
                *SMALL,
                "--trainer.max_steps",
                "1",
                "--trainer.logger",
                "false",
                "--trainer.default_root_dir",
                str(root / "run"),
            ]
        )
    checkpoint = root / "run" / "checkpoints" / "last.ckpt"
    main(["export", str(checkpoint), str(root / "model")])
    damaged = hub.save(build("recursive"), root / "damaged")
    (damaged / "model.safetensors").write_bytes((damaged / "model.safetensors").read_bytes()[:200])
    saved = torch.load(checkpoint, weights_only=True)
    for key in ("state_dict", "hyper_parameters"):
        torch.save({k: v for k, v in saved.items() if k != key}, root / f"no-{key}.ckpt")
    (root / "syntax.yaml").write_text("model:\n  class_path: zoo.models.RecursiveReasoner\n  init_args: {width: [\n")
    (root / "empty.yaml").write_text("# nothing here\n")
    (root / "negative.yaml").write_text("data:\n  batch_size: -4\n")
    (root / "env.yaml").write_text("trainer:\n  default_root_dir: ${oc.env:ZOO_SURELY_UNSET_VARIABLE}\n")
    (root / "a-file").write_text("x")
    return {
        "ckpt": checkpoint,
        "model": root / "model",
        "root": root,
        "damaged": damaged,
        "energy": hub.save(build("energy"), root / "energy"),
        "board4": hub.save(build("recursive"), root / "board4"),
        "trm4": write_checkpoint(build("recursive"), root / "trm4.ckpt"),
    }


def fit(*words: str) -> list[str]:
    return [
        "fit",
        "-c",
        QUICKSTART_RECIPE,
        *TINY,
        *SMALL,
        "--trainer.max_steps",
        "1",
        "--trainer.logger",
        "false",
        *words,
    ]


# (command words with {placeholders} for `made`, texts the message must hold)
CASES = {
    "yaml syntax": (["fit", "-c", "{root}/syntax.yaml"], ["syntax.yaml, line 4", "not valid YAML"]),
    "empty recipe": (["fit", "-c", "{root}/empty.yaml"], ["empty.yaml is empty", "model:"]),
    "negative batch flag": (fit("--data.batch_size", "-1"), ["batch_size", "-1", "given as --data.batch_size"]),
    "negative batch file": (
        fit("-c", "{root}/negative.yaml"),
        ["batch_size", "-4", "negative.yaml, line 2 (data.batch_size)"],
    ),
    "negative count": (fit("--data.test_count", "-5"), ["test_count", "-5", "--data.test_count"]),
    "impossible board": (fit("--data.task.size", "7"), ["size", "7", "--data.task.size"]),
    "impossible givens": (fit("--data.task.givens", "40"), ["givens=40", "8..36", "--data.task.givens"]),
    "unreachable givens": (fit("--data.task.givens", "8"), ["8 givens", "9..36", "--data.task.givens"]),
    "unknown task": (fit("--data.task.name", "chess"), ["'chess'", "nqueens, sudoku", "--data.task.name"]),
    "not a number": (fit("--data.batch_size", "abc"), ["data.batch_size", "abc"]),
    "unknown model key": (fit("--model.init_args.widht", "3"), ["widht"]),
    "a family setting on the regime": (
        [
            "fit",
            "-c",
            str(REPO / "recipes/ebt/sudoku6-energy-descent.yaml"),
            "--model.init_args.regime.init_args.step_size",
            "5",
        ],
        ["step_size is a setting of the family now", "model.init_args.step_size", "given as --model.init_args.regime"],
    ),
    "bad model value": (fit("--model.init_args.cycles", "0"), ["cycles", "0", "--model.init_args.cycles"]),
    "unset env variable": (fit("-c", "{root}/env.yaml"), ["ZOO_SURELY_UNSET_VARIABLE", "env.yaml, line 2"]),
    "init_from missing": (fit("--init_from", "{root}/nowhere"), ["nowhere", "given as --init_from"]),
    "init_from family": (fit("--init_from", "{energy}"), ["EnergyTransformer", "RecursiveReasoner", "--init_from"]),
    "init_from board": (fit("--init_from", "{board4}"), ["'size': 4", "'size': 6", "--init_from"]),
    "init_from width": (
        fit("--init_from", "{model}", "--model.init_args.width", "24"),
        ["width: 16", "24 in the recipe"],
    ),
    "init_from damaged": (fit("--init_from", "{damaged}"), ["model.safetensors is damaged", "--init_from"]),
    "init_from repo offline": (fit("--init_from", "org/absent"), ["org/absent", "--init_from"]),
    "ckpt width": (
        fit("--ckpt_path", "{ckpt}", "--model.init_args.width", "24"),
        ["width: 16", "24 in the recipe", "--ckpt_path"],
    ),
    "ckpt family": (
        ["fit", "-c", GRAM_RECIPE, *TINY, "--ckpt_path", "{trm4}"],
        ["RecursiveReasoner", "GenerativeRecursiveReasoner"],
    ),
    "ckpt missing weights": (fit("--ckpt_path", "{root}/no-state_dict.ckpt"), ["has no weights", "--ckpt_path"]),
    "ckpt missing settings": (fit("--ckpt_path", "{root}/no-hyper_parameters.ckpt"), ["has no hyper-parameters"]),
    "ckpt missing file": (fit("--ckpt_path", "{root}/none.ckpt"), ["no checkpoint at", "none.ckpt"]),
    "eval count": (["eval", "{ckpt}", "--count", "0"], ["--count", "from 1 to", "0"]),
    "eval batch size": (["eval", "{ckpt}", "--batch-size", "-3"], ["--batch-size", "-3"]),
    "eval device": (["eval", "{ckpt}", "--device", "banana"], ["banana", "not a device"]),
    "eval unreachable givens": (
        ["eval", "{ckpt}", "--task.givens", "8"],
        ["8 givens", "9..36", "given as --task.givens"],
    ),
    "eval other board": (["eval", "{ckpt}", "--task.size", "9", "--task.givens", "30"], ["cannot read", "--task.size"]),
    "eval unknown option": (["eval", "{ckpt}", "--task.colour", "red"], ["'colour'", "--task.colour"]),
    "eval unknown flag": (["eval", "{ckpt}", "--frobnicate"], ["--frobnicate"]),
    "eval bad budget": (["eval", "{ckpt}", "--budgets", "1,two"], ["'two'", "--budgets"]),
    "eval zero budget": (["eval", "{ckpt}", "--budgets", "0"], ["steps >= 1", "--budgets"]),
    "eval seed": (["eval", "{ckpt}", "--seed", "-1"], ["--seed", "-1"]),
    "eval selection": (["eval", "{ckpt}", "--selection", "vote"], ["cannot select by 'vote'", "--selection"]),
    "eval missing model": (["eval", "{root}/missing.ckpt"], ["no folder or file at", "missing.ckpt"]),
    "export missing": (["export", "{root}/missing.ckpt", "{root}/out"], ["missing.ckpt"]),
    "export into a file": (["export", "{ckpt}", "{root}/a-file"], ["a-file is a file"]),
    "export results missing": (
        ["export", "{ckpt}", "{root}/out2", "--results", "{root}/nope.json"],
        ["nope.json", "--results"],
    ),
    "push bad repo id": (["push", "{model}", "not a repo"], ["'not a repo'", "org/name"]),
    "push missing folder": (["push", "{root}/absent", "org/name"], ["no folder at"]),
    "download bad repo id": (["download", "bad//id"], ["'bad//id'", "org/name"]),
    "download offline": (["download", "org/absent"], ["org/absent", "not in the local Hugging Face cache"]),
    "eval missing argument": (["eval"], ["model", "--help"]),
    "no recipe": (["fit", "--trainer.max_steps", "1"], ["no recipe", "-c"]),
    "no verb": (["frobnicate"], ["'frobnicate'", "fit"]),
}
if not torch.cuda.is_available():
    CASES["fit gpu"] = (fit("--trainer.accelerator", "gpu"), ["'gpu'", "no CUDA device", "--trainer.accelerator"])
    CASES["eval cuda"] = (["eval", "{ckpt}", "--device", "cuda"], ["cuda", "has none", "--device cpu"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_mistake_is_one_clear_message(
    case: str,
    made: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.chdir(tmp_path)
    words, expected = CASES[case]
    words = [word.format(**made) for word in words]
    if words[0] == "fit":
        words += ["--trainer.default_root_dir", str(tmp_path / "run")]
    printed = zoo_error(capsys, *words)
    message = printed[re.search(r"^zoo[ :]", printed, re.MULTILINE).start() :]
    assert len(message.strip().splitlines()) <= 2, message
    assert "usage:" not in printed
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"


def test_an_unreachable_hub_is_one_clear_message(
    made: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("HF_TOKEN", "hf_unreachable_test")
    printed = zoo_error(capsys, "push", str(made["model"]), "org/name")
    assert "could not reach the Hub to push to org/name" in printed and "HF_ENDPOINT" in printed


def test_debug_shows_the_traceback(made: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ZooError, match="from 1 to"):
        main(["eval", str(made["ckpt"]), "--count", "0", "--debug"])
    monkeypatch.setenv("ZOO_DEBUG", "1")
    with pytest.raises(ZooError, match="9..36"):
        main(["eval", str(made["ckpt"]), "--task.givens", "8"])


def test_bugs_keep_their_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only mistakes a user can fix are shortened; anything else is a bug to report, with its traceback."""
    from zoo.cli import download

    def broken(words: list[str]) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(download, "run", broken)
    with pytest.raises(KeyError, match="a bug"):
        main(["download", "org/name"])


def test_a_batch_larger_than_the_training_set_is_refused_before_the_run_writes_anything(tmp_path, capsys) -> None:
    """Found by the generated inputs: the loader refused it only after the run had made its log folder and
    written config.yaml there."""
    root = tmp_path / "run"
    printed = zoo_error(
        capsys, "fit", "-c", QUICKSTART_RECIPE, "--trainer.default_root_dir", str(root), "--data.batch_size", "100000"
    )
    assert "lower data.batch_size or raise data.train_count" in printed and "given as --data.batch_size" in printed
    assert not root.exists()


@pytest.mark.parametrize(
    "words",
    [["--data.batch_size", "٦٤"], ["--data.batch_size=٦٤"], ["--seed_everything=०१"], ["--seed_everything", "-3"]],
)
def test_fit_refuses_other_scripts_digits_and_seeds_numpy_cannot_take(words, tmp_path, capsys) -> None:
    """Found by the generated inputs: jsonargparse read '٦٤' as 64 through int(), and a seed outside 0..2**32-1
    reached Lightning's seed_everything, which raised a ValueError traceback."""
    root = tmp_path / "run"
    printed = zoo_error(capsys, "fit", "-c", QUICKSTART_RECIPE, "--trainer.default_root_dir", str(root), *words)
    assert "ASCII digits" in printed or "seed_everything must be a whole number from 0 to 2**32 - 1" in printed
    assert not root.exists()
