"""Serving GapLens from several app processes behind nginx (see README, "Deployment behind nginx")."""
