"""Training regimes: the objective (and any data corruption) a family is trained with."""

from zoo.regimes.base import Regime, instantiate_regime
from zoo.regimes.deep_supervision import DeepSupervision
from zoo.regimes.energy_descent import EnergyDescent
from zoo.regimes.variational import VariationalRecursion

__all__ = ["DeepSupervision", "EnergyDescent", "Regime", "VariationalRecursion", "instantiate_regime"]
