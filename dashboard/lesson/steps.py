"""The lesson path: "PCA vs autoencoders" in eight steps, as data.

A step names a page element (see :mod:`dashboard.lesson.elements`) with its settings, the model it
needs from the default zoo, and its words: a title, one line of what to notice, and one question for
the class. It never copies a page. The Lesson page and the static lesson both read this list, so the
two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelNeed:
    """The model a step shows: a default zoo model (family, latent size, denoising or not).

    Attributes
    ----------
    family : str
        A registry name (``core.models.methods``): 'conv', 'linear', ...
    latent_dim : int
    denoising : bool
        The zoo's denoising variant of that model.
    """

    family: str
    latent_dim: int
    denoising: bool = False

    def train_command(self, dataset: str) -> str:
        """The command that trains it (the zoo command covers the zoo's models)."""
        noise = " --noise gaussian:0.3" if self.denoising else ""
        return (f"python -m core train --dataset {dataset} --model {self.family} "
                f"--latent-dim {self.latent_dim}{noise}")


@dataclass(frozen=True)
class LessonStep:
    """One screen of the lesson.

    Attributes
    ----------
    slug : str
        Its name in a link (``/lesson?step=<slug>``).
    title : str
    element : str
        The page element it shows (a key of ``dashboard.lesson.elements.ELEMENTS``).
    notice : str
        "What to notice": one line.
    question : str
        One question for the class.
    model : ModelNeed or None
        The model it needs, if any.
    settings : dict
        The element's settings (e.g. how many eigen-images).
    """

    slug: str
    title: str
    element: str
    notice: str
    question: str
    model: ModelNeed | None = None
    settings: dict = field(default_factory=dict)


TWO_D_CONV = ModelNeed("conv", 2)

LESSON: tuple[LessonStep, ...] = (
    LessonStep(
        "numbers", "An image is many numbers", "pixels",
        "Each pixel is one number between 0 (black) and 1 (white): this small image is already dozens of numbers, "
        "and a phone photo is millions.",
        "If every image is a point in a space with one axis per pixel, how many axes does this space have?",
        settings={"image": 0}),
    LessonStep(
        "directions", "PCA finds the directions images vary along", "eigen_images",
        "Every image is the mean image plus a few fixed patterns (the principal components), each scaled by one "
        "number; the first few patterns carry most of the variation.",
        "How many components does it take to keep 90 % of the variation?",
        settings={"components": 8}),
    LessonStep(
        "pca-map", "PCA's 2-D map", "pixel_map",
        "Keeping only the first two numbers of PCA puts every image on a plane: some classes form islands, "
        "others pile on top of each other.",
        "Which classes does PCA keep apart, and which does it mix up?"),
    LessonStep(
        "ae-map", "An autoencoder's map with the same two numbers", "model_map",
        "Same budget, two numbers per image: the autoencoder's code is learned, not a projection, so it can bend "
        "the space and pull classes apart.",
        "Both maps use two numbers per image: why can the autoencoder separate the classes better?",
        model=TWO_D_CONV),
    LessonStep(
        "decode", "Move the code, watch the image", "live_sliders",
        "Drag a slider: the decoder redraws the image as you move; PCA makes the same move beside it and can only "
        "fade one fixed pattern in or out.",
        "What happens when you drag the code far outside the range the training images use?",
        model=TWO_D_CONV),
    LessonStep(
        "linear", "A linear autoencoder lands on PCA", "linear_vs_pca",
        "An autoencoder with no non-linearity and a squared-error loss can do no better than PCA: it learns the "
        "same plane (Baldi & Hornik, 1989), the angle between the two planes shrinks towards 0.",
        "If a linear autoencoder only finds PCA again, what does the non-linearity buy?",
        model=ModelNeed("linear", 2)),
    LessonStep(
        "denoising", "Cleaning noisy images", "denoising",
        "Trained to rebuild clean images from noisy ones, the denoising autoencoder removes noise it has never seen "
        "in these images; PCA with as many numbers keeps more of the noise.",
        "Why does squeezing an image through a few numbers remove noise at all?",
        model=ModelNeed("conv", 8, denoising=True), settings={"level": 0.3, "kind": "gaussian"}),
    LessonStep(
        "bits", "What an image costs in bits", "rate_distortion",
        "Storing the code instead of the pixels is compression: at the same number of bits per image, compare the "
        "error of the autoencoder's code, PCA's code and JPEG.",
        "At how many bits per image does each method become good enough for you?",
        model=ModelNeed("conv", 8)),
)


def step_index(slug: str | None) -> int | None:
    """The position of the step called ``slug`` (None for an unknown name)."""
    return next((i for i, s in enumerate(LESSON) if s.slug == slug), None)
