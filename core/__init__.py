"""Latent Lab core: datasets, autoencoders, the PCA baseline, training, the checkpoint cache and
analysis. No Streamlit here: the dashboard is a thin layer on top."""
