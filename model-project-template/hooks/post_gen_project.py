"""Create the local-only folders the project expects (git ignores their contents)."""

from pathlib import Path

for folder in ("datasets", "weights"):
    Path(folder).mkdir(exist_ok=True)
