"""snitch: checks that a model repository follows the Model Standards."""

__version__ = "1.0.0"
