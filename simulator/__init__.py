"""axsim: a cycle-level simulator of approximate DNN accelerators."""

__version__ = "0.1.0"
