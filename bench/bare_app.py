"""The floor for part 4: the least a Streamlit slider -> decoded image can cost.

One slider in an ``st.fragment`` decodes a code through a tiny linear layer (torch, inference mode)
into an 8x8 image, shown the way the Decoder playground shows its image: a nearest-neighbour PNG about
220 px wide through ``st.image(..., output_format="PNG")`` with a caption. No sidebar, no pages, no
caches. Run: ``streamlit run bench/bare_app.py``.
"""

import io

import numpy as np
import streamlit as st
import torch
from PIL import Image

CAPTION = "bare decoder decodes this code"


@st.cache_resource
def decoder() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.Sigmoid()).eval()


def png(image: np.ndarray, size: int = 220) -> bytes:
    array = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    pil = Image.fromarray(array)
    scale = max(1, round(size / max(pil.size)))
    pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


st.title("Bare slider")


@st.fragment
def playground():
    value = st.slider("code 1", -3.0, 3.0, 0.0, 0.06, format="%.2f", key="bare_code")
    with torch.inference_mode():
        image = decoder()(torch.tensor([[value, 0.5]], dtype=torch.float32)).numpy().reshape(8, 8)
    st.image(png(image), caption=CAPTION, output_format="PNG")


playground()
