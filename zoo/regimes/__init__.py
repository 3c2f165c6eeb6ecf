"""Training regimes: the objective (and any data corruption) a family is trained with."""

from zoo.regimes.base import CAPABILITIES, Regime, check_pairing, instantiate_regime, missing_capabilities
from zoo.regimes.deep_supervision import DeepSupervision
from zoo.regimes.energy_descent import EnergyDescent, TruncatedEnergyDescent
from zoo.regimes.grpo import GRPO
from zoo.regimes.trace_sft import TraceSFT
from zoo.regimes.variational import VariationalRecursion

__all__ = [
    "CAPABILITIES",
    "DeepSupervision",
    "EnergyDescent",
    "GRPO",
    "Regime",
    "TraceSFT",
    "TruncatedEnergyDescent",
    "VariationalRecursion",
    "check_pairing",
    "instantiate_regime",
    "missing_capabilities",
]
