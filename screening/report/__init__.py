"""The self-contained HTML report of a run folder; it reads what the run saved and recomputes nothing."""

from magnetscreen.screening.report.render import DEFAULT_TOP_N, ReportError, render_report, write_report

__all__ = ["DEFAULT_TOP_N", "ReportError", "render_report", "write_report"]
