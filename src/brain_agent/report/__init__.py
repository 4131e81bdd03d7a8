"""Reports written to files for people to look at: ``runs show RUN --plot FILE`` (a self-contained HTML
page of cumulative PnL charts, :mod:`brain_agent.report.pnl_page`)."""
