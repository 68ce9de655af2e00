"""Entry point for ``spark-submit``: ``python -m data_layers facts --engine spark`` as a script.

spark-submit runs a file, not a module; this one runs the ``facts`` command with the Spark engine
and the arguments given (``--data-dir``, ``--data-uri``, ``--out``). The session is the one
spark-submit configured (its ``--master`` and ``--conf`` win). See README, "Facts on Apache Spark".
"""

import sys
from pathlib import Path

# the package travels in --py-files (a zip on sys.path); from a checkout, the project root serves
sys.path.append(str(Path(__file__).resolve().parents[1]))

from data_layers.cli import main  # after the path is set

if __name__ == "__main__":
    sys.exit(main(["facts", "--engine", "spark", *sys.argv[1:]]))
