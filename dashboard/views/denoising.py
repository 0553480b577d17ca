import streamlit as st
st.title("denoising")
