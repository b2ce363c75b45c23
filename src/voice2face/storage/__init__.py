"""Files on disk: where runs and model folders keep what they write, and how it is written."""
