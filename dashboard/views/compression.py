import streamlit as st
st.title("compression")
