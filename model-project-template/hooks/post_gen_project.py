"""Create the local-only folders the project expects (git ignores their contents), drop the
config copy when the project was rendered under the standards' defaults (there is nothing to copy),
and drop bytecode folders cookiecutter copied from the template (pip compiles the template's .py
files when it installs snitch's wheel, which carries the template for `snitch new`)."""

import shutil
from pathlib import Path

for folder in ("datasets", "weights"):
    Path(folder).mkdir(exist_ok=True)

if not Path(".snitch/config.yaml").read_text(encoding="utf-8").strip():
    shutil.rmtree(".snitch")

for cache in [path for path in Path(".").rglob("__pycache__") if path.is_dir()]:
    shutil.rmtree(cache)
