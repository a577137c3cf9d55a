"""axsim: a transaction-level simulator of approximate DNN accelerators (time in integer cycles)."""

__version__ = "0.1.0"
