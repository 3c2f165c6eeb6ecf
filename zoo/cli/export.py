"""`zoo export CKPT OUT_DIR`: a checkpoint of `zoo fit` -> a model folder in the Hugging Face Hub layout."""

from __future__ import annotations

from pathlib import Path

from zoo.cli.report import ArgumentParser


def run(words: list[str]) -> None:
    parser = ArgumentParser(
        prog="zoo export",
        description="Turn a checkpoint written by `zoo fit` into a model folder in the Hugging Face Hub layout: "
        "config.json, model.safetensors (EMA weights where the family keeps them) and a README.md model card with "
        "the run's results, plot and recipe. Runs no training. The folder is written whole or not at all.",
    )
    parser.add_argument("checkpoint", help="a .ckpt written by `zoo fit`")
    parser.add_argument("out_dir", type=Path, help="the folder to write (created if needed)")
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="results.json for the card (default: the run's, found next to the checkpoint)",
    )
    parser.add_argument(
        "--recipe", type=Path, default=None, help="the recipe for the card (default: the run's config.yaml)"
    )
    parser.add_argument(
        "--repo-id", default=None, help="the Hub id the card's commands name, e.g. org/name (default: OUT_DIR)"
    )
    parser.add_argument(
        "--catalog-name", default=None, help="the catalog name the card's commands use (catalog models only)"
    )
    parser.add_argument("--name", default=None, help="the model's name in the card (default: OUT_DIR's name)")
    parser.add_argument("--license", default=None, help="the card's license (default: apache-2.0)")
    parser.add_argument(
        "--overwrite-card", action="store_true", help="replace the card of the same model (kept by default)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write over another model's export (all its files are "
        "replaced) or into a folder holding other files (they are kept)",
    )
    args = parser.parse_args(words)
    from zoo import hub

    written = hub.export(
        args.checkpoint,
        args.out_dir,
        results=args.results,
        recipe=args.recipe,
        name=args.name,
        repo_id=args.repo_id,
        catalog_name=args.catalog_name,
        license=args.license,
        overwrite_card=args.overwrite_card,
        force=args.force,
    )
    if written.replaced:
        print(f"replaced {written.replaced} (--force)")
    if written.kept_card:
        print(
            f"kept the existing {written.folder / hub.CARD_NAME} (same model; pass --overwrite-card to write a new one)"
        )
    print(f"exported: {written.folder}")
