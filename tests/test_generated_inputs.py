"""Generated bad inputs, every verb: a user's mistake ends with exit status 2, at most two lines on stderr, no
traceback, and nothing written.

`hypothesis` drives each verb with flag values out of range or in the wrong alphabet (unicode digits, signs,
huge numbers, empty text), output paths of every kind (devices, FIFOs, /proc, folders, missing folders, the
input file itself, links to it, existing files, `~user`), and damaged files (config.json with wrong types,
signs, missing keys or nesting 200,000 deep; truncated safetensors; catalog entries missing a key). The runs
are derandomised, so CI sees the same examples every time; the whole module takes well under two minutes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import TINY
from tests.helpers import TASK, build, write_checkpoint
from zoo import hub, tasks
from zoo.cli import main
from zoo.hub import catalog

SHIPPED_CATALOG = catalog.CATALOG_FILE

# Deterministic examples (the same in CI as here), no example database written into the checkout, and no
# shrinking: a failure reports the example as generated, and a failing run stays as short as a passing one.
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ---- a sandbox the runs may not change ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny model folder and checkpoint, a puzzle file, a home folder and an empty working folder."""
    root = tmp_path_factory.mktemp("sandbox")
    torch.set_num_threads(1)
    model = build("recursive")
    folder = hub.save(model, root / "model")
    checkpoint = write_checkpoint(model, root / "run" / "last.ckpt")
    task = tasks.get(**TASK)
    puzzles, _ = task.generate(3, seed=5)
    (root / "puzzles.txt").write_text("".join(task.format(p) + "\n" for p in puzzles))
    (root / "answers.txt").write_text("keep me\n")
    (root / "answers.txt").chmod(0o600)
    (root / "link-to-puzzles.txt").symlink_to(root / "puzzles.txt")
    (root / "folder").mkdir()
    (root / "home").mkdir()
    (root / "work").mkdir()
    os.mkfifo(root / "fifo")
    return {"root": root, "model": folder, "ckpt": checkpoint, "puzzles": root / "puzzles.txt"}


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under `root` with its kind, size, mode and modification time (links not followed)."""
    seen = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        seen[str(path.relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return seen


@contextlib.contextmanager
def inside(sandbox: dict[str, Path]) -> Iterator[None]:
    """Run in the sandbox's working folder, with HOME and the Hugging Face cache inside it and no network."""
    root = sandbox["root"]
    saved = {name: os.environ.get(name) for name in ("HOME", "HF_HOME", "HF_HUB_OFFLINE", "HF_TOKEN")}
    previous = os.getcwd()
    os.environ.update(HOME=str(root / "home"), HF_HOME=str(root / "home" / "hf"), HF_HUB_OFFLINE="1")
    os.environ.pop("HF_TOKEN", None)
    os.chdir(root / "work")
    try:
        yield
    finally:
        os.chdir(previous)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def zoo(sandbox: dict[str, Path], *words: str) -> tuple[int, str]:
    """Run `zoo WORDS` in-process inside the sandbox: (exit status, stderr). A traceback escapes as the error."""
    stderr, stdout = io.StringIO(), io.StringIO()
    with inside(sandbox), contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        try:
            main(list(words))
            code = 0
        except SystemExit as exit_info:
            code = exit_info.code if isinstance(exit_info.code, int) else 1
    return code, stderr.getvalue()


def refused(sandbox: dict[str, Path], *words: str) -> str:
    """Assert that `zoo WORDS` is a user mistake: status 2, one or two lines, no traceback, nothing written."""
    before = snapshot(sandbox["root"])
    code, printed = zoo(sandbox, *words)
    lines = printed.strip().splitlines()
    assert code == 2, (words, printed)
    assert "Traceback" not in printed, (words, printed)
    assert 1 <= len(lines) <= 2, (words, printed)
    assert snapshot(sandbox["root"]) == before, (words, printed)
    return printed


# ---- generated values --------------------------------------------------------------------------------

# Digits of other scripts: Python's int() reads them, the zoo must not.
UNICODE_DIGITS = st.sampled_from(["٣", "۴", "०१", "৫", "８", "߄", "𝟓", "²", "½"])
JUNK = st.text(alphabet=string.ascii_letters + string.punctuation + " \t", min_size=0, max_size=8).filter(
    lambda text: not text.strip().isdigit()
)


def whole_numbers_out_of(low: int, high: int) -> st.SearchStrategy[str]:
    """Text of whole numbers below `low` or above `high`, of every size."""
    return st.one_of(
        st.integers(max_value=low - 1).map(str),
        st.integers(min_value=high + 1).map(str),
        st.integers(min_value=high + 1, max_value=10**30).map(str),
    )


BAD_COUNT = st.one_of(whole_numbers_out_of(1, 10**6), UNICODE_DIGITS, JUNK, st.just("1e3"), st.just("2.5"))
# A batch larger than the puzzles is only a bound; below 1, past 2**63 or not ASCII digits it is a mistake.
BAD_BATCH = st.one_of(whole_numbers_out_of(1, 2**63 - 1), UNICODE_DIGITS, JUNK, st.just("1e3"), st.just("2.5"))
BAD_SEED = st.one_of(whole_numbers_out_of(0, 2**63 - 1), UNICODE_DIGITS, JUNK, st.just("1.0"))
BAD_BUDGET = st.one_of(
    st.integers(max_value=0).map(str),
    st.integers(min_value=10**7).map(str),
    st.tuples(st.integers(1, 4), st.integers(min_value=10**7)).map(lambda pair: f"{pair[0]}x{pair[1]}"),
    st.sampled_from(["", ",", "1,,2", "x", "8x", "x8", "8x0", "8x-1", "1x1x1", "1e3", "2.5", "inf", " "]),
    UNICODE_DIGITS,
    JUNK,
)
BAD_DEVICE = st.one_of(
    st.sampled_from(["mps", "meta", "xla", "cuda:99", "cpu:0:1", "", "cuda:-1", "vulkan", "hpu"]),
    JUNK,
).filter(lambda text: text != "cpu" and not (torch.cuda.is_available() and text.startswith("cuda")))
# Output paths a verb must refuse before any work: relative to the sandbox root unless absolute.
BAD_OUTPUTS = st.sampled_from(
    [
        "/dev/null",
        "/dev/full",
        "/proc/self/comm",
        "/proc/zoo-answers.txt",
        "/sys/zoo-answers.txt",
        "{root}/fifo",
        "{root}/folder",
        "{root}/puzzles.txt",
        "{root}/link-to-puzzles.txt",
        "{root}/answers.txt",
        "~no-such-user-here/answers.txt",
    ]
)


def out_path(sandbox: dict[str, Path], template: str) -> str:
    return template.format(root=sandbox["root"])


# ---- flags of every verb ---------------------------------------------------------------------------


@EXAMPLES
@given(flag=st.sampled_from(["--budget", "--seed", "--batch-size", "--device"]), data=st.data())
def test_solve_refuses_bad_flag_values(sandbox, flag, data) -> None:
    value = data.draw(
        {"--budget": BAD_BUDGET, "--seed": BAD_SEED, "--batch-size": BAD_BATCH, "--device": BAD_DEVICE}[flag]
    )
    refused(sandbox, "solve", str(sandbox["model"]), str(sandbox["puzzles"]), f"{flag}={value}")


@EXAMPLES
@given(flag=st.sampled_from(["--budgets", "--seed", "--count", "--batch-size", "--device"]), data=st.data())
def test_eval_refuses_bad_flag_values(sandbox, flag, data) -> None:
    strategies = {
        "--budgets": BAD_BUDGET,
        "--seed": BAD_SEED,
        "--count": BAD_COUNT,
        "--batch-size": BAD_BATCH,
        "--device": BAD_DEVICE,
    }
    value = data.draw(strategies[flag])
    refused(sandbox, "eval", str(sandbox["model"]), "--count", "2", f"{flag}={value}")


@EXAMPLES
@given(flag=st.sampled_from(["--budgets", "--seed", "--count", "--device"]), data=st.data())
def test_bench_refuses_bad_flag_values(sandbox, flag, data) -> None:
    strategies = {"--budgets": BAD_BUDGET, "--seed": BAD_SEED, "--count": BAD_COUNT, "--device": BAD_DEVICE}
    value = data.draw(strategies[flag])
    out = sandbox["root"] / "work" / "bench"
    refused(sandbox, "bench", str(sandbox["model"]), "--count", "2", "--out", str(out), f"{flag}={value}")


@EXAMPLES
@given(name=st.text(min_size=1, max_size=20).filter(lambda text: text.strip() and text not in catalog.entries()))
def test_models_refuses_names_outside_the_catalog(sandbox, name) -> None:
    refused(sandbox, "models", name)


@EXAMPLES
@given(source=st.text(min_size=1, max_size=30).filter(lambda text: text.strip() and "\x00" not in text))
def test_every_model_taking_verb_refuses_a_source_that_is_no_model(sandbox, source) -> None:
    if source in catalog.entries() or Path(sandbox["root"] / "work" / source).exists():
        return
    refused(sandbox, "eval", source, "--count", "1", "--budgets", "1")
    refused(sandbox, "solve", source, str(sandbox["puzzles"]), "--budget", "1")


@EXAMPLES
@given(repo_id=st.text(min_size=1, max_size=30), flag=st.sampled_from(["download", "push"]))
def test_hub_verbs_refuse_bad_repo_ids_offline(sandbox, repo_id, flag) -> None:
    if not repo_id.strip() or repo_id.startswith("-") or "\x00" in repo_id:
        return
    words = ["download", repo_id] if flag == "download" else ["push", str(sandbox["model"]), repo_id]
    refused(sandbox, *words)


# `zoo fit` takes numbers through Lightning's parser; each of these is refused before a run folder is made.
BAD_FIT_VALUES = {
    "--data.batch_size": st.one_of(st.integers(max_value=0).map(str), st.integers(min_value=10**6).map(str), JUNK),
    "--data.train_count": st.one_of(st.integers(max_value=-1).map(str), st.just("1.5"), UNICODE_DIGITS),
    "--seed_everything": st.one_of(
        st.integers(max_value=-1).map(str), st.integers(min_value=2**32).map(str), UNICODE_DIGITS, st.just("1.5")
    ),
}


@settings(EXAMPLES, max_examples=12)
@given(flag=st.sampled_from(sorted(BAD_FIT_VALUES)), data=st.data())
def test_fit_refuses_bad_settings_before_training(sandbox, flag, data) -> None:
    value = data.draw(BAD_FIT_VALUES[flag])
    recipe = str(Path(__file__).resolve().parents[1] / "recipes" / "quickstart.yaml")
    root = str(sandbox["root"] / "work" / "run")
    # TINY and one step: should a bad value ever be accepted, the test fails in seconds, not after a real fit.
    tiny = [*TINY, "--trainer.max_steps", "1"]
    refused(sandbox, "fit", "-c", recipe, *tiny, "--trainer.default_root_dir", root, f"{flag}={value}")


# ---- output paths of every kind ------------------------------------------------------------------------


@EXAMPLES
@given(template=BAD_OUTPUTS)
def test_solve_refuses_every_bad_output_before_thinking(sandbox, template) -> None:
    out = out_path(sandbox, template)
    refused(sandbox, "solve", str(sandbox["model"]), str(sandbox["puzzles"]), "--budget", "1", "--out", out)


@EXAMPLES
@given(template=BAD_OUTPUTS, verb=st.sampled_from(["eval", "bench"]))
def test_eval_and_bench_refuse_every_bad_output_folder(sandbox, template, verb) -> None:
    out = out_path(sandbox, template)
    if out.endswith(("answers.txt", "/folder")) and "missing" not in out and "~" not in out:
        out = str(sandbox["puzzles"])  # an existing file is no folder for results
    refused(sandbox, verb, str(sandbox["model"]), "--count", "1", "--budgets", "1", "--out", out)


@EXAMPLES
@given(template=BAD_OUTPUTS)
def test_export_and_download_refuse_every_bad_target(sandbox, template) -> None:
    out = out_path(sandbox, template)
    if out == str(sandbox["root"] / "folder"):
        out = str(sandbox["model"])  # another model's folder: needs --force
    if out == str(sandbox["model"]):
        return  # exporting the same weights over their own folder is allowed
    refused(sandbox, "export", str(sandbox["ckpt"]), out)
    refused(sandbox, "download", "org/name", "--dir", out)


# ---- damaged files -------------------------------------------------------------------------------------

# Settings of config.json that decide what is built: each takes a wrong type, sign or size.
LOAD_BEARING = ["width", "depth", "cycles", "latent_updates", "eval_budgets"]
WRONG_VALUES = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=2**31),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.fixture(scope="module")
def damaged(sandbox: dict[str, Path]) -> Path:
    """A copy of the sandbox model that each example damages in its own way."""
    folder = sandbox["root"] / "damaged"
    shutil.copytree(sandbox["model"], folder)
    return folder


def refused_model(sandbox: dict[str, Path], folder: Path) -> None:
    refused(sandbox, "eval", str(folder), "--count", "1", "--budgets", "1", "--out", str(sandbox["root"] / "e"))
    refused(sandbox, "solve", str(folder), str(sandbox["puzzles"]))


@EXAMPLES
@given(key=st.sampled_from(LOAD_BEARING), value=WRONG_VALUES)
def test_a_config_with_wrong_values_is_named_not_a_traceback(sandbox, damaged, key, value) -> None:
    config = json.loads((sandbox["model"] / "config.json").read_text())
    if key == "eval_budgets" and isinstance(value, list) and value and all(0 < v < 100 for v in value):
        return  # small whole step counts are valid budgets
    config["hparams"][key] = value
    (damaged / "config.json").write_text(json.dumps(config))
    refused_model(sandbox, damaged)


@EXAMPLES
@given(
    path=st.sampled_from(
        [(), ("family",), ("task",), ("hparams",), ("hparams", "task"), ("hparams", "regime"), ("weights_sha256",)]
    ),
    action=st.sampled_from(["delete", "list", "number", "nest"]),
)
def test_a_config_missing_or_mangling_a_key_is_named(sandbox, damaged, path, action) -> None:
    config = json.loads((sandbox["model"] / "config.json").read_text())
    if not path:
        text = {"delete": "", "list": "[]", "number": "7", "nest": "[" * 200_000 + "]" * 200_000}[action]
    else:
        *parents, last = path
        holder = config
        for key in parents:
            holder = holder[key]
        if action == "delete":
            if path in (("hparams", "regime"), ("weights_sha256",)):
                return  # older models were saved without these: the family's default regime, no checksum
            del holder[last]
        else:
            holder[last] = {"list": [holder[last]], "number": -7, "nest": json.loads("[" * 500 + "]" * 500)}[action]
        text = json.dumps(config)
    (damaged / "config.json").write_text(text)
    refused_model(sandbox, damaged)


@settings(EXAMPLES, max_examples=15)
@given(fraction=st.floats(min_value=0.0, max_value=0.999))
def test_a_truncated_safetensors_file_is_named_damaged(sandbox, damaged, fraction) -> None:
    (damaged / "config.json").write_bytes((sandbox["model"] / "config.json").read_bytes())
    weights = (sandbox["model"] / "model.safetensors").read_bytes()
    (damaged / "model.safetensors").write_bytes(weights[: int(len(weights) * fraction)])
    printed = refused(sandbox, "eval", str(damaged), "--count", "1", "--budgets", "1", "--out", "e")
    assert "model.safetensors" in printed


OPTIONAL_CATALOG_KEYS = {"files", "notes"}  # CatalogEntry gives them defaults


@settings(EXAMPLES, max_examples=15)
@given(data=st.data())
def test_a_catalog_entry_missing_or_mangling_a_key_is_named(sandbox, monkeypatch, data) -> None:
    raw = json.loads(SHIPPED_CATALOG.read_text())
    name = data.draw(st.sampled_from(sorted(raw["models"])))
    key = data.draw(st.sampled_from(sorted(raw["models"][name])))
    deleted = data.draw(st.booleans())
    if deleted:
        del raw["models"][name][key]
    else:
        raw["models"][name][key] = data.draw(st.sampled_from([None, -1, "", [], {"x": 1}]))
    damaged_catalog = sandbox["root"] / "home" / "catalog.json"
    damaged_catalog.write_text(json.dumps(raw))
    monkeypatch.setattr(catalog, "CATALOG_FILE", damaged_catalog)
    evaluate = ["eval", name, "--count", "1", "--budgets", "1", "--out", "e", "--force"]
    for words in (["models"], ["models", name], evaluate):
        before = snapshot(sandbox["root"])
        code, printed = zoo(sandbox, *words)
        assert "Traceback" not in printed and len(printed.strip().splitlines()) <= 2, printed
        assert code in (0, 2), printed
        if deleted and key not in OPTIONAL_CATALOG_KEYS:
            assert code == 2 and key in printed, printed
        if code == 2:
            assert snapshot(sandbox["root"]) == before
