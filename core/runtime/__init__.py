"""The browser/ONNX runtime: decoders and encoders exported to ONNX, and the ONNX Runtime codec the
pages run instead of torch."""
