"""The store: checkpoints on disk with their records, the derived values kept beside them, and what
trains into the store (load-or-train, background jobs, the default zoo)."""
