"""Bit errors: error-rate models of links and SRAM, error exposure of tensor elements, injection.

Pure numpy (no simpy). ``simulator/errors.py`` holds the user-facing exceptions; this
package holds the hardware fault models.
"""
