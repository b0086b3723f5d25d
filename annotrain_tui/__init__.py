"""annotrain: run an annotator-training programme on Encord from the keyboard."""

__version__ = "0.1.0"
