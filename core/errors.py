"""The project's exceptions in one light module (no torch import), so the CLI can catch them cheaply.
Each message says what went wrong and what to do."""


class DatasetError(RuntimeError):
    """A dataset cannot be loaded; the message names what is missing and how to get it."""


class CheckpointError(RuntimeError):
    """A checkpoint is corrupt or does not match its config; the message names the folder and the fix."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; nothing was saved."""


class UploadError(ValueError):
    """An uploaded file cannot be used; the message says why and what to do."""
