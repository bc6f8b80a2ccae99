"""The Model Standards: the document parsed (`document`), the organisation's config (`config`),
the registry of built-in and installed standards (`registry`), and one module per numbered
standard, `standard_<N>`, whose `test_*` functions are its checks (the public check ids).

May import: `snitch.violation`, `snitch.read`, `snitch.facts` and other modules of
`snitch.standards`."""
