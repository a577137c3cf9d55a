"""Configuration: typed, frozen, validated models of architecture files and technology tables."""
from simulator.config.arch import Arch
from simulator.config.loader import config_hash, cross_check, load_arch, load_tech
from simulator.config.tech import TechTable

__all__ = ["Arch", "TechTable", "config_hash", "cross_check", "load_arch", "load_tech"]
