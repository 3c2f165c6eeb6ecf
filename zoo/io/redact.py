"""Keep values that came from the environment out of what the zoo writes for others to read.

Recipes may read environment variables (`${oc.env:NAME}`). The run's saved config holds them as written
(`${oc.env:NAME}`), not as resolved; model cards and exported recipes are scrubbed of the values of
secret-looking variables (tokens, keys, passwords) and of the Hugging Face token; `zoo push` refuses a
folder that still holds one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

# `${oc.env:NAME}` and `${oc.env:NAME,default}`
ENV_REFERENCE = re.compile(r"\$\{oc\.env:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,([^}]*))?\}")
SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH", re.IGNORECASE
)
# A value shorter than this is only redacted where it is a whole value, never inside other text.
_SUBSTRING_MIN = 8


def env_references(texts: Iterable[str]) -> dict[str, str]:
    """Variables named by `${oc.env:...}` in `texts` -> the value they resolve to now (default when unset)."""
    found: dict[str, str] = {}
    for text in texts:
        for name, default in ENV_REFERENCE.findall(text):
            value = os.environ.get(name, default.strip() if default else None)
            if value:
                found[name] = value
    return found


def _replace(value: Any, replacements: dict[str, str]) -> Any:
    """`value` with every environment value in it written back as its `${oc.env:NAME}` reference."""
    if isinstance(value, dict):
        return {key: _replace(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, replacements) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    text = str(value)
    for secret, reference in sorted(replacements.items(), key=lambda item: -len(item[0])):
        if text == secret:
            return reference
        if isinstance(value, str) and len(secret) >= _SUBSTRING_MIN and secret in text:
            text = text.replace(secret, reference)
    return text if isinstance(value, str) else value


def restore_references(config: dict[str, Any], references: dict[str, str]) -> dict[str, Any]:
    """A parsed config with values that came from `references` (name -> value) written as `${oc.env:NAME}`."""
    return _replace(config, {value: f"${{oc.env:{name}}}" for name, value in references.items()})


def secret_values() -> dict[str, str]:
    """Values that must never leave the machine: secret-looking environment variables, and the Hub token."""
    secrets = {
        name: value for name, value in os.environ.items() if SECRET_NAME.search(name) and len(value) >= _SUBSTRING_MIN
    }
    try:
        from huggingface_hub import get_token

        token = get_token()
    except Exception:  # no login, or an unreadable token file: nothing to hide
        token = None
    if token:
        secrets.setdefault("HF_TOKEN", token)
    return secrets


def scrub(text: str) -> str:
    """`text` with every secret value replaced by its `${oc.env:NAME}` reference."""
    for name, value in sorted(secret_values().items(), key=lambda item: -len(item[1])):
        text = text.replace(value, f"${{oc.env:{name}}}")
    return text


def secrets_in(text: str) -> list[str]:
    """Names of the secret values that `text` contains."""
    return sorted(name for name, value in secret_values().items() if value in text)
