"""Weight compression: exact compressed sizes of real int8 weights (lossless and lossy schemes)."""
from simulator.compress.codecs import Compressed, huffman, lowbits, prune, zrle, zrle_decode

__all__ = ["Compressed", "huffman", "lowbits", "prune", "zrle", "zrle_decode"]
