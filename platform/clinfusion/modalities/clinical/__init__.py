"""Clinical table: outcomes and covariates, one row per patient."""
