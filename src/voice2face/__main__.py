"""Allow `python -m voice2face ...` (and `torchrun -m voice2face ...`)."""

from voice2face.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
