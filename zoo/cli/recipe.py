"""What a `zoo fit|validate|test|predict` command line is made of: recipe files and flags, checked up front.

Before Lightning's parser sees them, recipe files are checked to exist, to be valid YAML (an error names the
file and line), to be non-empty mappings, to name only registered families and regimes (nothing a recipe names
is imported to find out), and to read only environment variables that are set. Afterwards `where(key)` says
where a setting came from — a flag, or a file and line — for error messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from zoo import known
from zoo.errors import ZooError
from zoo.io.redact import ENV_REFERENCE

EXAMPLE = "see recipes/quickstart.yaml"


# A setting of the regime, as recipes and flags spell it.
REGIME_SETTING = re.compile(r"model(?:\.init_args)?\.regime(?:\.init_args)?\.(?P<name>\w+)")


def _walk(node: yaml.Node, prefix: str = "") -> Iterator[tuple[str, yaml.Node]]:
    """(dotted key, value node) for every key of a composed YAML mapping, depth first."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}{key_node.value}"
            yield key, value_node
            yield from _walk(value_node, key + ".")


def _spellings(key: str) -> list[str]:
    """A dotted key as recipes may write it: subclass settings with or without `init_args`."""
    parts = key.split(".")
    plain = ".".join(part for part in parts if part != "init_args")
    spellings = [key, plain]
    if parts[0] in ("model", "data") and "init_args" not in parts and len(parts) > 1:
        spellings.append(".".join([parts[0], "init_args", *parts[1:]]))
    return list(dict.fromkeys(spellings))


class RecipeSources:
    """The recipe files (`-c`/`--config`) and flags of one command line, in the order given."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.files = [Path(value) for flag, value in zip(words, words[1:]) if flag in ("-c", "--config")]
        self.files += [Path(word.split("=", 1)[1]) for word in words if word.startswith("--config=")]
        self._nodes: dict[Path, yaml.Node | None] = {}

    # ---- checks before parsing ---------------------------------------------------------------------

    def check(self) -> None:
        """Raise `ZooError` for a missing, malformed or empty recipe, an unknown family or regime, or an
        environment variable that is read but not set."""
        if any(word in ("-h", "--help") for word in self.words):
            return
        named = any(word.startswith(("--data", "--model", "--config")) for word in self.words)
        if self.words[:1] and self.words[0] in ("fit", "validate", "test", "predict") and not self.files and not named:
            raise ZooError(
                f"no recipe: give one with -c, e.g. `zoo {self.words[0]} -c recipes/quickstart.yaml` (see recipes/)"
            )
        for path in self.files:
            self._check_file(path)
        for key, value, where in self._class_paths():
            lookup = known.regime if key.endswith("regime.class_path") or key.endswith("regime") else known.family
            lookup(value, where)
        self._check_moved_settings()

    def _check_moved_settings(self) -> None:
        """Refuse a regime setting that is now the family's (it changes how the model thinks), saying where it goes."""
        moved = {name for regime in known.regimes() for name in regime.moved_to_family}
        keys = [key for node in self._nodes.values() for key, _ in _walk(node)]
        keys += [flag[2:] for flag, _ in self._flag_values()]
        for key in keys:
            match = REGIME_SETTING.fullmatch(key)
            if match and match["name"] in moved:
                raise ZooError(
                    f"{match['name']} is a setting of the family now, not of its regime (it changes how the model "
                    f"thinks, whatever trains it): write it as model.init_args.{match['name']}",
                    key=f"regime.init_args.{match['name']}",
                )

    def _check_file(self, path: Path) -> None:
        if not path.is_file():
            raise ZooError(
                f"recipe file not found: {path}\n"
                "  give a path to a YAML recipe, e.g. `zoo fit -c recipes/quickstart.yaml` (see recipes/)"
            )
        text = path.read_text(errors="replace")
        try:
            node = yaml.compose(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            place = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ZooError(f"{path}{place} is not valid YAML: {problem}; fix the recipe there ({EXAMPLE})") from None
        if node is None:
            raise ZooError(f"{path} is empty: a recipe needs the sections model:, data: and trainer: ({EXAMPLE})")
        if not isinstance(node, yaml.MappingNode):
            raise ZooError(
                f"{path} is not a recipe: its top level must be sections (model:, data:, trainer:), {EXAMPLE}"
            )
        self._nodes[path] = node
        for key, value in _walk(node):
            if isinstance(value, yaml.ScalarNode) and isinstance(value.value, str):
                for name, default in ENV_REFERENCE.findall(value.value):
                    if name not in os.environ and not default:
                        raise ZooError(
                            f"{path}, line {value.start_mark.line + 1} ({key}) reads the environment variable {name}, "
                            f"which is not set: set it, or give a default as ${{oc.env:{name},DEFAULT}}"
                        )

    def _class_paths(self) -> Iterator[tuple[str, str, str]]:
        """(key, class path, where) for the family and regime each file and flag names."""
        wanted = (
            "model",
            "model.class_path",
            "model.init_args.regime.class_path",
            "model.regime.class_path",
            "model.init_args.regime",
            "model.regime",
        )
        for path, node in self._nodes.items():
            for key, value in _walk(node):
                if key in wanted and isinstance(value, yaml.ScalarNode) and value.value:
                    yield key, value.value, f"{path}, line {value.start_mark.line + 1} ({key})"
        for flag, value in self._flag_values():
            if flag[2:] in wanted:
                yield flag[2:], value, f"flag {flag}"

    def _flag_values(self) -> Iterator[tuple[str, str]]:
        for index, word in enumerate(self.words):
            if not word.startswith("--"):
                continue
            if "=" in word:
                flag, value = word.split("=", 1)
                yield flag, value
            elif index + 1 < len(self.words):
                yield word, self.words[index + 1]

    # ---- where a setting came from -----------------------------------------------------------------

    def where(self, key: str) -> str | None:
        """'given as --data.batch_size', 'set in recipes/x.yaml, line 40 (data.batch_size)', or None if unset.

        Files and flags count in the order given, as the parser applies them: the last one that sets the key wins.
        """
        spellings = [s for prefix in ("", "model.init_args.", "data.") for s in _spellings(prefix + key)]
        flags = {f"--{spelling}" for spelling in spellings}
        found = None
        for index, word in enumerate(self.words):
            if word in ("-c", "--config") and index + 1 < len(self.words):
                found = self._set_in_file(Path(self.words[index + 1]), spellings) or found
            elif word.startswith("--config="):
                found = self._set_in_file(Path(word.split("=", 1)[1]), spellings) or found
            elif word.split("=", 1)[0] in flags:
                found = f"given as {word.split('=', 1)[0]}"
        return found

    def _set_in_file(self, path: Path, spellings: list[str]) -> str | None:
        node = self._nodes.get(path)
        if node is None and path.is_file():
            try:
                node = self._nodes[path] = yaml.compose(path.read_text(errors="replace"))
            except yaml.YAMLError:
                return None
        for found, value in _walk(node) if node is not None else ():
            if found in spellings:
                return f"set in {path}, line {value.start_mark.line + 1} ({found})"
        return None

    def env_keys(self) -> dict[str, str]:
        """Dotted key -> the text as written, for every value of the recipe files that reads the environment."""
        written: dict[str, str] = {}
        for path in self.files:
            node = self._nodes.get(path)
            for key, value in _walk(node) if node is not None else ():
                if isinstance(value, yaml.ScalarNode) and ENV_REFERENCE.search(str(value.value)):
                    written[key] = value.value
        return written

    def texts(self) -> list[str]:
        return [path.read_text(errors="replace") for path in self.files if path.is_file()] + self.words


def set_key(config: dict[str, Any], key: str, value: Any) -> bool:
    """Set dotted `key` in nested dicts when it exists; whether it did."""
    *parents, last = key.split(".")
    node: Any = config
    for part in parents:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    if not isinstance(node, dict) or last not in node:
        return False
    node[last] = value
    return True
