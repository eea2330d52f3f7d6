"""The dashboard's pages. Each module is a Streamlit page script (run by ``st.navigation``)
whose ``render()`` draws the page; importing a module draws nothing."""
