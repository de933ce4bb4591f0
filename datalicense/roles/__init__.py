"""roles: see datalicense/__init__.py for the layers."""
