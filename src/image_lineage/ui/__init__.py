"""The Streamlit parts of the page, one module per part; ``app.py`` calls each in one line."""
