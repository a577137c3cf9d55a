"""Accuracy of networks with trained weights (pure numpy, no simpy).

* :mod:`.quant`: affine int8 quantization with onnxruntime's QLinear integer semantics;
* :mod:`.model`: a quantized network (workload graph + int8 weights file);
* :mod:`.engine`: int8 inference through the MAC configurations' kernels, per-PE work
  units and a corruption hook per data structure;
* :mod:`.evaluate`: datasets, accuracy, Monte Carlo loss with confidence intervals,
  per-layer output error;
* :mod:`.onnx_import` / :mod:`.onnx_qgraph`: ONNX models to workloads and weights.

See ``docs/accuracy.md``.
"""
