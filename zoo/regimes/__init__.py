"""Training regimes: the objective (and any data corruption) a family is trained with."""

from zoo.regimes.base import Regime, instantiate_regime
from zoo.regimes.deep_supervision import DeepSupervision

__all__ = ["DeepSupervision", "Regime", "instantiate_regime"]
