"""bench/bare_app.py as dashboard/serve.py serves the dashboard: behind dashboard.static_cache (bench part visits)."""

import streamlit as st
from starlette.middleware import Middleware

from dashboard.static_cache import StaticCache

app = st.App("bare_app.py", middleware=[Middleware(StaticCache)])
