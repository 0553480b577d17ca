"""Latent Lab core: datasets, autoencoders, the PCA baseline, training, the checkpoint cache and
analysis. No Streamlit here: the dashboard is a thin layer on top."""

import os

# OpenMP threads that spin while they wait are ruinous when other processes share the cores (a
# dashboard, a test run and a training on 2 cores): bench/NOTES.md measured the 2-thread training
# loop 5.8x faster with passive waiting on a busy machine and no slower on a quiet one. It must be set
# before torch is imported, which every torch-using core module does after this package's __init__.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
