"""The outputs of one run: the text report written as the run goes (`text`) and the files a CI
reads (`formats`: JSON, JUnit XML, GitLab Code Quality, SARIF).

May import: `snitch.violation`, `snitch.read`, `snitch.facts`, `snitch.standards`,
`snitch.engine` and other modules of `snitch.reports`."""
