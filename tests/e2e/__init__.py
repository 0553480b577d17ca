"""Helpers shared by the dashboard tests: a tiny pre-trained model cache, the app on a free port,
and a headless Chromium."""
