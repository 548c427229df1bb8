"""HTML views, one module per area: workspace (annotating), statistics, curation, tokens."""
