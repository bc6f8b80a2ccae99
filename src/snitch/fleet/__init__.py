"""`snitch fleet`: check many projects (`check`), keep their history (`history`), split the work
into shards and merge them (`shards`), and write the fleet's pages (`pages`, with fleet.html,
fleet.css and fleet.js, read as package data).

May import: `snitch.violation`, `snitch.read`, `snitch.facts`, `snitch.standards`,
`snitch.engine`, `snitch.reports` and other modules of `snitch.fleet`."""
