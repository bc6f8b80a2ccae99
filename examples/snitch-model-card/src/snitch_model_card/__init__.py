"""ACME's model-card standard for snitch (standard acme-1); snitch loads it from the
`snitch.standards` entry point, this package needs no other wiring."""
