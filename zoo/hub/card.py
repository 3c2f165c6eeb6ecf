"""The model card (README.md of a model folder) and the recipe reconstructed when a run left none."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from zoo import registry
from zoo.evaluation.budget import parse_budgets
from zoo.evaluation.results import format_table
from zoo.evaluation.training_cost import training_entry
from zoo.hub.layout import (
    CONFIG_NAME,
    LIBRARY_NAME,
    PLOT_NAME,
    RECIPE_NAME,
    RESULTS_NAME,
    WEIGHTS_NAME,
    evaluation_weights,
    plain_hparams,
)
from zoo.hub.sources import looks_like_path
from zoo.models.base import ReasoningFamily


def _kebab(name: str) -> str:
    """A class name as a tag: EnergyDescent -> energy-descent; a run of capitals is one word: TraceSFT -> trace-sft."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def describe_task(spec: dict[str, Any]) -> str:
    options = ", ".join(f"{key}={value}" for key, value in spec.items() if key != "name")
    return f"{spec['name']} ({options})" if options else spec["name"]


def reconstruct_recipe(model: ReasoningFamily) -> str:
    """A recipe that builds `model` again, from its hyper-parameters (trainer and data sizes are unknown)."""
    hparams = plain_hparams(model)
    hparams.pop("task", None)
    if isinstance(hparams.get("regime"), dict):
        hparams["regime"] = {**hparams["regime"], "class_path": registry.recipe_path(model.regime)}
    recipe = {
        "model": {"class_path": registry.recipe_path(model), "init_args": hparams},
        "data": {"task": model.task.spec()},
    }
    return (
        "# Reconstructed from the model's hyper-parameters: the trainer and data settings other than the task\n"
        "# were not recorded. Add them (see recipes/ in belief-zoo) before training with it.\n"
        + yaml.safe_dump(recipe, sort_keys=False)
    )


def eval_results(results: dict[str, Any], task: dict[str, Any], source: str) -> list[EvalResult]:
    """One model-index entry per (metric, budget) of a results.json."""
    entries = []
    spec = results.get("task", task)
    names = {"exact_match": f"verified exact match ({source})", "coverage": "coverage", "diversity": "diversity"}
    for metric in ("exact_match", "coverage", "diversity"):
        for label, value in results.get(metric, {}).items():
            budget = parse_budgets(label)[0]
            entries.append(
                EvalResult(
                    task_type=spec["name"],
                    task_name=f"{spec['name']} puzzles",
                    dataset_type=f"{LIBRARY_NAME}/{spec['name']}",
                    dataset_name=f"generated {describe_task(spec)}, held-out split",
                    dataset_config=json.dumps(spec, sort_keys=True),
                    dataset_split="test",
                    dataset_args={**spec, "puzzles": results.get("puzzles"), "seed": results.get("seed", 0)},
                    metric_type=metric,
                    metric_value=round(float(value), 4),
                    metric_name=f"{names[metric]}, budget {budget.steps} steps x {budget.samples} samples",
                    metric_config=f"budget={label}",
                )
            )
    return entries


def model_card(
    model: ReasoningFamily,
    *,
    base: ModelCardData | None = None,
    name: str = "belief-zoo model",
    reference: str = "MODEL",
    catalog_name: str | None = None,
    results: dict[str, Any] | None = None,
    recipe: str | None = None,
    recipe_source: str | None = None,
    license: str | None = None,
    has_plot: bool = False,
) -> ModelCard:
    """README.md of a model folder: YAML metadata (library, license, tags, model-index), what the model is and,
    where its `training_record` says, the compute it was trained with, its accuracy against inference budget,
    how to evaluate and fine-tune it, and the recipe that trained it.

    The usage lines name the model by `catalog_name` where it ships with belief-zoo (offline), else by
    `reference`: its Hub repo id, or the folder it was exported to; downloads always name the repo id.
    """
    family = type(model).__name__
    is_repo_id = not looks_like_path(reference) and not Path(reference).exists()
    usage = catalog_name or reference
    regime_spec = dict(model.hparams).get("regime")
    regime_path = regime_spec.get("class_path", "") if isinstance(regime_spec, dict) else ""
    regime = str(regime_path).rpartition(".")[2] or "unknown"
    spec = model.task.spec()
    _, weights = evaluation_weights(model)
    data = ModelCardData(**(base.to_dict() if base is not None else {"library_name": LIBRARY_NAME}))
    data.license = license or data.license or "apache-2.0"
    data.tags = sorted({*(data.tags or []), _kebab(family), spec["name"], _kebab(regime)})
    data.model_name = name
    try:
        recipe_data = yaml.safe_load(recipe) if recipe else None
    except yaml.YAMLError:
        recipe_data = None  # the card still shows the recipe as text
    start = recipe_data.get("init_from") if isinstance(recipe_data, dict) else None
    if isinstance(start, str) and not looks_like_path(start) and not Path(start).exists():
        data.base_model = start  # fine-tuned from a Hub model
    source = None
    if results is not None:
        source = "zoo eval" if "model" in results else "zoo fit (test split)"
        data.eval_results = eval_results(results, spec, source)

    doc = (type(model).__doc__ or "").strip().splitlines()
    sections = [
        f"# {name}",
        f"A **{family}** from belief-zoo ({doc[0].rstrip('.') if doc else family}), trained on "
        f"**{describe_task(spec)}** with the **{regime}** regime. It thinks in explicit steps: give it a larger "
        "inference budget (more steps, or more samples for families that sample) and measure what it buys.",
        "| | |\n|---|---|\n"
        f"| family | `{family}` |\n| task | `{json.dumps(spec)}` |\n| regime | `{regime}` |\n"
        f"| weights | {'EMA (the evaluation weights)' if weights == 'ema' else 'trained weights (no EMA kept)'} |\n"
        f"| parameters | {sum(p.numel() for p in model.model.parameters()):,} |\n"
        f"| budgets measured in training | {', '.join(b.label for b in model.eval_budgets)} |"
        + (
            ""
            if model.val_budgets == model.eval_budgets
            else f" (validation during training: {', '.join(b.label for b in model.val_budgets)})"
        ),
    ]
    training = training_entry(model)
    if training is not None:
        sections.append(
            f"Trained for {training['steps']:,} steps of batch {training['batch_size']:,}: "
            f"{training['flops']:.3g} training FLOPs (forward + backward, counted like the inference FLOPs)."
        )
    if results is not None:
        where = f", {results['machine']}" if results.get("machine") else ""
        sections += [
            "## Accuracy against inference budget",
            f"Verified exact match (any valid answer counts) on {results.get('puzzles', '?')} held-out puzzles of "
            f"{describe_task(results.get('task', spec))}, measured by `{source}`{where}.",
            format_table(results, markdown=True),
        ]
        if has_plot:
            sections.append(f"![verified exact match against thinking steps]({PLOT_NAME})")
    sections.append("## Evaluate")
    if catalog_name:
        sections.append(
            f"This model ships with belief-zoo as the catalog model `{catalog_name}` and works offline by that name"
            + (f"; on the Hub it is `{reference}` (`zoo download {reference}`)." if is_repo_id else ".")
        )
    sections += [
        "```bash\n# with belief-zoo installed (`pip install -e .` in its repository)\n"
        f"zoo eval {usage} --count 500                 # table + plot at the model's budgets\n"
        f"zoo eval {usage} --budgets 1,2,4,8,16,32     # other budgets\n"
        + (f"zoo eval {usage} --task.givens N            # other difficulty, same board\n" if "givens" in spec else "")
        + "```",
        "```python\nimport zoo\n\n"
        f"model = zoo.load({usage!r})   # eval mode, weights loaded strictly\n"
        f"puzzles, solutions = model.task.generate(4, seed=0)\n"
        f"answers = model.solve(puzzles, budget=16)\n```",
        "## Fine-tune",
        f"Start a recipe from these weights with `init_from` (the optimiser starts fresh; family, task and board "
        f"size must match, difficulty may change). `{RECIPE_NAME}` in this repository is the recipe that trained "
        "the model:",
        "```bash\n"
        + (f"zoo download {reference} --dir model\n" if is_repo_id else "")
        + f"zoo fit -c {'model' if is_repo_id else reference}/{RECIPE_NAME} --init_from {usage}"
        + (" --data.task.givens N" if "givens" in spec else "")
        + " --trainer.default_root_dir runs/finetune\n```\n"
        "belief-zoo ships ready-made fine-tuning recipes in `recipes/finetune/`.",
    ]
    if recipe:
        if recipe_source == "reconstructed":
            origin = "Reconstructed from the model's hyper-parameters (trainer and data settings were not recorded):"
        else:
            origin = f"From {recipe_source or 'the training run'}:"
        sections += ["## Training recipe", origin, f"```yaml\n{recipe.rstrip()}\n```"]
    sections += [
        "## Files",
        f"- `{CONFIG_NAME}`: family, task, hyper-parameters (regime included), zoo version\n"
        f"- `{WEIGHTS_NAME}`: the evaluation weights ({weights}); belief-zoo never unpickles downloaded files\n"
        f"- `{RECIPE_NAME}`, `{RESULTS_NAME}`, `{PLOT_NAME}`: the recipe and the measurements above",
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n")


_LOAD_LINE = re.compile(r"zoo\.load\('([^'\n]+)'\)")


def card_for_hub(text: str, repo_id: str, *, keep: Collection[str] = (), renamed: dict[str, str] | None = None) -> str:
    """The card `text` as it should read on the Hub under `repo_id`.

    A card's usage lines (`zoo eval X`, `zoo.load('X')`, `--init_from X`, `zoo download X`) name the model as
    it was exported: a local folder, or a repo id. On the Hub they name `repo_id`, and fine-tuning from a
    folder's recipe downloads it first. Names in `keep` (catalog names, which work wherever belief-zoo is
    installed) stay; each key of `renamed` becomes its value first. Nothing else in the card changes, so
    what a user wrote into it is kept.
    """
    for old, new in (renamed or {}).items():
        text = text.replace(old, new)
    found = _LOAD_LINE.search(text)
    if found is None or found.group(1) in (repo_id, *keep):
        return text
    named = re.escape(found.group(1))
    text = re.sub(
        rf"zoo fit -c {named}/{re.escape(RECIPE_NAME)}",
        lambda _: f"zoo download {repo_id} --dir model\nzoo fit -c model/{RECIPE_NAME}",
        text,
    )
    text = re.sub(rf"zoo\.load\('{named}'\)", lambda _: f"zoo.load('{repo_id}')", text)
    return re.sub(rf"(zoo eval |zoo download |--init_from ){named}(?=\s)", lambda m: m.group(1) + repo_id, text)
