"""One check of budgets, seeds, devices and memory for `zoo solve`, `zoo eval`, `zoo bench`, `model.solve` and a
config's `eval_budgets`: a budget ceiling, ASCII digits only, the memory this process may really use (cgroup
and RLIMIT_AS included), and a time estimate with a progress bar before a long solve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import zoo_error
from tests.helpers import TASK, build
from zoo import hub, tasks
from zoo.cli import main, options
from zoo.errors import ZooError
from zoo.evaluation import resources, sizing
from zoo.evaluation.budget import MAX_SAMPLES, MAX_STEPS, Budget, budgets_setting, parse_budgets
from zoo.evaluation.resources import Available
from zoo.models import RecursiveReasoner

GIB = 2**30


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A tiny deterministic model (4x4 Sudoku) saved as a model folder."""
    return hub.save(build("recursive"), tmp_path / "model")


@pytest.fixture
def puzzles(tmp_path: Path) -> Path:
    task = tasks.get(**TASK)
    boards, _ = task.generate(3, seed=5)
    path = tmp_path / "puzzles.txt"
    path.write_text("".join(task.format(board) + "\n" for board in boards))
    return path


def message(printed: str) -> str:
    """The one line of a refusal, without `zoo VERB: ` and the `(given as ...)` line."""
    return printed.strip().splitlines()[0].split(": ", 1)[1]


# ---- budgets ------------------------------------------------------------------------------------


def test_a_budget_is_held_under_one_ceiling_wherever_it_is_made() -> None:
    assert Budget(MAX_STEPS, MAX_SAMPLES).label == f"{MAX_STEPS}x{MAX_SAMPLES}"
    for steps, samples in ((MAX_STEPS + 1, 1), (1, MAX_SAMPLES + 1), (10**12, 1)):
        with pytest.raises(ZooError, match="beyond the ceiling.*lower the budget"):
            Budget(steps, samples)
    for bad in (1.5, 1e12, True, "16"):
        with pytest.raises(ZooError, match="whole numbers"):
            Budget.of(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["", " ", "1,,2", "1,", "١٦", "１６", "8x٤", "1e3", "-1", "8X4", "99999999999999999999999", "9" * 5000]
)
def test_budget_text_is_ascii_digits_never_empty_and_under_the_ceiling(text: str) -> None:
    with pytest.raises(ZooError, match="budget"):
        parse_budgets(text)


def test_budget_text_keeps_its_forms() -> None:
    assert parse_budgets("1, 2,8x4,0016") == [Budget(1), Budget(2), Budget(8, 4), Budget(16)]


def test_a_settings_list_of_budgets_refuses_what_is_not_a_budget() -> None:
    assert budgets_setting([1, "2", "8x4"]) == [Budget(1), Budget(2), Budget(8, 4)]
    for bad in ([1e12], [10**12], [True], [], "16", 16, [None], ["1,,2"]):
        with pytest.raises(ZooError, match="eval_budgets") as refused:
            budgets_setting(bad)
        assert refused.value.key == "eval_budgets"


def test_a_family_refuses_bad_validation_budgets_by_their_own_name() -> None:
    with pytest.raises(ZooError, match="val_budgets") as refused:
        RecursiveReasoner(TASK, val_budgets=[10**12], **RecursiveReasoner.tiny_settings)
    assert refused.value.key == "val_budgets"


@pytest.mark.parametrize("budget", ["99999999999999999999999", "100000", "16x100000", "", "١٦", "1,,2", "16385", "-3"])
def test_solve_refuses_a_bad_budget_before_any_work(folder, puzzles, budget, capsys) -> None:
    printed = zoo_error(capsys, "solve", str(folder), str(puzzles), "--budget", budget)
    assert "budget" in printed and "given as --budget" in printed and len(printed.strip().splitlines()) == 2


@pytest.mark.parametrize("verb", ["eval", "bench"])
def test_eval_and_bench_refuse_the_same_budgets(folder, verb, capsys) -> None:
    for budgets in ("99999999999999999999999", "", "١٦"):
        printed = zoo_error(capsys, verb, str(folder), "--budgets", budgets, "--count", "2")
        assert "budget" in printed and "given as --budgets" in printed


# ---- seeds, counts and devices ------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", "", "١", "２", "1.0", str(2**63), str(2**64), "9" * 5000])
@pytest.mark.parametrize("verb", ["solve", "eval", "bench"])
def test_every_verb_refuses_the_same_seeds(folder, puzzles, verb, seed, capsys) -> None:
    words = [str(folder), str(puzzles)] if verb == "solve" else [str(folder), "--count", "2"]
    printed = zoo_error(capsys, verb, *words, "--seed", seed)
    assert "2**63 - 1" in printed and "given as --seed" in printed


def test_the_largest_seed_reaches_every_generator(folder, puzzles, tmp_path, capsys) -> None:
    largest = str(2**63 - 1)
    main(["solve", str(folder), str(puzzles), "--seed", largest, "--budget", "1"])
    assert "3 puzzles at budget 1" in capsys.readouterr().err
    main(["eval", str(folder), "--seed", largest, "--count", "2", "--budgets", "1", "--out", str(tmp_path / "e")])
    assert json.loads((tmp_path / "e" / "results.json").read_text())["seed"] == 2**63 - 1
    assert options.seed(largest) == 2**63 - 1


@pytest.mark.parametrize("flag", ["--batch-size", "--count"])
def test_counts_are_ascii_digits(folder, flag, capsys) -> None:
    for value in ("١٦", "0", "-2", ""):
        assert flag in zoo_error(capsys, "eval", str(folder), flag, value)


@pytest.mark.parametrize("verb", ["eval", "bench"])
def test_a_count_of_puzzles_is_held_under_a_ceiling(folder, verb, capsys, tmp_path) -> None:
    """A mistyped count would generate puzzles for days: refused before any puzzle is generated."""
    printed = zoo_error(capsys, verb, str(folder), "--count", str(options.MAX_COUNT + 1), "--out", str(tmp_path / "o"))
    assert "--count must be a whole number from 1 to 1,000,000" in printed
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("device", ["mps", "meta", "xla", "cuda:٠", "cpu:0", "", "banana"])
def test_only_cpu_and_cuda_are_devices(folder, puzzles, device, capsys) -> None:
    for words in (["solve", str(folder), str(puzzles)], ["eval", str(folder)], ["bench", str(folder)]):
        printed = zoo_error(capsys, *words, "--device", device)
        assert "not a device" in printed and "given as --device" in printed


def test_cuda_without_a_gpu_is_refused(folder, puzzles, monkeypatch, capsys) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for device in ("cuda", "cuda:1"):
        assert "has none" in zoo_error(capsys, "solve", str(folder), str(puzzles), "--device", device)
    assert options.device(None) == torch.device("cpu")


# ---- samples on a model that does not sample ----------------------------------------------------


def test_samples_on_a_deterministic_model_are_refused_alike_everywhere(folder, puzzles, capsys) -> None:
    lines = {
        message(zoo_error(capsys, "solve", str(folder), str(puzzles), "--budget", "8x4")),
        message(zoo_error(capsys, "eval", str(folder), "--budgets", "1,8x4", "--count", "2")),
        message(zoo_error(capsys, "bench", str(folder), "--budgets", "1,8x4", "--count", "2")),
    }
    assert len(lines) == 1 and "deterministic" in lines.pop()
    with pytest.raises(ZooError, match="deterministic"):
        hub.load(folder).solve(np.zeros((1, 4, 4), dtype=np.int64), Budget(8, 4))


def test_a_deterministic_model_defaults_to_its_budgets_without_samples(tmp_path, puzzles, capsys) -> None:
    model = RecursiveReasoner(TASK, eval_budgets=[1, "2x1", "2x5"], **RecursiveReasoner.tiny_settings)
    folder = hub.save(model, tmp_path / "listed-samples")  # as trm-nqueens8 lists 8x5 and 8x20
    main(["solve", str(folder), str(puzzles)])
    assert "3 puzzles at budget 2:" in capsys.readouterr().err
    main(["eval", str(folder), "--count", "2", "--out", str(tmp_path / "e")])
    assert set(json.loads((tmp_path / "e" / "results.json").read_text())["exact_match"]) == {"1", "2"}


# ---- config.json -------------------------------------------------------------------------------


@pytest.mark.parametrize("budgets", [[1e12], [10**12], [16, "1e12"], "16"])
def test_a_config_with_an_impossible_eval_budget_is_refused_on_load(folder, puzzles, budgets, capsys) -> None:
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["hparams"]["eval_budgets"] = budgets
    config_path.write_text(json.dumps(config))
    with pytest.raises(ZooError) as refused:
        hub.load(folder)
    assert str(config_path) in str(refused.value) and "eval_budgets" in str(refused.value)
    printed = zoo_error(capsys, "solve", str(folder), str(puzzles))
    assert str(config_path) in printed and len(printed.strip().splitlines()) == 1


# ---- memory ------------------------------------------------------------------------------------


def fake_machine(root: Path, cgroup: str, files: dict[str, str], available_gib: int = 64) -> Path:
    """/proc and /sys/fs/cgroup of a machine with `available_gib` GiB free and the cgroup files `files`."""
    (root / "proc" / "self").mkdir(parents=True)
    (root / "proc" / "meminfo").write_text(f"MemTotal: 1 kB\nMemAvailable:   {available_gib * 2**20} kB\n")
    (root / "proc" / "self" / "cgroup").write_text(cgroup)
    for name, text in files.items():
        path = root / "sys" / "fs" / "cgroup" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_free_ram_is_bounded_by_the_tightest_enclosing_cgroup_v2(tmp_path: Path) -> None:
    root = fake_machine(
        tmp_path,
        "0::/jobs.slice/job\n",
        {
            "jobs.slice/memory.max": f"{8 * GIB}\n",
            "jobs.slice/memory.current": f"{6 * GIB}\n",
            "jobs.slice/memory.stat": f"anon 1\ninactive_file {GIB}\n",  # reclaimable cache counts as free
            "jobs.slice/job/memory.max": "max\n",
            "jobs.slice/job/memory.current": f"{5 * GIB}\n",
        },
    )
    assert resources.process_memory(root) == Available(3 * GIB, "the cgroup memory limit")


def test_free_ram_is_bounded_by_a_cgroup_v1_limit(tmp_path: Path) -> None:
    root = fake_machine(
        tmp_path,
        "5:cpu:/\n4:memory:/docker/abc\n",
        {
            "memory/docker/abc/memory.limit_in_bytes": f"{4 * GIB}\n",
            "memory/docker/abc/memory.usage_in_bytes": f"{3 * GIB}\n",
            "memory/memory.limit_in_bytes": "9223372036854771712\n",  # the root: no limit
            "memory/memory.usage_in_bytes": f"{40 * GIB}\n",
        },
    )
    assert resources.process_memory(root) == Available(GIB, "the cgroup memory limit")
    unlimited = fake_machine(tmp_path / "free", "0::/\n", {"memory.max": "max\n", "memory.current": "1\n"}, 2)
    assert resources.process_memory(unlimited) == Available(2 * GIB, "free RAM")


def test_free_ram_is_bounded_by_the_address_space_limit() -> None:
    script = (
        "import resource\n"
        "from zoo.evaluation import resources\n"
        "mapped = resources._kilobytes(open('/proc/self/status').read(), 'VmSize')\n"
        "resource.setrlimit(resource.RLIMIT_AS, (mapped + 2**29, resource.getrlimit(resource.RLIMIT_AS)[1]))\n"
        "print(*resources.process_memory(), sep=';')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    room, bound = done.stdout.strip().split(";")
    assert 0 < int(room) <= 2**29 and bound == "the address-space limit (ulimit -v)"


def test_a_cgroup_limit_refuses_thinking_that_would_not_fit(folder, puzzles, tmp_path, monkeypatch, capsys) -> None:
    files = {"memory.max": f"{2**20}\n", "memory.current": f"{2**19}\n"}  # 512 KiB left in the container
    monkeypatch.setattr(resources, "ROOT", fake_machine(tmp_path / "machine", "0::/\n", files))
    words = ["solve", str(folder), str(puzzles), "--budget", "4000", "--batch-size", "3", "--device", "cpu"]
    printed = zoo_error(capsys, *words)
    assert "0.0 GiB is free on cpu (bounded by the cgroup memory limit)" in printed
    assert "lower --batch-size to 1" in printed or "lower the budget" in printed
    monkeypatch.setattr(sizing, "available_memory", lambda device: Available(GIB // 4, "free RAM"))
    model = hub.load(folder)
    with pytest.raises(ZooError, match="lower the number of boards per call to"):
        model.solve(np.zeros((512, 4, 4), dtype=np.int64), 4096)


def test_zoo_load_solve_refuses_an_impossible_budget() -> None:
    model = build("recursive")
    for budget in (10**12, 1e12):
        with pytest.raises(ZooError, match="budget"):
            model.solve(np.zeros((1, 4, 4), dtype=np.int64), budget)  # type: ignore[arg-type]


# ---- time --------------------------------------------------------------------------------------


def test_a_long_solve_is_estimated_and_shown_with_progress(folder, puzzles, monkeypatch, capsys) -> None:
    monkeypatch.delenv("ZOO_PROGRESS", raising=False)
    monkeypatch.setattr(sizing, "seconds_per_step", lambda model, batch, samples: 10.0)  # a slow machine
    main(["solve", str(folder), str(puzzles), "--budget", "16", "--batch-size", "2", "--device", "cpu"])
    printed = capsys.readouterr()
    assert "3 puzzles at budget 16 will take about 5 min on cpu" in printed.err  # 10 s x 16 steps x 2 batches
    assert "solving" in printed.err and "2/2" in printed.err and len(printed.out.splitlines()) == 3


def test_a_short_solve_is_neither_timed_nor_announced(folder, puzzles, monkeypatch, capsys) -> None:
    def timed(*_: object) -> float:
        raise AssertionError("a solve of a few steps is not worth timing")

    monkeypatch.setattr(sizing, "seconds_per_step", timed)
    main(["solve", str(folder), str(puzzles), "--budget", "2"])
    assert "will take" not in capsys.readouterr().err


def test_the_estimate_comes_from_one_timed_step() -> None:
    model = build("recursive")
    batch = tasks.get(**TASK).encode(np.zeros((4, 4, 4), dtype=np.int64))
    seconds = sizing.expected_seconds(model, batch, Budget(64), count=8)
    assert seconds is not None and seconds > 0
    assert sizing.expected_seconds(model, batch, Budget(2), count=4) is None
    assert [sizing.duration(s) for s in (45, 300, 4 * 3600)] == ["45 s", "5 min", "4.0 h"]
