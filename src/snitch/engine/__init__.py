"""Running the checks: the runner, what the checks of one run share (context), their outcomes
(results) and the project's waivers.

May import: `snitch.violation`, `snitch.read`, `snitch.facts`, `snitch.standards` and other
modules of `snitch.engine`."""
