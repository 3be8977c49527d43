"""The supervisors' Streamlit dashboard (Russian UI, behind a login): see dashboard/README.md."""
