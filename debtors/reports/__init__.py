"""The report engine: builders (registry.py) make a format-neutral :class:`~debtors.reports.model.Report`;
outlets (outlets.py: CSV, XLSX, PDF) write it. The CLI, the dashboard and the monthly run share this one
code path (docs/reports.md)."""
