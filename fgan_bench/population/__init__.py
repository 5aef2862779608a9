"""Population training: many runs of one architecture in one compiled step (see ``docs/population.md``)."""

from fgan_bench.population.engine import PopulationTrainer, check_compatible, population_batches
from fgan_bench.population.runs import group_compatible, run_population
from fgan_bench.population.stacked import NotStackable, StackedNetwork, register_stacked_layer, stack_network

__all__ = [
    "NotStackable",
    "PopulationTrainer",
    "StackedNetwork",
    "check_compatible",
    "group_compatible",
    "population_batches",
    "register_stacked_layer",
    "run_population",
    "stack_network",
]
