"""Pure computations for labeling analytics (no Django): derived rates, projections, CSV safety, chart geometry."""
