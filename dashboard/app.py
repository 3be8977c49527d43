"""The dashboard's Streamlit script: `upravdolg dashboard` runs `streamlit run dashboard/app.py`."""

from dashboard.shell import main

main()
