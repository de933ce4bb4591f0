"""datalicense: license data on Rootstock."""
